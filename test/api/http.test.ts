import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as getProjectHandler } from '../../functions/api/get-project';
import { buildOpenApiDocument } from '../../lib/api/openapi';
import { HANDLER_MODULES, matchRoute, routeHttpRequest } from '../../lib/local/api-router';
import { API_ROUTES } from '../../lib/api/routes';
import { MAX_BODY_BYTES } from '../../lib/api/schemas';
import { newId } from '../../lib/domain/index';
import { createLambdaContext } from '../../lib/local/lambda-context';
import { apiEvent, decode, expectError, newProjectBody, request, startApi, type ApiTestContext } from './support';

let api: ApiTestContext;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

describe('router', () => {
  it('answers unknown paths with 404 and unknown methods with 405 and an Allow header', async () => {
    expectError(await request('GET', '/nothing/here'), 404, 'RouteNotFound');
    expectError(await request('GET', '/projects/'), 404, 'RouteNotFound');
    expectError(await request('GET', '//projects'), 404, 'RouteNotFound');
    const wrongMethod = await request('DELETE', `/projects/${newId('project')}`);
    expectError(wrongMethod, 405, 'MethodNotAllowed');
    expect(wrongMethod.headers.Allow).toBe('GET, PATCH');
    expectError(await request('PUT', '/projects'), 405, 'MethodNotAllowed');
  });

  it('decodes path parameters like API Gateway and matches every route in the table', () => {
    const id = newId('goal');
    expect(matchRoute('GET', `/goals/${encodeURIComponent(id)}/events`)).toMatchObject({ kind: 'matched', pathParameters: { goalId: id } });
    expect(matchRoute('GET', '/goals/%E0%A4%A/events')).toMatchObject({ kind: 'matched', pathParameters: { goalId: '%E0%A4%A' } });
    for (const route of API_ROUTES) {
      const concrete = route.path.replace('{projectId}', newId('project')).replace('{goalId}', id);
      expect(matchRoute(route.method, concrete)).toMatchObject({ kind: 'matched', route });
    }
  });

  it('has a handler module for every route, and a file under functions/api for each', async () => {
    expect(Object.keys(HANDLER_MODULES).sort()).toEqual(API_ROUTES.map((r) => r.handler).sort());
    for (const route of API_ROUTES) {
      expect(existsSync(path.join('functions', 'api', `${route.handler}.ts`)), route.handler).toBe(true);
      expect(typeof (await HANDLER_MODULES[route.handler]!()).handler).toBe('function');
    }
  });

  it('builds the event from a plain HTTP request for the local server', async () => {
    const created = decode(
      await routeHttpRequest({ method: 'post', path: '/projects', headers: { 'content-type': 'application/json' }, body: JSON.stringify(newProjectBody('plain')), principal: 'local:me' }),
    );
    expect(created.status).toBe(201);
    const read = decode(await routeHttpRequest({ method: 'GET', path: `/projects/${created.body.id}` }));
    expect(read.body.name).toBe('plain');
    const { events } = await api.store.events.readEvents({ kind: 'project', projectId: created.body.id });
    expect(events[0]?.actor).toEqual({ kind: 'user', id: 'local:me' });
  });

  it('lets a Lambda handler be invoked directly with a proxy event, as API Gateway does', async () => {
    const created = await request('POST', '/projects', { json: newProjectBody('direct') });
    const event = { ...apiEvent('GET', `/projects/${created.body.id}`), resource: '/projects/{projectId}', pathParameters: { projectId: created.body.id } };
    const response = decode(await getProjectHandler(event, createLambdaContext({ functionName: 'get-project' })));
    expect(response.body).toEqual(created.body);
  });

  it('serves the OpenAPI document it generates', async () => {
    const response = await request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });
});

describe('request bodies', () => {
  it('refuses bodies over the limit with 413 before reading them', async () => {
    const tooBig = JSON.stringify({ ...newProjectBody(), name: 'x'.repeat(MAX_BODY_BYTES) });
    expectError(await request('POST', '/projects', { rawBody: tooBig, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
    const binary = new Uint8Array(MAX_BODY_BYTES + 10).fill(0x20);
    expectError(await request('POST', '/projects', { rawBody: binary, headers: { 'Content-Type': 'application/json' } }), 413, 'PayloadTooLarge');
  });

  it('refuses bodies that are not JSON with 415, and broken JSON with 400', async () => {
    const body = JSON.stringify(newProjectBody());
    expectError(await request('POST', '/projects', { rawBody: body }), 415, 'UnsupportedMediaType');
    expectError(await request('POST', '/projects', { rawBody: body, headers: { 'Content-Type': 'text/plain' } }), 415, 'UnsupportedMediaType');
    expectError(await request('POST', '/projects', { rawBody: body, headers: { 'Content-Type': 'application/json; charset=latin1' } }), 415, 'UnsupportedMediaType');
    expectError(await request('POST', '/projects', { rawBody: '{"name": "x",', headers: { 'Content-Type': 'application/json' } }), 400, 'InvalidJson');
    expectError(await request('POST', '/projects', { rawBody: '[]', headers: { 'Content-Type': 'application/json' } }), 400, 'ValidationFailed');
  });

  it('reads base64-encoded bodies the way API Gateway delivers binary media', async () => {
    const created = await request('POST', '/projects', { rawBody: new TextEncoder().encode(JSON.stringify(newProjectBody('b64'))), headers: { 'Content-Type': 'application/json' } });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('b64');
  });

  it('refuses repeated and unknown query parameters', async () => {
    const project = await request('POST', '/projects', { json: newProjectBody() });
    expectError(await request('GET', `/projects/${project.body.id}/goals`, { query: { limit: ['1', '2'] } }), 400, 'ValidationFailed');
    expectError(await request('GET', `/projects/${project.body.id}/goals`, { query: { page: '2' } }), 400, 'ValidationFailed');
    for (const limit of ['0', '101', '1e1', ' 5', '2.5', '-3', '']) {
      expectError(await request('GET', `/projects/${project.body.id}/goals`, { query: { limit } }), 400, 'ValidationFailed');
    }
  });
});
