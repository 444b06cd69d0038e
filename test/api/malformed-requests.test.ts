// Property: no malformed request gets anything but a 4xx with the error envelope. Every route is
// thrown generated defects — broken JSON, wrong media types, oversized bodies, wrong types,
// missing and unknown fields, huge strings, garbage and unknown ids, bad cursors and query
// parameters, wrong methods — and none may produce a 5xx, a crash, or a change in the store.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeProxyEvent } from '../../lib/local/api-router';
import { API_ROUTES, type RouteDefinition } from '../../lib/api/routes';
import { MAX_BODY_BYTES } from '../../lib/api/schemas';
import { findingId, STATUSES } from '../../lib/domain/index';
import { LocalSecrets } from '../../lib/local/secrets';
import { WEBHOOK_MAX_BODY_BYTES } from '../../lib/webhooks/github';
import { apiEvent, decode, newProjectBody, request, startApi, type ApiTestContext } from './support';

interface MalformedRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  rawBody?: string;
  /** What was wrong, for the failure message. */
  defect: string;
}

const RUNS_PER_ROUTE = 50;
const JSON_HEADERS = { 'Content-Type': 'application/json' };

let api: ApiTestContext;
let projectId: string;
let goalId: string;
/** Genuine cursors, each handed to the other listing, where it does not belong. */
let findingsCursor: string;
let goalsCursor: string;
let requestsSent = 0;
const statusesSeen = new Map<number, number>();
const codesSeen = new Set<string>();

beforeAll(async () => {
  api = await startApi();
  // The webhook can verify signatures, so what it refuses it refuses for the request's faults.
  api.deps.secrets = new LocalSecrets({ env: { CAHOOTS_SECRET_GITHUB_WEBHOOK_SECRET: 'fuzz-webhook-secret' } });
  projectId = (await request('POST', '/projects', { json: newProjectBody('fuzzed') })).body.id;
  const goal = (await request('POST', `/projects/${projectId}/goals`, { json: { title: 'target' } })).body;
  goalId = goal.id;
  await api.store.goals.transition(goalId, 'RUNNING');
  // A genuine cursor, but for a different listing (findings), to hand to the goal listings.
  for (const fingerprint of ['todo:aaaaaaaa', 'todo:bbbbbbbb']) {
    await api.store.findings.upsert({ projectId, detector: 'todo', fingerprint, title: 't', severity: 'low', effort: 'small', score: 1 });
  }
  findingsCursor = (await api.store.findings.list(projectId, { limit: 1 })).cursor as string;
  await request('POST', `/projects/${projectId}/goals`, { json: { title: 'second, for a cursor' } });
  goalsCursor = (await api.store.goals.listByProject(projectId, { limit: 1 })).cursor as string;
  api.pipeline.starts.length = 0;
});
afterAll(() => api.stop());

// ---- building blocks

const ULID_CHARS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ulid = fc.array(fc.constantFrom(...ULID_CHARS), { minLength: 26, maxLength: 26 }).map((chars) => chars.join(''));

/** Ids that are well-formed but name nothing stored. */
const unknownProjectId = ulid.map((u) => `prj_${u}`);
const unknownGoalId = ulid.map((u) => `goal_${u}`);
const unknownFindingId = ulid.map((u) => findingId(`prj_${u}`, 'todo:aaaaaaaa'));
/** A finding the fixtures filed (todo:aaaaaaaa); its id is known once the project exists. */
const fixtureFindingId = () => findingId(projectId, 'todo:aaaaaaaa');

/** Path segments that cannot be ids at all: wrong prefix, wrong alphabet, escapes, huge, empty. */
const garbageSegment = fc.oneof(
  fc.string({ maxLength: 60 }).map(encodeURIComponent),
  fc.string({ minLength: 300, maxLength: 3000 }).map(encodeURIComponent),
  fc.constantFrom('prj_', 'goal_', 'prj_0123456789ABCDEFGHIJKLMNOP', 'goal_0123456789abcdefghjkmnpq', '%', '%E0%A4%A', '..', '%2F', 'null', 'undefined', '__proto__', ''),
  ulid.map((u) => `task_${u}`),
  fc.string({ maxLength: 30 }),
);

