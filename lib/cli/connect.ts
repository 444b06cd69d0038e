// Decides where a command's API calls go: a deployed API (--endpoint, SigV4), the `cahoots dev`
// server that holds the data directory (its dev.json), or — when nothing runs — the data
// directory itself, opened in this process with the route handlers called directly.
import { join } from 'node:path';
import { setApiDependencies, resetApiDependencies } from '../api/dependencies';
import { LOCAL_PRINCIPAL, serveLocalApiRequest } from '../local/http-server';
import type { PipelineStarter, TaskCallbacks } from '../ports/index';
import { CahootsApiClient, HttpTransport, type ApiRequest, type ApiResponse, type ApiTransport } from './api-client';
import { hasLocalData, lockDataDir, readDevServerInfo, resolveDataDir } from './data-dir';
import { CommandFailedError } from './errors';
import { createSigV4Signer, parseEndpoint, regionOfEndpoint } from './sigv4';

/** Calls the route handlers in this process, exactly as the local server would. */
export class InProcessTransport implements ApiTransport {
  constructor(
    readonly description: string,
    private readonly principal = LOCAL_PRINCIPAL,
  ) {}

  async send(request: ApiRequest): Promise<ApiResponse> {
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const result = await serveLocalApiRequest({
      method: request.method,
      path: request.path,
      query: request.query ?? {},
      headers: { ...request.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
      principal: this.principal,
    });
    return { status: result.statusCode, body: result.body ? (JSON.parse(result.body) as unknown) : undefined };
  }
}

/** No pipeline runs in a process that only opened the data directory to read it. */
export class NoLocalRuntimeError extends CommandFailedError {
  override readonly code = 'NoLocalRuntime';
}

const detachedPipeline: PipelineStarter = {
  startGoal() {
    return Promise.reject(new NoLocalRuntimeError('no pipeline runs here: start `cahoots dev` to run goals'));
  },
  // Nothing of this data directory runs anywhere, so there is nothing to stop.
  stopGoal: () => Promise.resolve(),
};

const detachedCallbacks: TaskCallbacks = {
  succeed: () => Promise.reject(new NoLocalRuntimeError('no pipeline waits here: start `cahoots dev` to resume the goal')),
  fail: () => Promise.reject(new NoLocalRuntimeError('no pipeline waits here: start `cahoots dev` to resume the goal')),
  heartbeat: () => Promise.resolve(),
};

export type ConnectionKind = 'endpoint' | 'dev-server' | 'data-dir';

export interface Connection {
  client: CahootsApiClient;
  kind: ConnectionKind;
  /** Where the data is, for messages: a URL or a directory. */
  where: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  endpoint?: string;
  dataDir?: string;
  /** Name of the command, written into the lock file. */
  command: string;
}

export async function connect(options: ConnectOptions): Promise<Connection> {
  if (options.endpoint) {
    const url = parseEndpoint(options.endpoint);
    const signer = createSigV4Signer({ region: regionOfEndpoint(url) });
    return { client: new CahootsApiClient(new HttpTransport(url.toString(), signer)), kind: 'endpoint', where: url.toString(), close: async () => {} };
  }
  const dataDir = resolveDataDir(options.dataDir);
  const dev = readDevServerInfo(dataDir);
  if (dev) return { client: new CahootsApiClient(new HttpTransport(dev.url)), kind: 'dev-server', where: dev.url, close: async () => {} };
  if (!hasLocalData(dataDir)) {
    throw new CommandFailedError(`no Cahoots data in ${dataDir}: run \`cahoots dev\` (or \`cahoots run --data-dir ${dataDir}\`) there first, or pass --data-dir or --endpoint`);
  }
  const lock = lockDataDir(dataDir, options.command);
  try {
    // The database and the runtime's table name are needed only on this path.
    const [{ startDynalite }, { LOCAL_TABLE_NAME }, { createStore }] = await Promise.all([import('../local/dynalite'), import('../local/runtime'), import('../store/index')]);
    const dynamo = await startDynalite({ tableName: LOCAL_TABLE_NAME, path: join(dataDir, 'dynamodb') });
    setApiDependencies({ store: createStore(dynamo.store), pipeline: detachedPipeline, callbacks: detachedCallbacks });
    return {
      client: new CahootsApiClient(new InProcessTransport(dataDir)),
      kind: 'data-dir',
      where: dataDir,
      async close() {
        resetApiDependencies();
        await dynamo.stop();
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
