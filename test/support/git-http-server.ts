// A real smart-HTTP git server for tests: a node HTTP server on 127.0.0.1 that checks HTTP basic
// auth and hands every request to the git binary's own CGI, `git http-backend`, over bare
// repositories in a temporary project root. Fetch and push therefore meet real git on the wire,
// including its own compare-and-swap of ref updates.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGit } from './temp-repo';
import { endChildInput } from './child-input';

export interface GitServerRequest {
  method: string;
  path: string;
  query: string;
  /** Whether the request carried the right credentials. */
  authorized: boolean;
  /** The Basic credential sent, decoded, or undefined. */
  username?: string;
  password?: string;
}

export interface GitHttpServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Directory holding the bare repositories (`<owner>/<name>.git`). */
  projectRoot: string;
  /** Every request, in order. */
  requests: GitServerRequest[];
  /** A bare copy of the repository at `sourceDir`, served at `<url>/<owner>/<name>.git`; returns its URL. */
  addRepository(owner: string, name: string, sourceDir: string): string;
  /** Runs the git binary in a served bare repository. */
  git(owner: string, name: string, ...args: string[]): string;
  /** Replaces the accepted password. */
  setPassword(password: string): void;
  close(): Promise<void>;
}

export interface GitHttpServerOptions {
  /** The password (token) every request must carry; the user name is not checked. */
  password: string;
}

export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const projectRoot = mkdtempSync(join(tmpdir(), 'cahoots-git-server-'));
  const requests: GitServerRequest[] = [];
  let password = options.password;

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const credential = parseBasic(request.headers.authorization);
    const authorized = credential?.password === password;
    requests.push({ method: request.method ?? 'GET', path: url.pathname, query: url.search.slice(1), authorized, ...credential });
    if (!authorized) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="cahoots-test-git"', 'content-type': 'text/plain' });
      response.end('authentication required\n');
      return;
    }
    const body = await readBody(request);
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: request.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        CONTENT_LENGTH: String(body.length),
        REMOTE_USER: credential?.username ?? 'cahoots',
        REMOTE_ADDR: '127.0.0.1',
        ...(request.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: request.headers['content-encoding'] } : {}),
        ...(request.headers['git-protocol'] ? { GIT_PROTOCOL: String(request.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    cgi.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    cgi.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    endChildInput(cgi.stdin, body);
    const code = await new Promise<number | null>((resolve, reject) => {
      cgi.on('error', reject);
      cgi.on('close', resolve);
    });
    const output = Buffer.concat(out);
    const split = headerEnd(output);
    if (split.index < 0) {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`git http-backend failed (exit ${String(code)}): ${Buffer.concat(err).toString()}`);
      return;
    }
    const headerText = output.subarray(0, split.index).toString('latin1');
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of headerText.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    response.writeHead(status, headers);
    response.end(output.subarray(split.index + split.length));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    projectRoot,
    requests,
    addRepository(owner, name, sourceDir) {
      const target = join(projectRoot, owner, `${name}.git`);
      runGit(projectRoot, ['clone', '--quiet', '--bare', sourceDir, target]);
      // Pushes over HTTP are allowed because the server authenticated the user (REMOTE_USER); say so explicitly anyway.
      runGit(target, ['config', 'http.receivepack', 'true']);
      return `${url}/${owner}/${name}.git`;
    },
    git(owner, name, ...args) {
      return runGit(join(projectRoot, owner, `${name}.git`), args);
    },
    setPassword(next) {
      password = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(projectRoot, { recursive: true, force: true });
    },
  };
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const match = header?.match(/^Basic\s+(\S+)$/i);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Where the CGI header block ends (a blank line, CRLF or LF). */
function headerEnd(output: Buffer): { index: number; length: number } {
  const crlf = output.indexOf('\r\n\r\n');
  const lf = output.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { index: crlf, length: 4 };
  return lf >= 0 ? { index: lf, length: 2 } : { index: -1, length: 0 };
}