/** Strings (possibly empty) that are not valid JSON documents. */
const badJsonText = fc.oneof(
  fc.constantFrom('{', '{"a":}', "{'a':1}", 'undefined', 'NaN', '{"a":1}{"b":2}', '[1,]', '{"title":"x",}', '\u0000', 'nul', '"unterminated', '{"a":1', 'tru'),
  fc.string({ minLength: 1, maxLength: 200 }).filter((text) => {
    if (text.trim().length === 0) return false;
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  }),
);

/** JSON that parses but is not an object. */
const nonObjectJson = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 50 }), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }));

/** Values that are neither strings nor objects: wrong for any string or object field. */
const notStringOrObject = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));

/** Values wrong for a bounded integer field. */
const notAnInteger = fc.oneof(fc.string({ maxLength: 10 }), fc.boolean(), fc.constant(null), fc.double({ min: 0.1, max: 0.9 }), fc.array(fc.integer(), { maxLength: 2 }));

const hugeString = (limit: number) => fc.integer({ min: limit + 1, max: limit + 3000 }).map((length) => 'x'.repeat(length));

const MEDIA_TYPES_REFUSED = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/jsonp',
  'json',
  'text/json',
  'application/vnd.api+json',
];

function unknownKey(known: readonly string[]) {
  return fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'), fc.string({ minLength: 1, maxLength: 40 })).filter((key) => !known.includes(key));
}

/**
 * Body defects for a route: broken JSON, non-objects, wrong media type (even around a valid
 * body), oversized payloads, and the route's own invalid objects.
 */
function malformedBody(validBody: object, invalidObjects: fc.Arbitrary<unknown>) {
  return fc.oneof(
    badJsonText.map((rawBody) => ({ rawBody, headers: JSON_HEADERS, defect: 'bad JSON' })),
    nonObjectJson.map((value) => ({ rawBody: JSON.stringify(value), headers: JSON_HEADERS, defect: 'non-object JSON' })),
    invalidObjects.map((value) => ({ rawBody: JSON.stringify(value), headers: JSON_HEADERS, defect: `invalid object ${JSON.stringify(value).slice(0, 200)}` })),
    fc.option(fc.constantFrom(...MEDIA_TYPES_REFUSED), { nil: undefined }).map((contentType) => ({
      rawBody: JSON.stringify(validBody),
      headers: contentType === undefined ? ({} as Record<string, string>) : { 'Content-Type': contentType },
      defect: `media type ${contentType ?? '(none)'}`,
    })),
    fc.integer({ min: 1, max: 4096 }).map((extra) => ({
      rawBody: JSON.stringify({ ...validBody, padding: 'p'.repeat(MAX_BODY_BYTES + extra) }),
      headers: JSON_HEADERS,
      defect: 'oversized body',
    })),
  );
}

/** Invalid query strings: unknown names, repeated names, and bad values for the known ones. */
function malformedQuery(known: Record<string, fc.Arbitrary<string>>) {
  const names = Object.keys(known);
  const options: Array<fc.Arbitrary<{ query: Record<string, string | string[]>; defect: string }>> = [
    fc.tuple(unknownKey(names), fc.string({ maxLength: 20 })).map(([name, value]) => ({ query: { [name]: value }, defect: `unknown query ${name}` })),
  ];
  for (const [name, bad] of Object.entries(known)) {
    options.push(bad.map((value) => ({ query: { [name]: value }, defect: `bad ${name}=${value.slice(0, 80)}` })));
    options.push(fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })).map(([a, b]) => ({ query: { [name]: [a, b] }, defect: `repeated ${name}` })));
  }
  return fc.oneof(...options);
}

const badLimit = fc.oneof(
  fc.integer({ min: 101, max: 2 ** 31 }).map(String),
  fc.constantFrom('0', '00', '-1', '1.5', '1e2', ' 5', '5 ', '0x10', 'NaN', 'Infinity', '', '12345678901'),
  fc.string({ maxLength: 20 }).filter((s) => !/^\d+$/.test(s)),
);
const badAfter = fc.oneof(
  fc.integer({ max: -1 }).map(String),
  fc.constantFrom('1.5', '1e3', '', 'abc', '99999999999', '+1', ' 1'),
  fc.string({ maxLength: 20 }).filter((s) => !/^\d+$/.test(s)),
);
const badStatus = fc.oneof(
  fc.constantFrom('running', 'Pending', 'DONE', '', 'open', ' RUNNING'),
  fc.string({ maxLength: 30 }).filter((s) => !(STATUSES as readonly string[]).includes(s)),
);
const badFindingStatus = fc.oneof(fc.constantFrom('OPEN', 'closed', '', 'PENDING'), fc.string({ maxLength: 20 }).filter((s) => !['open', 'in-progress', 'dismissed', 'resolved'].includes(s)));
const badCursor = (foreignCursor: () => string) =>
  fc.oneof(
    fc.string({ maxLength: 100 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,300}$/),
    fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify({ v: 1, k: value }), 'utf8').toString('base64url')),
    fc.constant(null).map(() => foreignCursor()),
    fc.constant('A'.repeat(5000)),
  );
