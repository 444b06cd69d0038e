// The local HTTP server in front of the API handlers (lib/local/http-server.ts), over real HTTP:
// the same routes and error envelope as the deployed API, its body limit, the local principal,
// and the local-only project listing the CLI uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHttpServer, type LocalHttpServer } from '../../lib/local/http-server';
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

  it('answers bad requests with the API error envelope', async () => {
    expect(await (await send('GET', '/nowhere')).json()).toMatchObject({ error: { code: 'RouteNotFound' } });
    const wrongMethod = await send('PATCH', '/goals/goal_01J9Z3R2B4C6D8E0F2G4H6J8K0');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect((await send('POST', '/projects', '{"name":')).status).toBe(400);
    expect((await send('GET', '/goals/goal_01J9Z3R2B4C6D8E0F2G4H6J8K0/events?after=1&after=2')).status).toBe(400);
    expect((await send('POST', '/_local/projects', '{}')).status).toBe(405);
  });

  it('refuses a body over 256 KB with 413 before reading all of it', async () => {
    const response = await send('POST', '/projects', JSON.stringify({ name: 'x'.repeat(300 * 1024) }));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'PayloadTooLarge' } });
  });
});
