// The local stand-in for API Gateway: a node:http server on the loopback interface that turns each
// request into the API Gateway event the deployed handlers get (lib/local/api-router.ts), with the same
// body limit and error envelope, and one local-only listing of projects for the CLI.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { apiDependencies } from '../api/dependencies';
import { errorResult, PayloadTooLargeError } from '../api/errors';
import { jsonResponse } from '../api/http';
import { MAX_BODY_BYTES } from '../api/schemas';
import type { Project } from '../domain/project';
import { logger } from '../powertools';
import { routeHttpRequest } from './api-router';
import type { HttpRequestInput } from './proxy-event';
import { LocalRuntimeError } from './errors';

/** Who the local server says is calling: there is no IAM here, so every caller is this one user. */
export const LOCAL_PRINCIPAL = 'local-user';

/**
 * Lists every project. The deployed API has no such route (a cell's projects come from its
 * configuration); locally the CLI needs it for `cahoots status` and `cahoots cost`.
 */
export const LOCAL_PROJECTS_ROUTE = '/_local/projects';

/** Serves one request the way the local server does: the local listing, else the API's router. */
export async function serveLocalApiRequest(request: HttpRequestInput): Promise<APIGatewayProxyResult> {
  if (request.path === LOCAL_PROJECTS_ROUTE) {
    if (request.method.toUpperCase() !== 'GET') return jsonResponse(405, { error: { code: 'MethodNotAllowed', message: `${request.method} is not allowed on ${LOCAL_PROJECTS_ROUTE}` } }, { Allow: 'GET' });
    try {
      const { store } = await apiDependencies();
      const items: Project[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.projects.list({ limit: 100, ...(cursor ? { cursor } : {}) });
        items.push(...page.items);
        cursor = page.items.length > 0 ? page.cursor : undefined;
      } while (cursor);
      return jsonResponse(200, { items });
    } catch (error) {
      const failure = errorResult(error);
      return jsonResponse(failure.status, failure.body, failure.headers);
    }
  }
  return routeHttpRequest({ ...request, principal: request.principal ?? LOCAL_PRINCIPAL });
}

export interface LocalHttpServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only by default: the local API has no authentication. */
  host?: string;
  principal?: string;
}

export interface LocalHttpServer {
  url: string;
  port: number;
  server: Server;
  /** Stops accepting requests, lets those in flight finish, and closes the connections. */
  close(): Promise<void>;
}

export class BodyTooLargeError extends LocalRuntimeError {
  readonly code = 'BodyTooLarge';
  constructor(
    message: string,
    /** Whether the whole body was read, so the client is ready for the answer. */
    readonly drained: boolean,
  ) {
    super(message);
  }
}

/** The client closed the connection before its request body was complete. */
export class RequestAbortedError extends LocalRuntimeError {
  readonly code = 'RequestAborted';
}

/**
 * An oversized body is still read, and thrown away, up to this many bytes before the 413: a client
 * that is still sending when the server answers and closes gets a connection reset (EPIPE,
 * ECONNRESET) instead of the answer, as Node's fetch does for most bodies just over the limit.
 * Beyond this the server answers at once and drops the connection.
 */
export const MAX_DISCARDED_BODY_BYTES = 8 * 1024 * 1024;

// The server's own logger: the shared one carries the Lambda context of whichever handler ran
// last in this process, which would put a handler's function name on the server's lines.
export const localServerLogger = logger.createChild({ persistentKeys: { component: 'local-http-server' } });

export async function startLocalHttpServer(options: LocalHttpServerOptions = {}): Promise<LocalHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const principal = options.principal ?? LOCAL_PRINCIPAL;
  // Requests still being handled when the server closes finish first: their writes must land
  // before whoever closes the server stops the database.
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const work: Promise<void> = handle(req, res, principal)
      .catch((error: unknown) => {
        localServerLogger.error('local API server failed to answer', { error: error as Error });
        if (!res.headersSent) writeResult(res, jsonResponse(500, { error: { code: 'InternalError', message: 'the local server failed; see its log' } }));
        else res.destroy();
      })
      .catch((error: unknown) => localServerLogger.error('local API server could not send its error answer', { error: error as Error }))
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    server,
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.allSettled([...inFlight]);
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, principal: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_BODY_BYTES, MAX_DISCARDED_BODY_BYTES);
  } catch (error) {
    if (error instanceof RequestAbortedError) {
      // The client went away; there is nobody to answer and nothing failed here.
      localServerLogger.info('client closed the connection before the request body was complete', {
        method: req.method,
        path: req.url,
        reason: error.message,
      });
      return;
    }
    if (!(error instanceof BodyTooLargeError)) throw error;
    const failure = errorResult(new PayloadTooLargeError(MAX_BODY_BYTES));
    // Connection: close either way; a body that was not read to its end cannot be followed by
    // another request on this connection.
    writeResult(res, jsonResponse(failure.status, failure.body, { ...failure.headers, Connection: 'close' }));
    if (!error.drained) res.once('finish', () => req.socket.destroy());
    return;
  }
  const url = new URL(req.url ?? '/', 'http://local');
  const query: Record<string, string | string[]> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    query[name] = values.length === 1 ? (values[0] as string) : values;
  }
  const result = await serveLocalApiRequest({
    method: req.method ?? 'GET',
    path: url.pathname,
    query,
    headers: req.headers,
    ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
    principal,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  });
  writeResult(res, result);
}

/**
 * The request body, up to `limit` bytes. A longer one is read to its end and thrown away (up to
 * `discardLimit`) and then refused with BodyTooLargeError; a body the client stops sending midway
 * is a RequestAbortedError.
 */
function readBody(req: IncomingMessage, limit: number, discardLimit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > discardLimit) {
      reject(new BodyTooLargeError(`body of ${declared} bytes`, false));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > discardLimit) {
        req.pause();
        reject(new BodyTooLargeError(`body over ${discardLimit} bytes`, false));
        return;
      }
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      }
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(new BodyTooLargeError(`body of ${size} bytes`, true)) : resolve(Buffer.concat(chunks))));
    req.on('error', (error) => reject(new RequestAbortedError(`${error.message} after ${size} bytes`)));
    req.on('close', () => {
      if (!req.complete) reject(new RequestAbortedError(`connection closed after ${size} bytes`));
    });
  });
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  const payload = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '', 'utf8');
  res.writeHead(result.statusCode, { ...headers, 'Content-Length': String(payload.length) });
  res.end(payload);
}