const badDay = fc.oneof(
  fc.constantFrom('2025-02-30', '2025-13-01', '2025-00-10', '25-01-01', '2025/01/01', '01-01-2025', '2025-1-1', '', 'today', '2025-01-01T00:00:00Z'),
  fc.string({ maxLength: 20 }).filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s)),
);

// ---- per-route generators (each produces requests that are wrong in at least one way)

type Generator = () => fc.Arbitrary<MalformedRequest>;

function pathFor(route: RouteDefinition, id: string): string {
  return route.path.replace('{projectId}', id).replace('{goalId}', id).replace('{findingId}', id);
}

/** Defects every route with an id in its path shares: garbage ids (404) and unknown ids (404). */
function idDefects(route: RouteDefinition, validRest: Omit<MalformedRequest, 'method' | 'path' | 'defect'>) {
  const unknown = route.path.includes('{goalId}') ? unknownGoalId : route.path.includes('{findingId}') ? unknownFindingId : unknownProjectId;
  return fc.oneof(
    garbageSegment.map((segment) => ({ method: route.method, path: pathFor(route, segment), ...validRest, defect: `garbage id ${segment.slice(0, 80)}` })),
    unknown.map((id) => ({ method: route.method, path: pathFor(route, id), ...validRest, defect: `unknown id ${id}` })),
  );
}

/** A method the path does not serve. */
function methodDefect(path: string, served: readonly string[]) {
  return fc
    .constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE')
    .filter((method) => !served.includes(method))
    .map((method) => ({ method, path, defect: `method ${method}` }));
}

function servedMethods(route: RouteDefinition): string[] {
  return API_ROUTES.filter((r) => r.path === route.path).map((r) => r.method);
}

function bodyRoute(route: RouteDefinition, pathId: () => string, validBody: object, invalidObjects: () => fc.Arbitrary<unknown>): Generator {
  return () => {
    const path = pathFor(route, pathId());
    const options: Array<fc.Arbitrary<MalformedRequest>> = [
      malformedBody(validBody, invalidObjects()).map((body) => ({ method: route.method, path, ...body })),
      malformedQuery({}).map(({ query, defect }) => ({ method: route.method, path, query, rawBody: JSON.stringify(validBody), headers: JSON_HEADERS, defect })),
      methodDefect(path, servedMethods(route)),
    ];
    if (route.path.includes('{')) options.push(idDefects(route, { rawBody: JSON.stringify(validBody), headers: JSON_HEADERS }));
    else options.push(garbageSegment.map((segment) => ({ method: route.method, path: `${path}/${segment}/x`, defect: 'extra path segments' })));
    return fc.oneof(...options);
  };
}

function queryRoute(route: RouteDefinition, pathId: () => string, badQuery: () => fc.Arbitrary<{ query: Record<string, string | string[]>; defect: string }>): Generator {
  return () => {
    const path = pathFor(route, pathId());
    const options: Array<fc.Arbitrary<MalformedRequest>> = [
      badQuery().map(({ query, defect }) => ({ method: route.method, path, query, defect })),
      methodDefect(path, servedMethods(route)),
    ];
    if (route.path.includes('{')) options.push(idDefects(route, {}));
    return fc.oneof(...options);
  };
}

const PROJECT_KEYS = ['name', 'repo', 'team', 'autonomyLevel', 'budgets', 'modelPolicy', 'schedule', 'allowedCommands', 'maxParallelTasks', 'maxReworkRounds', 'contextFiles'];
const GOAL_KEYS = ['title', 'description', 'sourceRef', 'priority', 'labels', 'autonomyOverride', 'budgetOverrideUsd'];
const validRepo = { url: 'https://github.com/acme/shop.git' };

