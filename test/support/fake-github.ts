// A local stand-in for the GitHub REST API on 127.0.0.1, speaking GitHub's real paths, status codes
// and payload shapes for the calls Cahoots makes: the repository, pull requests (list by head,
// create, update), issues (list by label, paginated with a Link header as GitHub does), issue
// comments, collaborator permissions and GitHub App installation tokens
// (the app's JWT is verified with its public key, as GitHub does). Every request is recorded.
import { createVerify, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedGitHubRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The credential after `token`/`bearer`, or undefined. */
  credential?: string;
}

export interface FakePullRequest {
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string;
  head: string;
  base: string;
  owner: string;
  repo: string;
}

export interface FakeComment {
  id: number;
  owner: string;
  repo: string;
  issueNumber: number;
  body: string;
}

/** An issue in a repository; `pullRequest` marks one the issues API lists because it is a pull request. */
export interface FakeIssue {
  number: number;
  owner: string;
  repo: string;
  state: 'open' | 'closed';
  title: string;
  body?: string | null;
  labels: string[];
  pullRequest?: boolean;
  /** ISO timestamp; the listing sorts by it. Defaults to a fixed date. */
  updatedAt?: string;
}

export interface FakeGitHubApp {
  appId: number;
  /** PEM public key matching the private key the app signs its JWTs with. */
  publicKey: string;
  installationId: number;
  /** Lifetime of minted installation tokens; GitHub's is one hour. */
  tokenLifetimeMs?: number;
  /** The n-th (1-based) minted token; random `ghs_…` by default. A test git server may need to know it. */
  tokenFor?: (n: number) => string;
  /** Clock for `expires_at`, so a test that moves its client's clock moves GitHub's too. */
  now?: () => number;
}

export interface FakeGitHubOptions {
  /** Tokens accepted as `Authorization: token|bearer <t>` (installation tokens are added as they are minted). */
  tokens: string[];
  repositories: Array<{ owner: string; name: string; defaultBranch?: string; push?: boolean }>;
  /** login → permission (`admin`, `maintain`, `write`, `triage`, `read`); others are not collaborators. */
  collaborators?: Record<string, string>;
  app?: FakeGitHubApp;
  /** Issues (and pull requests as the issues API lists them); the returned `issues` array is this one, so a test can close one. */
  issues?: FakeIssue[];
}

export interface FakeGitHub {
  /** Base URL for Octokit (`baseUrl`), e.g. http://127.0.0.1:1234/api/v3 */
  apiUrl: string;
  requests: RecordedGitHubRequest[];
  pulls: FakePullRequest[];
  comments: FakeComment[];
  issues: FakeIssue[];
  /** Installation tokens minted, oldest first. */
  mintedTokens: string[];
  /** Accept another token. */
  allowToken(token: string): void;
  close(): Promise<void>;
}

