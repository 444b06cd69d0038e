// The local HTTP server in front of the API handlers (lib/local/http-server.ts), over real HTTP:
// the same routes and error envelope as the deployed API, its body limit, the local principal,
// and the local-only project listing the CLI uses.
import { connect } from 'node:net';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localServerLogger, startLocalHttpServer, type LocalHttpServer } from '../../lib/local/http-server';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime';
import { goalStream } from '../../lib/store/index';
import { exampleRepo } from './support';
import type { TempRepo } from '../support/temp-repo';

describe('the local HTTP server', () => {
  let local: LocalRuntime;
  let server: LocalHttpServer;
  let repo: TempRepo;

  beforeAll(async () => {
    repo = exampleRepo();
    local = await startLocalRuntime({ config: { workspaceRoot: repo.scratch } });
    server = await startLocalHttpServer({ port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await local?.stop();
    repo?.cleanup();
  });

  const send = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });

  it('listens on the loopback interface only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('creates a project with 201 and Location, records the local principal, and lists it', async () => {
    const created = await send('POST', '/projects', JSON.stringify({ name: 'todo', repo: { path: repo.dir } }), { 'idempotency-key': 'local-1' });
    expect(created.status).toBe(201);
    const project = (await created.json()) as { id: string };
    expect(created.headers.get('location')).toBe(`/projects/${project.id}`);
    const again = await send('POST', '/projects', JSON.stringify({ name: 'todo', repo: { path: repo.dir } }), { 'idempotency-key': 'local-1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const goal = (await (await send('POST', `/projects/${project.id}/goals`, JSON.stringify({ title: 'Nothing to do' }))).json()) as { id: string };
    const { events } = await local.store.events.readEvents(goalStream(goal.id));
    expect(events[0]).toMatchObject({ type: 'Goal.Created', actor: { kind: 'user', id: 'local-user' } });
    const listed = (await (await send('GET', '/_local/projects')).json()) as { items: Array<{ id: string }> };
    expect(listed.items.map((p) => p.id)).toEqual([project.id]);
  });

  it('serves the GitHub webhook as a cell does: a signed delivery is taken, an unsigned one is 401', async () => {
    // Locally the webhook secret is an environment variable (or the secrets file).
    process.env.CAHOOTS_SECRET_GITHUB_WEBHOOK_SECRET = 'local-webhook-secret';
    try {
      const body = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
      const headers = { 'x-github-event': 'ping', 'x-github-delivery': 'local-ping-1' };
      const signed = await send('POST', '/webhooks/github', body, { ...headers, 'x-hub-signature-256': await sign('local-webhook-secret', body) });
      expect(signed.status).toBe(202);
      expect(await signed.json()).toMatchObject({ outcome: 'ignored', deliveryId: 'local-ping-1' });
      const unsigned = await send('POST', '/webhooks/github', body, { ...headers, 'x-github-delivery': 'local-ping-2' });
      expect(unsigned.status).toBe(401);
      expect(await unsigned.json()).toMatchObject({ error: { code: 'InvalidSignature' } });
    } finally {
      delete process.env.CAHOOTS_SECRET_GITHUB_WEBHOOK_SECRET;
    }
  });

  it('answers bad requests with the API error envelope', async () => {
    expect(await (await send('GET', '/nowhere')).json()).toMatchObject({ error: { code: 'RouteNotFound' } });
    const wrongMethod = await send('PATCH', '/goals/goal_01J9Z3R2B4C6D8E0F2G4H6J8K0');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect((await send('POST', '/projects', '{"name":')).status).toBe(400);
    expect((await send('GET', '/goals/goal_01J9Z3R2B4C6D8E0F2G4H6J8K0/events?after=1&after=2')).status).toBe(400);
    expect((await send('POST', '/_local/projects', '{}')).status).toBe(405);
  });

  it('refuses a body over 256 KB with 413, and a fetch client always gets the answer', async () => {
    // Node's fetch is still sending when the server answers; unless the server reads the rest
    // first, most such requests end in EPIPE or ECONNRESET instead of the 413.
    for (const size of [300 * 1024, 2 * 1024 * 1024, 6 * 1024 * 1024, 300 * 1024, 2 * 1024 * 1024, 6 * 1024 * 1024]) {
      const response = await send('POST', '/projects', JSON.stringify({ name: 'x'.repeat(size) }));
      expect(response.status).toBe(413);
      expect(response.headers.get('connection')).toBe('close');
      expect(await response.json()).toMatchObject({ error: { code: 'PayloadTooLarge' } });
    }
    // Streamed, without a Content-Length: the server learns the size only while reading.
    for (let round = 0; round < 4; round += 1) {
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 32) controller.close();
          else {
            sent += 1;
            controller.enqueue(chunk);
          }
        },
      });
      const response = await fetch(`${server.url}/projects`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
      expect(response.status).toBe(413);
      await response.body?.cancel();
    }
    // The server still serves.
    expect((await send('GET', '/_local/projects')).status).toBe(200);
  });

  it('reads an oversized body to its end before it answers 413, so the client is listening', async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (data: Buffer) => (answer += data.toString('utf8')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const half = 'x'.repeat(300 * 1024);
    socket.write(`POST /projects HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 * half.length}\r\n\r\n${half}`);
    // Nothing may come back while the client is still sending: an early answer followed by the
    // close is what turns into EPIPE or ECONNRESET on the client's side.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answer).toBe('');
    socket.write(half);
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
    expect(answer).toContain('PayloadTooLarge');
  });

  it('logs a request body the client abandons as INFO under its own name, not as a handler error', async () => {
    const lines: string[] = [];
    // The suite runs with POWERTOOLS_LOG_LEVEL=ERROR; this test needs to see the INFO line.
    const level = localServerLogger.getLevelName();
    localServerLogger.setLogLevel('INFO');
    const write = process.stdout.write.bind(process.stdout);
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
    try {
      // A handler runs first, so the shared logger holds a Lambda context to leak.
      await send('GET', '/nowhere');
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write('POST /projects HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":');
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      await vi.waitFor(() => expect(lines.some((line) => line.includes('before the request body was complete'))).toBe(true), { timeout: 10_000 });
      const logged = JSON.parse(lines.find((line) => line.includes('before the request body was complete'))!) as Record<string, unknown>;
      expect(logged).toMatchObject({ level: 'INFO', component: 'local-http-server', method: 'POST', path: '/projects' });
      expect(logged.function_name).toBeUndefined();
      expect(lines.filter((line) => line.includes('"level":"ERROR"'))).toEqual([]);
    } finally {
      spy.mockRestore();
      localServerLogger.setLogLevel(level);
    }
  });
});
