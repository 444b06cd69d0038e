// The local DynamoDB client reaches dynalite in-process (no socket, no signature) while other
// processes still reach the same data over the loopback endpoint with SigV4, as they would with
// AWS_ENDPOINT_URL_DYNAMODB. Everything here is the real SDK against a real dynalite.
import { ConditionalCheckFailedException, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { Readable } from 'node:stream';
import type { HttpSigner } from '@smithy/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InProcessDynaliteHandler, unsignedDynaliteAuth, DynaliteTransportError, type DynaliteRequestListener } from '../../lib/local/dynalite-transport';
import { documentClientFor } from '../../lib/store/config';
import { startDynalite, type LocalDynamo } from '../support/dynalite';

type DynaliteFactory = (options: { createTableMs?: number }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

const started: LocalDynamo[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((db) => db.stop()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function start(transport?: 'in-process' | 'http'): Promise<LocalDynamo> {
  const db = await startDynalite(transport ? { transport } : {});
  started.push(db);
  return db;
}

/** Leaves requests as they are: no Authorization header at all. */
const passThroughSigner: HttpSigner = { sign: (request) => Promise.resolve(request) };

/** A dynalite that never listens on a socket, and a client on the in-process handler. */
function unlistenedDynalite(options: { signed?: boolean } = {}): { client: DynamoDBClient; server: Server } {
  const server = dynalite({ createTableMs: 0 });
  servers.push(server);
  const [listener] = server.listeners('request');
  const client = new DynamoDBClient({
    endpoint: 'http://127.0.0.1:9',
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new InProcessDynaliteHandler(listener as DynaliteRequestListener),
    ...(options.signed === false ? { httpAuthSchemes: [{ ...unsignedDynaliteAuth()[0]!, signer: passThroughSigner }] } : { httpAuthSchemes: unsignedDynaliteAuth() }),
  });
  return { client, server };
}

describe('the in-process transport to dynalite', () => {
  it('serves requests from a dynalite that has no socket at all', async () => {
    const { client, server } = unlistenedDynalite();
    expect(server.listening).toBe(false);
    const tables = await client.send(new ListTablesCommand({}));
    expect(tables.TableNames).toEqual([]);
  });

  it('is what startDynalite gives by default, with the loopback endpoint still listening for other processes', async () => {
    const db = await start();
    expect(db.dynamodb.config.requestHandler).toBeInstanceOf(InProcessDynaliteHandler);
    expect(Number(new URL(db.endpoint).port)).toBeGreaterThan(0);
    await db.client.send(new PutCommand({ TableName: db.tableName, Item: { PK: 'p', SK: 's', n: 1 } }));
    const read = await db.client.send(new GetCommand({ TableName: db.tableName, Key: { PK: 'p', SK: 's' } }));
    expect(read.Item).toEqual({ PK: 'p', SK: 's', n: 1 });
  });

  it('returns service errors as the SDK error classes', async () => {
    const db = await start();
    await db.client.send(new PutCommand({ TableName: db.tableName, Item: { PK: 'p', SK: 's' } }));
    const again = db.client.send(new PutCommand({ TableName: db.tableName, Item: { PK: 'p', SK: 's' }, ConditionExpression: 'attribute_not_exists(PK)' }));
    await expect(again).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(again).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('shares its data with a process that reaches dynalite through AWS_ENDPOINT_URL_DYNAMODB, signed', async () => {
    const db = await start();
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', db.endpoint);
    // Built like the deployed store's default client: endpoint and region from the environment.
    const overHttp = documentClientFor(new DynamoDBClient({}));
    try {
      await db.client.send(new PutCommand({ TableName: db.tableName, Item: { PK: 'written', SK: 'in-process' } }));
      expect((await overHttp.send(new GetCommand({ TableName: db.tableName, Key: { PK: 'written', SK: 'in-process' } }))).Item).toEqual({ PK: 'written', SK: 'in-process' });
      await overHttp.send(new PutCommand({ TableName: db.tableName, Item: { PK: 'written', SK: 'over-http' } }));
      expect((await db.client.send(new GetCommand({ TableName: db.tableName, Key: { PK: 'written', SK: 'over-http' } }))).Item).toEqual({ PK: 'written', SK: 'over-http' });
    } finally {
      overHttp.destroy();
    }
  });

  it('keeps the socket transport selectable: the same requests over loopback HTTP with SigV4', async () => {
    const db = await start('http');
    expect(db.dynamodb.config.requestHandler).not.toBeInstanceOf(InProcessDynaliteHandler);
    await db.client.send(new PutCommand({ TableName: db.tableName, Item: { PK: 'p', SK: 's', n: 2 } }));
    expect((await db.client.send(new GetCommand({ TableName: db.tableName, Key: { PK: 'p', SK: 's' } }))).Item).toEqual({ PK: 'p', SK: 's', n: 2 });
  });

  it('needs the placeholder authorization: dynalite refuses a request with none', async () => {
    const { client } = unlistenedDynalite({ signed: false });
    await expect(client.send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'MissingAuthenticationTokenException' });
  });

  it('rejects an aborted request without handing it to dynalite', async () => {
    const listener = vi.fn();
    const handler = new InProcessDynaliteHandler(listener);
    const controller = new AbortController();
    controller.abort();
    const request = { method: 'POST', protocol: 'http:', hostname: 'local', path: '/', headers: {}, query: {}, body: '{}' };
    await expect(handler.handle(request, { abortSignal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(listener).not.toHaveBeenCalled();
  });

  it('refuses a streaming body with an error that says what it takes', async () => {
    const handler = new InProcessDynaliteHandler(vi.fn());
    const request = { method: 'POST', protocol: 'http:', hostname: 'local', path: '/', headers: {}, query: {}, body: Readable.from(['{}']) };
    const refused = handler.handle(request);
    await expect(refused).rejects.toBeInstanceOf(DynaliteTransportError);
    await expect(refused).rejects.toThrow(/string or byte bodies/);
  });
});