const API_PREFIX = '/api/v3';
const HTML_BASE = 'https://github.example.test';
const FAKE_ISSUE_DATE = '2026-01-01T00:00:00Z';

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const tokens = new Set(options.tokens);
  const requests: RecordedGitHubRequest[] = [];
  const pulls: FakePullRequest[] = [];
  const comments: FakeComment[] = [];
  const mintedTokens: string[] = [];
  const issues: FakeIssue[] = options.issues ?? [];

  const send = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json' });
    response.end(JSON.stringify(body));
  };
  const notFound = (response: ServerResponse) => send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  const badCredentials = (response: ServerResponse) =>
    send(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });

  const repoPayload = (repo: FakeGitHubOptions['repositories'][number]) => ({
    id: 1000 + options.repositories.indexOf(repo),
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    owner: { login: repo.owner, id: 1, type: 'Organization' },
    private: true,
    html_url: `${HTML_BASE}/${repo.owner}/${repo.name}`,
    clone_url: `${HTML_BASE}/${repo.owner}/${repo.name}.git`,
    default_branch: repo.defaultBranch ?? 'main',
    permissions: { admin: false, maintain: false, push: repo.push ?? true, triage: true, pull: true },
  });
  const pullPayload = (pr: FakePullRequest) => ({
    id: 5000 + pr.number,
    number: pr.number,
    state: pr.state,
    title: pr.title,
    body: pr.body,
    html_url: `${HTML_BASE}/${pr.owner}/${pr.repo}/pull/${pr.number}`,
    url: `${HTML_BASE}/api/v3/repos/${pr.owner}/${pr.repo}/pulls/${pr.number}`,
    head: { ref: pr.head, label: `${pr.owner}:${pr.head}` },
    base: { ref: pr.base, label: `${pr.owner}:${pr.base}` },
    user: { login: 'cahoots[bot]', type: 'Bot' },
    merged: false,
    draft: false,
  });

  const issuePayload = (issue: FakeIssue) => {
    const kind = issue.pullRequest ? 'pull' : 'issues';
    const updatedAt = issue.updatedAt ?? FAKE_ISSUE_DATE;
    return {
      id: 7000 + issue.number,
      number: issue.number,
      state: issue.state,
      title: issue.title,
      body: issue.body ?? null,
      html_url: `${HTML_BASE}/${issue.owner}/${issue.repo}/${kind}/${issue.number}`,
      url: `${HTML_BASE}/api/v3/repos/${issue.owner}/${issue.repo}/issues/${issue.number}`,
      labels: issue.labels.map((name, index) => ({ id: 300 + index, name, color: 'ededed', default: false })),
      user: { login: 'someone', type: 'User' },
      created_at: FAKE_ISSUE_DATE,
      updated_at: updatedAt,
      ...(issue.pullRequest ? { pull_request: { url: `${HTML_BASE}/api/v3/repos/${issue.owner}/${issue.repo}/pulls/${issue.number}` } } : {}),
    };
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const text = await readBody(request);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      send(response, 400, { message: 'Problems parsing JSON' });
      return;
    }
    const credential = request.headers.authorization?.match(/^(?:token|bearer)\s+(\S+)$/i)?.[1];
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const method = request.method ?? 'GET';
    requests.push({ method, path, query: Object.fromEntries(url.searchParams), body, ...(credential ? { credential } : {}) });

    // The one call authenticated by the app's JWT instead of a token.
    const minting = path.match(/^\/app\/installations\/(\d+)\/access_tokens$/);
    if (minting && method === 'POST') {
      const app = options.app;
      if (!app || !credential || !verifyAppJwt(credential, app)) {
        send(response, 401, { message: 'A JSON web token could not be decoded', documentation_url: 'https://docs.github.com/rest' });
        return;
      }
      if (Number(minting[1]) !== app.installationId) {
        notFound(response);
        return;
      }
      const token = app.tokenFor?.(mintedTokens.length + 1) ?? `ghs_${randomBytes(18).toString('base64url')}`;
      tokens.add(token);
      mintedTokens.push(token);
      const expiresAt = new Date((app.now ?? Date.now)() + (app.tokenLifetimeMs ?? 3_600_000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
      send(response, 201, { token, expires_at: expiresAt, permissions: { contents: 'write', pull_requests: 'write', issues: 'write' }, repository_selection: 'selected' });
      return;
    }

    if (!credential || !tokens.has(credential)) {
      badCredentials(response);
      return;
    }

    const repoMatch = path.match(/^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/);
    const repo = repoMatch ? options.repositories.find((r) => r.owner === repoMatch[1] && r.name === repoMatch[2]) : undefined;
    if (!repoMatch || !repo) {
      notFound(response);
      return;
    }
    const rest = repoMatch[3] ?? '';
    const { owner, name } = repo;

    if (rest === '' && method === 'GET') {
      send(response, 200, repoPayload(repo));
      return;
    }
    if (rest === '/pulls' && method === 'GET') {
      const state = url.searchParams.get('state') ?? 'open';
      const head = url.searchParams.get('head');
      const found = pulls.filter(
        (pr) => pr.owner === owner && pr.repo === name && (state === 'all' || pr.state === state) && (!head || `${pr.owner}:${pr.head}` === head),
      );
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      send(response, 200, found.slice(0, perPage).map(pullPayload));
      return;
    }
    if (rest === '/pulls' && method === 'POST') {
      const input = body as Partial<Record<'title' | 'body' | 'head' | 'base', string>> | undefined;
      if (!input?.title || !input.head || !input.base) {
        send(response, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'missing_field' }] });
        return;
      }
      const head = input.head.includes(':') ? input.head.split(':')[1] ?? input.head : input.head;
      if (pulls.some((pr) => pr.owner === owner && pr.repo === name && pr.state === 'open' && pr.head === head)) {
        send(response, 422, {
          message: 'Validation Failed',
          errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }],
        });
        return;
      }
      const pr: FakePullRequest = { number: pulls.length + 1, state: 'open', title: input.title, body: input.body ?? '', head, base: input.base, owner, repo: name };
      pulls.push(pr);
      send(response, 201, pullPayload(pr));
      return;
    }
    if (rest === '/issues' && method === 'GET') {
      const state = url.searchParams.get('state') ?? 'open';
      // `labels` is a comma-separated list; an issue must carry every one.
      const wanted = (url.searchParams.get('labels') ?? '').split(',').filter((label) => label !== '');
      const direction = url.searchParams.get('direction') ?? 'desc';
      const found = issues
        .filter((issue) => issue.owner === owner && issue.repo === name && (state === 'all' || issue.state === state))
        .filter((issue) => wanted.every((label) => issue.labels.includes(label)))
        .sort((a, b) => {
          const order = (a.updatedAt ?? FAKE_ISSUE_DATE).localeCompare(b.updatedAt ?? FAKE_ISSUE_DATE) || a.number - b.number;
          return direction === 'asc' ? order : -order;
        });
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
      const page = Number(url.searchParams.get('page') ?? 1);
      const slice = found.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < found.length) {
        const next = new URL(url.href);
        next.host = request.headers.host ?? next.host;
        next.searchParams.set('page', String(page + 1));
        headers.link = `<${next.href}>; rel="next"`;
      }
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(JSON.stringify(slice.map(issuePayload)));
      return;
    }
    const pullMatch = rest.match(/^\/pulls\/(\d+)$/);
    if (pullMatch && method === 'PATCH') {
      const pr = pulls.find((p) => p.owner === owner && p.repo === name && p.number === Number(pullMatch[1]));
      if (!pr) {
        notFound(response);
        return;
      }
      const input = (body ?? {}) as Partial<Record<'title' | 'body' | 'state', string>>;
      if (input.title !== undefined) pr.title = input.title;
      if (input.body !== undefined) pr.body = input.body;
      if (input.state === 'open' || input.state === 'closed') pr.state = input.state;
      send(response, 200, pullPayload(pr));
      return;
    }
    const commentMatch = rest.match(/^\/issues\/(\d+)\/comments$/);
    if (commentMatch && method === 'POST') {
      const text = (body as { body?: string } | undefined)?.body;
      if (!text) {
        send(response, 422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }] });
        return;
      }
      const comment: FakeComment = { id: 9000 + comments.length, owner, repo: name, issueNumber: Number(commentMatch[1]), body: text };
      comments.push(comment);
      send(response, 201, {
        id: comment.id,
        body: text,
        html_url: `${HTML_BASE}/${owner}/${name}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
        user: { login: 'cahoots[bot]', type: 'Bot' },
      });
      return;
    }
    const permissionMatch = rest.match(/^\/collaborators\/([^/]+)\/permission$/);
    if (permissionMatch && method === 'GET') {
      const login = decodeURIComponent(permissionMatch[1] ?? '');
      const permission = options.collaborators?.[login];
      if (!permission) {
        send(response, 404, { message: `${login} is not a user`, documentation_url: 'https://docs.github.com/rest' });
        return;
      }
      // GitHub reports maintain as write and triage as read in `permission`; role_name is exact.
      const legacy = permission === 'maintain' ? 'write' : permission === 'triage' ? 'read' : permission;
      send(response, 200, { permission: legacy, role_name: permission, user: { login, type: 'User' } });
      return;
    }
    notFound(response);
  }

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => send(response, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${API_PREFIX}`;
  return {
    apiUrl,
    requests,
    pulls,
    comments,
    issues,
    mintedTokens,
    allowToken: (token) => tokens.add(token),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** RS256 JWT issued by the app (`iss` = app id), not expired, signed with its private key. */
function verifyAppJwt(jwt: string, app: FakeGitHubApp): boolean {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return false;
  try {
    const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown; exp?: number; iat?: number };
    if (head.alg !== 'RS256' || String(claims.iss) !== String(app.appId)) return false;
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp < now || typeof claims.iat !== 'number' || claims.exp - claims.iat > 600 + 60) return false;
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    return verifier.verify(app.publicKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
