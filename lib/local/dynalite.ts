// Starts dynalite — a DynamoDB implementation in Node — on a free loopback port, in memory or on
// disk, and creates the Cahoots table in it. The local runtime and the tests use the real AWS SDK
// against it, so the store runs the same requests it runs against DynamoDB. This process's client
// reaches dynalite in-process by default (dynalite-transport.ts); the loopback endpoint serves
// other processes, and the `http` transport is kept to measure the difference (npm run bench).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { documentClientFor, type StoreConfig } from '../store/config';
import { createTable } from '../store/create-table';
import { DynaliteTransportError, InProcessDynaliteHandler, unsignedDynaliteAuth, type DynaliteRequestListener } from './dynalite-transport';

// dynalite ships no type declarations; this is the part of its API used here.
type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number; path?: string }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface LocalDynamo {
  /** DocumentClient with the marshalling options the repositories expect. */
  client: DynamoDBDocumentClient;
  /** The low-level client under it (table admin, raw commands). */
  dynamodb: DynamoDBClient;
  tableName: string;
  /** `http://127.0.0.1:<port>` — e.g. for AWS_ENDPOINT_URL_DYNAMODB in spawned processes. */
  endpoint: string;
  /** `{client, tableName}` ready for createStore / repository constructors. */
  store: StoreConfig;
  stop(): Promise<void>;
}

export interface StartDynaliteOptions {
  tableName?: string;
  /** A directory to keep the data in across restarts; in memory when absent. */
  path?: string;
  /**
   * How this process's client reaches dynalite: `in-process` (default) hands each request to
   * dynalite's request listener directly, unsigned; `http` goes through the loopback socket with
   * SigV4, the way another process (AWS_ENDPOINT_URL_DYNAMODB) does.
   */
  transport?: DynaliteTransport;
}

export type DynaliteTransport = 'in-process' | 'http';

export async function startDynalite(options: StartDynaliteOptions = {}): Promise<LocalDynamo> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  // Zero delays: nobody should wait for a simulated CREATING state.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const transport = options.transport ?? 'in-process';
  const dynamodb = new DynamoDBClient({
    // The in-process client names the listener's endpoint too: endpoint resolution stays the
    // SDK's, and nothing is sent there.
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
    ...(transport === 'in-process' ? { requestHandler: new InProcessDynaliteHandler(requestListenerOf(server)), httpAuthSchemes: unsignedDynaliteAuth() } : {}),
  });
  const tableName = options.tableName ?? `cahoots-${process.pid}-${port}`;
  const client = documentClientFor(dynamodb);
  try {
    // createTable leaves a table kept on disk from an earlier run as it is.
    await createTable(dynamodb, tableName);
  } catch (error) {
    dynamodb.destroy();
    await closeServer(server);
    throw error;
  }
  let stopped = false;
  return {
    client,
    dynamodb,
    tableName,
    endpoint,
    store: { client, tableName },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Drop keep-alive sockets first, or dynalite's graceful close waits for them to time out.
      dynamodb.destroy();
      server.closeAllConnections?.();
      await closeServer(server);
    },
  };
}

function requestListenerOf(server: Server): DynaliteRequestListener {
  const [listener] = server.listeners('request');
  if (typeof listener !== 'function') throw new DynaliteTransportError('dynalite created a server without a request listener to hand requests to');
  return listener as DynaliteRequestListener;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
