import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalJson } from '../../lib/domain/canonical-json';
import { logger } from '../../lib/powertools';
import { expectError, newProjectBody, request, startApi, type ApiTestContext } from './support';

let api: ApiTestContext;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

async function projectsNamed(name: string): Promise<number> {
  const { items } = await api.store.projects.list({ limit: 100 });
  return items.filter((p) => p.name === name).length;
}

describe('Idempotency-Key on creating calls', () => {
  it('replays the first response for the same key and body, however the JSON is spelt', async () => {
    const headers = { 'Idempotency-Key': 'create-project-1' };
    const first = await request('POST', '/projects', { rawBody: '{"name":"replayed","repo":{"url":"https://github.com/acme/r.git"}}', headers: { ...headers, 'Content-Type': 'application/json' } });
    const again = await request('POST', '/projects', {
      rawBody: '{ "repo": { "url": "https://github.com/acme/r.git" },\n  "name": "replayed" }',
      headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(again.headers.Location).toBe(first.headers.Location);
    expect(again.headers['Idempotent-Replayed']).toBe('true');
    expect(first.headers['Idempotent-Replayed']).toBeUndefined();
    expect(await projectsNamed('replayed')).toBe(1);
  });

  it('refuses the same key with a different body with 409, and leaves the first result alone', async () => {
    const headers = { 'Idempotency-Key': 'create-project-2' };
    const first = await request('POST', '/projects', { json: newProjectBody('first-body'), headers });
    const different = await request('POST', '/projects', { json: newProjectBody('second-body'), headers });
    expect(first.status).toBe(201);
    expectError(different, 409, 'IdempotencyKeyReused');
    expect(await projectsNamed('second-body')).toBe(0);
  });

  it('starts one pipeline for a goal posted twice with one key, and ties the key to its project', async () => {
    const project = (await request('POST', '/projects', { json: newProjectBody('goals') })).body;
    const other = (await request('POST', '/projects', { json: newProjectBody('goals-2') })).body;
    const headers = { 'Idempotency-Key': 'goal-key' };
    const first = await request('POST', `/projects/${project.id}/goals`, { json: { title: 'once' }, headers });
    const again = await request('POST', `/projects/${project.id}/goals`, { json: { title: 'once' }, headers });
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body).toEqual(first.body);
    expect(api.pipeline.starts.filter((s) => s.projectId === project.id)).toHaveLength(1);
    expect((await api.store.goals.listByProject(project.id)).items).toHaveLength(1);

    expectError(await request('POST', `/projects/${other.id}/goals`, { json: { title: 'once' }, headers }), 409, 'IdempotencyKeyReused');
  });

  it('gives the key back when the work fails, so the retry does the work', async () => {
    const project = (await request('POST', '/projects', { json: newProjectBody('retry') })).body;
    const headers = { 'Idempotency-Key': 'retry-after-failure' };
    api.pipeline.failStartsWith = new Error('state machine unavailable');
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const failed = await request('POST', `/projects/${project.id}/goals`, { json: { title: 'eventually' }, headers });
    logged.mockRestore();
    api.pipeline.failStartsWith = undefined;
    expectError(failed, 500);
    const retried = await request('POST', `/projects/${project.id}/goals`, { json: { title: 'eventually' }, headers });
    expect(retried.status).toBe(202);
    expect(retried.headers['Idempotent-Replayed']).toBeUndefined();
    expect(retried.body.status).toBe('PENDING');
  });

  it('does not spend a key on a request that fails validation', async () => {
    const headers = { 'Idempotency-Key': 'validated-first' };
    expectError(await request('POST', '/projects', { json: { name: 'no repo' }, headers }), 400, 'ValidationFailed');
    expect((await request('POST', '/projects', { json: newProjectBody('validated'), headers })).status).toBe(201);
  });

  it('refuses malformed keys with 400', async () => {
    for (const key of ['', 'x'.repeat(256), 'has space', 'naïve']) {
      expectError(await request('POST', '/projects', { json: newProjectBody(), headers: { 'Idempotency-Key': key } }), 400, 'ValidationFailed');
    }
  });

  it('fingerprints JSON by value: key order and whitespace do not matter, values and nesting do', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});