const GENERATORS: Record<string, Generator> = {
  createProject: bodyRoute(
    API_ROUTES.find((r) => r.operationId === 'createProject')!,
    () => '',
    newProjectBody('valid'),
    () =>
      fc.oneof(
        fc.constantFrom({}, { name: 'n' }, { repo: validRepo }, { name: 'n', repo: {} }, { name: 'n', repo: { url: 'https://a/b', path: '/c' } }, { name: 'n', repo: { url: 'ftp://x/y' } }),
        notStringOrObject.map((name) => ({ name, repo: validRepo })),
        notStringOrObject.map((repo) => ({ name: 'n', repo })),
        hugeString(100).map((name) => ({ name, repo: validRepo })),
        fc.constantFrom('', '   ').map((name) => ({ name, repo: validRepo })),
        notAnInteger.map((autonomyLevel) => ({ name: 'n', repo: validRepo, autonomyLevel })),
        fc.constantFrom(0, 6, -1, 1000).map((autonomyLevel) => ({ name: 'n', repo: validRepo, autonomyLevel })),
        fc.constantFrom(['rm -rf / ; echo'], ['a|b'], 'npm test').map((allowedCommands) => ({ name: 'n', repo: validRepo, allowedCommands })),
        fc.tuple(unknownKey(PROJECT_KEYS), fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => ({ name: 'n', repo: validRepo, [key]: value })),
      ),
  ),
  listProjects: queryRoute(
    API_ROUTES.find((r) => r.operationId === 'listProjects')!,
    () => '',
    () => malformedQuery({ limit: badLimit, cursor: badCursor(() => goalsCursor) }),
  ),
  getProject: queryRoute(API_ROUTES.find((r) => r.operationId === 'getProject')!, () => projectId, () => malformedQuery({})),
  updateProject: bodyRoute(
    API_ROUTES.find((r) => r.operationId === 'updateProject')!,
    () => projectId,
    { maxParallelTasks: 4 },
    () =>
      fc.oneof(
        fc.constantFrom({}, { expectedVersion: 1 }, { name: '' }, { defaultBranch: '..' }, { schedule: { cron: 'every day' } }, { maxParallelTasks: 0 }, { maxParallelTasks: 33 }, { repo: validRepo }),
        notAnInteger.map((autonomyLevel) => ({ autonomyLevel })),
        notStringOrObject.map((name) => ({ name })),
        hugeString(100).map((name) => ({ name })),
        notStringOrObject.map((budgets) => ({ budgets })),
        fc.tuple(unknownKey([...PROJECT_KEYS, 'defaultBranch', 'expectedVersion']), fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => ({ maxParallelTasks: 4, [key]: value })),
      ),
  ),
  createGoal: bodyRoute(
    API_ROUTES.find((r) => r.operationId === 'createGoal')!,
    () => projectId,
    { title: 'valid goal' },
    () =>
      fc.oneof(
        fc.constantFrom({}, { title: '' }, { title: '  ' }, { title: 'x', source: 'api' }, { title: 'x', projectId: 'prj_x' }, { title: 'x', priority: 'URGENT' }),
        notStringOrObject.map((title) => ({ title })),
        hugeString(200).map((title) => ({ title })),
        hugeString(20_000).map((description) => ({ title: 'x', description })),
        fc.constantFrom('label', ['bad\nlabel'], Array.from({ length: 21 }, (_, i) => `l${i}`), [''], [1]).map((labels) => ({ title: 'x', labels })),
        fc.constantFrom(0, 6, 2.5, '3').map((autonomyOverride) => ({ title: 'x', autonomyOverride })),
        fc.constantFrom(-1, 'ten', 2_000_000).map((budgetOverrideUsd) => ({ title: 'x', budgetOverrideUsd })),
        fc.tuple(unknownKey(GOAL_KEYS), fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => ({ title: 'x', [key]: value })),
      ),
  ),
  listGoals: queryRoute(
    API_ROUTES.find((r) => r.operationId === 'listGoals')!,
    () => projectId,
    () => malformedQuery({ status: badStatus, limit: badLimit, cursor: badCursor(() => findingsCursor) }),
  ),
  getGoal: queryRoute(API_ROUTES.find((r) => r.operationId === 'getGoal')!, () => goalId, () => malformedQuery({})),
  listGoalEvents: queryRoute(API_ROUTES.find((r) => r.operationId === 'listGoalEvents')!, () => goalId, () => malformedQuery({ after: badAfter, limit: badLimit })),
  decideApproval: bodyRoute(
    API_ROUTES.find((r) => r.operationId === 'decideApproval')!,
    () => goalId,
    { decision: 'approve' },
    () =>
      fc.oneof(
        fc.constantFrom({}, { decision: 'APPROVE' }, { decision: 'maybe' }, { decision: 'approve', by: 'someone' }, { decision: 'approve', budgetUsd: -5 }),
        notStringOrObject.map((decision) => ({ decision })),
        notStringOrObject.map((comment) => ({ decision: 'reject', comment })),
        hugeString(4000).map((comment) => ({ decision: 'approve', comment })),
        fc.tuple(unknownKey(['decision', 'comment', 'budgetUsd']), fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => ({ decision: 'approve', [key]: value })),
      ),
  ),
  cancelGoal: bodyRoute(
    API_ROUTES.find((r) => r.operationId === 'cancelGoal')!,
    () => goalId,
    { reason: 'valid reason' },
    () =>
      fc.oneof(
        fc.constantFrom({ reason: '' }, { reason: '   ' }),
        notStringOrObject.map((reason) => ({ reason })),
        hugeString(4000).map((reason) => ({ reason })),
        fc.tuple(unknownKey(['reason']), fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => ({ [key]: value })),
      ),
  ),
  listFindings: queryRoute(
    API_ROUTES.find((r) => r.operationId === 'listFindings')!,
    () => projectId,
    () => malformedQuery({ status: badFindingStatus, limit: badLimit, cursor: badCursor(() => goalsCursor) }),
  ),
  getCosts: queryRoute(
    API_ROUTES.find((r) => r.operationId === 'getCosts')!,
    () => projectId,
    () =>
      fc.oneof(
        malformedQuery({ from: badDay, to: badDay }),
        fc.constantFrom<{ query: Record<string, string>; defect: string }>(
          { query: { from: '2025-03-02', to: '2025-03-01' }, defect: 'reversed range' },
          { query: { from: '2020-01-01', to: '2025-01-01' }, defect: 'range too long' },
          { query: { from: '2999-01-01' }, defect: 'from after today' },
        ),
      ),
  ),
  startDetection: queryRoute(API_ROUTES.find((r) => r.operationId === 'startDetection')!, () => projectId, () => malformedQuery({})),
  updateFinding: bodyRoute(
    API_ROUTES.find((r) => r.operationId === 'updateFinding')!,
    fixtureFindingId,
    { status: 'dismissed' },
    () =>
      fc.oneof(
        fc.constantFrom({}, { status: 'resolved' }, { status: 'in-progress' }, { status: 'DISMISSED' }, { reason: 'no status' }),
        notStringOrObject.map((status) => ({ status })),
        hugeString(1000).map((reason) => ({ status: 'dismissed', reason })),
        fc.tuple(unknownKey(['status', 'reason']), fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => ({ status: 'dismissed', [key]: value })),
      ),
  ),
  createFindingGoal: bodyRoute(
    API_ROUTES.find((r) => r.operationId === 'createFindingGoal')!,
    fixtureFindingId,
    { autonomyOverride: 3 },
    () =>
      fc.oneof(
        fc.constantFrom(0, 6, 2.5, '3').map((autonomyOverride) => ({ autonomyOverride })),
        fc.tuple(unknownKey(['autonomyOverride']), fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => ({ [key]: value })),
      ),
  ),
  getOpenApi: queryRoute(API_ROUTES.find((r) => r.operationId === 'getOpenApi')!, () => '', () => malformedQuery({})),
  receiveGitHubWebhook: () => {
    const path = '/webhooks/github';
    const headers = { 'Content-Type': 'application/json', 'X-GitHub-Event': 'issues', 'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' };
    const post = (rest: Omit<MalformedRequest, 'method' | 'path'>): MalformedRequest => ({ method: 'POST', path, ...rest });
    return fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).map((value) => post({ rawBody: JSON.stringify(value), headers, defect: 'unsigned' })),
      fc
        .tuple(fc.jsonValue({ maxDepth: 2 }), fc.oneof(fc.string({ maxLength: 80 }), fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: 64, maxLength: 64 }).map((hex) => `sha256=${hex.join('')}`)))
        .map(([value, signature]) => post({ rawBody: JSON.stringify(value), headers: { ...headers, 'X-Hub-Signature-256': signature }, defect: `signature ${signature}` })),
      badJsonText.map((rawBody) => post({ rawBody, headers: { ...headers, 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` }, defect: 'bad JSON, forged signature' })),
      fc.constantFrom(...MEDIA_TYPES_REFUSED).map((contentType) => post({ rawBody: '{}', headers: { ...headers, 'Content-Type': contentType }, defect: `media type ${contentType}` })),
      fc.integer({ min: 1, max: 4096 }).map((extra) => post({ rawBody: `{"p":"${'p'.repeat(WEBHOOK_MAX_BODY_BYTES + extra)}"}`, headers, defect: 'oversized body' })),
      malformedQuery({}).map(({ query, defect }) => post({ query, rawBody: '{}', headers, defect })),
      methodDefect(path, ['POST']),
    );
  },
};

async function send(malformed: MalformedRequest) {
  requestsSent += 1;
  const event = apiEvent(malformed.method, malformed.path, { query: malformed.query, headers: malformed.headers, rawBody: malformed.rawBody });
  const response = decode(await routeProxyEvent(event));
  statusesSeen.set(response.status, (statusesSeen.get(response.status) ?? 0) + 1);
  if (typeof response.body?.error?.code === 'string') codesSeen.add(response.body.error.code);
  return response;
}

function expectClientError(response: Awaited<ReturnType<typeof send>>, malformed: MalformedRequest): void {
  const context = `${malformed.method} ${malformed.path.slice(0, 120)} — ${malformed.defect} → ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`;
  expect(response.status >= 400 && response.status < 500, context).toBe(true);
  expect(response.headers['Content-Type'], context).toMatch(/^application\/json/);
  expect(typeof response.body?.error?.code, context).toBe('string');
  expect(response.body.error.code.length, context).toBeGreaterThan(0);
  expect(typeof response.body.error.message, context).toBe('string');
  // The message stays short whatever the client sent (no echo of a 256 KB field).
  expect(response.raw.body.length, context).toBeLessThan(20_000);
}

describe('malformed requests', () => {
  it('has a generator for every route', () => {
    expect(Object.keys(GENERATORS).sort()).toEqual(API_ROUTES.map((r) => r.operationId).sort());
  });

  for (const route of API_ROUTES) {
    it(`${route.method} ${route.path}: every malformed request gets a 4xx with the error shape`, async () => {
      const generator = GENERATORS[route.operationId];
      if (!generator) throw new Error(`no generator for ${route.operationId}`);
      await fc.assert(
        fc.asyncProperty(generator(), async (malformed) => {
          expectClientError(await send(malformed), malformed);
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    });
  }

  it('unknown paths and methods anywhere get a 4xx with the error shape', async () => {
    const anyPath = fc.oneof(
      fc.array(fc.string({ maxLength: 20 }).map(encodeURIComponent), { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
      fc.string({ maxLength: 100 }),
      fc.constantFrom('', '/', '//', '/projects//goals', '/goals', '/projects/x/y/z', '/openapi.yaml', '/PROJECTS'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'), anyPath, async (method, path) => {
        const malformed = { method, path, defect: 'unknown route' };
        const response = await send(malformed);
        // A random path can hit a real route with a garbage id; that is a 404 as well.
        expectClientError(response, malformed);
      }),
      { numRuns: 100 },
    );
  });

  it('sent at least 500 malformed requests and changed nothing', async () => {
    expect(requestsSent).toBeGreaterThanOrEqual(500);
    // The generators reach every kind of refusal, not just the first check in line.
    expect([...statusesSeen.keys()].sort()).toEqual([400, 401, 404, 405, 413, 415]);
    expect([...codesSeen].sort()).toEqual(
      ['InvalidCursor', 'InvalidJson', 'InvalidSignature', 'MethodNotAllowed', 'NotFound', 'PayloadTooLarge', 'RouteNotFound', 'UnsupportedMediaType', 'ValidationFailed'].sort(),
    );
    expect(api.pipeline.starts).toEqual([]);
    expect(api.pipeline.stops).toEqual([]);
    expect(api.callbacks.succeeded.length + api.callbacks.failed.length).toBe(0);
    const { items } = await api.store.projects.list({ limit: 100 });
    expect(items.map((p) => p.id)).toEqual([projectId]);
    const goal = await api.store.goals.get(goalId);
    expect(goal).toMatchObject({ status: 'RUNNING', version: 3 });
  });
});
