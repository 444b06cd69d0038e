import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createGoalRoute,
  createProjectRoute,
  getGoalRoute,
  getProjectRoute,
  listGoalEventsRoute,
  listGoalsRoute,
  listProjectsRoute,
  updateProjectRoute,
} from '../../lib/api/routes';
import { emptyInfrastructureUsage, FALLBACK_PER_GOAL_BUDGET_USD, newId, parsePlan, ProjectSchema, tasksFromPlan } from '../../lib/domain/index';
import { logger } from '../../lib/powertools';
import { goalStream, projectStream } from '../../lib/store/index';
import { expectError, expectRouteSuccess, newProjectBody, request, startApi, TEST_PRINCIPAL, type ApiTestContext } from './support';

let api: ApiTestContext;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());
beforeEach(() => {
  api.pipeline.starts.length = 0;
  api.pipeline.stops.length = 0;
  api.pipeline.failStartsWith = undefined;
});

async function createProject(name = 'shop') {
  const response = await request('POST', '/projects', { json: newProjectBody(name) });
  expectRouteSuccess(createProjectRoute, response);
  return response.body as { id: string; version: number };
}

async function createGoal(projectId: string, title = 'add rate limiting', extra: Record<string, unknown> = {}) {
  const response = await request('POST', `/projects/${projectId}/goals`, { json: { title, ...extra } });
  expectRouteSuccess(createGoalRoute, response);
  return response.body as { id: string; projectId: string; status: string };
}

describe('projects', () => {
  it('creates a project with defaults, records Project.Created and reads it back', async () => {
    const created = await request('POST', '/projects', { json: { name: 'shop', repo: { url: 'git@github.com:acme/shop.git' }, autonomyLevel: 3 } });
    expectRouteSuccess(createProjectRoute, created);
    expect(created.headers.Location).toBe(`/projects/${created.body.id}`);
    expect(created.headers['Content-Type']).toMatch(/^application\/json/);
    expect(created.body).toMatchObject({ name: 'shop', autonomyLevel: 3, maxParallelTasks: 3, repo: { defaultBranch: 'main' }, version: 1 });

    const read = await request('GET', `/projects/${created.body.id}`);
    expectRouteSuccess(getProjectRoute, read);
    expect(read.body).toEqual(created.body);

    const { events } = await api.store.events.readEvents(projectStream(created.body.id));
    expect(events.map((e) => [e.type, e.actor])).toEqual([['Project.Created', { kind: 'user', id: TEST_PRINCIPAL }]]);
  });

  it('pages through the projects newest first with cursors, and refuses a cursor of another listing', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createProject(`listed-${i}`)).id);
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await request('GET', '/projects', { query: { limit: '2', ...(cursor ? { cursor } : {}) } });
      expectRouteSuccess(listProjectsRoute, page);
      pageSizes.push(page.body.items.length);
      seen.push(...page.body.items.map((p: { id: string }) => p.id));
      cursor = page.body.cursor;
    } while (cursor);
    // Other tests share the table: the five made here are the newest, in reverse order of creation.
    expect(seen.slice(0, 5)).toEqual([...created].reverse());
    expect(pageSizes.slice(0, 2)).toEqual([2, 2]);
    expect(new Set(seen).size).toBe(seen.length);
    const first = await request('GET', '/projects', { query: { limit: '1' } });
    expect(first.body.items[0]).toEqual((await request('GET', `/projects/${created[4]}`)).body);

    await createGoal(created[0]!);
    await createGoal(created[0]!);
    const goalsCursor = (await request('GET', `/projects/${created[0]}/goals`, { query: { limit: '1' } })).body.cursor;
    expectError(await request('GET', '/projects', { query: { cursor: goalsCursor } }), 400, 'InvalidCursor');
    expectError(await request('GET', '/projects', { query: { limit: '0' } }), 400);
    expectError(await request('GET', '/projects', { query: { colour: 'red' } }), 400);
  });

  it('puts the stage in front of Location when the API is deployed under one', async () => {
    const created = await request('POST', '/projects', { json: newProjectBody(), stage: 'prod' });
    expect(created.headers.Location).toBe(`/prod/projects/${created.body.id}`);
  });

  it('changes settings with PATCH, records Project.SettingsChanged, and refuses a stale expectedVersion', async () => {
    const project = await createProject();
    const patched = await request('PATCH', `/projects/${project.id}`, { json: { maxParallelTasks: 5, schedule: { enabled: true }, defaultBranch: 'trunk' } });
    expectRouteSuccess(updateProjectRoute, patched);
    expect(patched.body).toMatchObject({ version: 2, maxParallelTasks: 5, schedule: { enabled: true, cron: 'cron(0 3 * * ? *)' }, repo: { defaultBranch: 'trunk' } });

    const stale = await request('PATCH', `/projects/${project.id}`, { json: { autonomyLevel: 4, expectedVersion: 1 } });
    expectError(stale, 409, 'VersionConflict');
    expect((await api.store.projects.get(project.id)).autonomyLevel).toBe(2);

    const current = await request('PATCH', `/projects/${project.id}`, { json: { autonomyLevel: 4, expectedVersion: 2 } });
    expect(current.body).toMatchObject({ autonomyLevel: 4, version: 3 });

    const { events } = await api.store.events.readEvents(projectStream(project.id));
    expect(events.map((e) => e.type)).toEqual(['Project.Created', 'Project.SettingsChanged', 'Project.SettingsChanged']);
    expect(events[1]?.data).toEqual({ changed: ['defaultBranch', 'maxParallelTasks', 'schedule'], version: 2 });
  });

  it('lets QA write tests only when the project turns it on', async () => {
    const project = await createProject();
    expect((await request('GET', `/projects/${project.id}`)).body.qaMayWriteTests).toBe(false);
    const patched = await request('PATCH', `/projects/${project.id}`, { json: { qaMayWriteTests: true } });
    expect(patched.body).toMatchObject({ qaMayWriteTests: true, version: 2 });
    expectError(await request('PATCH', `/projects/${project.id}`, { json: { qaMayWriteTests: 'yes' } }), 400, 'ValidationFailed');
    // A project stored before the setting existed reads as the default.
    const { qaMayWriteTests: _dropped, ...older } = patched.body;
    expect(ProjectSchema.parse(older).qaMayWriteTests).toBe(false);
  });

  it('answers 400 with the failing paths for invalid settings and an empty patch', async () => {
    const project = await createProject();
    const invalid = await request('PATCH', `/projects/${project.id}`, { json: { autonomyLevel: 9, maxParallelTasks: 'many' } });
    expectError(invalid, 400, 'ValidationFailed');
    expect(invalid.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.autonomyLevel', 'body.maxParallelTasks']);
    expectError(await request('PATCH', `/projects/${project.id}`, { json: {} }), 400, 'ValidationFailed');
    expectError(await request('PATCH', `/projects/${project.id}`, { json: { autonomylevel: 3 } }), 400, 'ValidationFailed');
  });

  it('answers 404 for unknown and malformed project ids', async () => {
    expectError(await request('GET', `/projects/${newId('project')}`), 404, 'NotFound');
    expectError(await request('GET', '/projects/not-a-project'), 404, 'NotFound');
    expectError(await request('GET', `/projects/${newId('goal')}`), 404, 'NotFound');
    expectError(await request('PATCH', `/projects/${newId('project')}`, { json: { autonomyLevel: 3 } }), 404, 'NotFound');
  });
});

describe('creating goals', () => {
  it('stores the goal PENDING, records Goal.Created, starts the pipeline and answers 202 with a Location', async () => {
    const project = await createProject();
    const response = await request('POST', `/projects/${project.id}/goals`, { json: { title: 'add rate limiting', labels: ['security'], priority: 'HIGH' } });
    expectRouteSuccess(createGoalRoute, response);
    const goal = response.body;
    expect(response.headers.Location).toBe(`/goals/${goal.id}`);
    expect(goal).toMatchObject({ projectId: project.id, status: 'PENDING', source: 'api', priority: 'HIGH', labels: ['security'], branch: `cahoots/${goal.id}` });
    expect(goal.executionId).toBe(`local:goal-pipeline:goal-${goal.id}`);

    expect(api.pipeline.starts).toEqual([{ goalId: goal.id, projectId: project.id }]);
    const stored = await api.store.goals.get(goal.id);
    expect(stored).toMatchObject({ status: 'PENDING', executionId: goal.executionId });
    const { events } = await api.store.events.readEvents(goalStream(goal.id));
    expect(events.map((e) => e.type)).toEqual(['Goal.Created']);
    expect(events[0]).toMatchObject({ seq: 1, projectId: project.id, goalId: goal.id, actor: { kind: 'user', id: TEST_PRINCIPAL } });
  });

  it('refuses fields the API sets itself, and unknown projects, without starting anything', async () => {
    const project = await createProject();
    expectError(await request('POST', `/projects/${project.id}/goals`, { json: { title: 'x', source: 'detection' } }), 400, 'ValidationFailed');
    expectError(await request('POST', `/projects/${project.id}/goals`, { json: { title: '' } }), 400, 'ValidationFailed');
    expectError(await request('POST', `/projects/${newId('project')}/goals`, { json: { title: 'x' } }), 404, 'NotFound');
    expect(api.pipeline.starts).toEqual([]);
  });

  it('marks the goal FAILED when the pipeline cannot be started, and answers 500 without details', async () => {
    const project = await createProject();
    const startFailure = new Error('StartExecution: AccessDenied for arn:aws:states:secret');
    api.pipeline.failStartsWith = startFailure;
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const response = await request('POST', `/projects/${project.id}/goals`, { json: { title: 'will not start' } });
    expect(logged).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ error: startFailure }));
    logged.mockRestore();
    expectError(response, 500, 'InternalError');
    expect(JSON.stringify(response.body)).not.toContain('AccessDenied');

    const [goal] = (await api.store.goals.listByProject(project.id)).items;
    expect(goal).toMatchObject({ status: 'FAILED', failureCause: { code: 'Pipeline.StartFailed' } });
    const { events } = await api.store.events.readEvents(goalStream(goal!.id));
    expect(events.map((e) => e.type)).toEqual(['Goal.Created', 'Goal.Failed']);
  });
});

describe('reading goals', () => {
  it('returns a goal with its plan, tasks, progress and cost against budget, never its task token', async () => {
    const project = await createProject();
    await api.store.projects.updateSettings(project.id, { budgets: { perGoalUsd: 5 } });
    const { id } = await createGoal(project.id);
    const plan = parsePlan({
      summary: 'schema first, then api',
      risk: 'medium',
      tasks: [
        { id: 't1', role: 'developer', title: 'schema', spec: 'add the table' },
        { id: 't2', role: 'developer', title: 'api', spec: 'add the route', dependsOn: ['t1'] },
      ],
    });
    await api.store.goals.transition(id, 'RUNNING', { planSummary: plan.summary, risk: plan.risk });
    const tasks = await api.store.tasks.createMany(tasksFromPlan(plan, { id, projectId: project.id }));
    await api.store.tasks.claim(id, tasks[0]!.id, newId('agentRun'));
    await api.store.goals.addCost(id, 1.25);
    await api.store.goals.addCost(id, 0.5);
    await api.store.goals.transition(id, 'AWAITING_APPROVAL', { approval: { state: 'pending', stage: 'delivery', taskToken: 'secret-token' } });

    const response = await request('GET', `/goals/${id}`);
    expectRouteSuccess(getGoalRoute, response);
    expect(response.body.plan).toEqual({ summary: 'schema first, then api', risk: 'medium' });
    expect(response.body.tasks.map((t: { planKey: string }) => t.planKey).sort()).toEqual(['t1', 't2']);
    expect(response.body.progress).toEqual({ RUNNING: 1, PENDING: 1 });
    // Written straight into the store, the goal ran no step: no infrastructure usage yet.
    expect(response.body.cost).toEqual({ usd: 1.75, infrastructure: emptyInfrastructureUsage(), budgetUsd: 5, remainingUsd: 3.25 });
    expect(response.body.goal.approval).toEqual({ state: 'pending', stage: 'delivery' });
    expect(response.raw.body).not.toContain('secret-token');
  });

  it('shows where a delivered goal went: its branch and pull request', async () => {
    const project = await createProject();
    const { id } = await createGoal(project.id);
    const delivery = { kind: 'pull-request', branch: `cahoots/${id}`, sha: 'a'.repeat(40), commits: 2, url: 'https://github.com/acme/shop/pull/7', number: 7, deliveredAt: '2026-12-02T08:00:00.000Z' } as const;
    await api.store.goals.mutate(id, () => ({ delivery }));
    const response = await request('GET', `/goals/${id}`);
    expectRouteSuccess(getGoalRoute, response);
    expect(response.body.goal.delivery).toEqual(delivery);
  });

  it('shows a null plan and the project’s per-goal budget before planning, and 404 for unknown goals', async () => {
    const project = await createProject();
    const { id } = await createGoal(project.id);
    const response = await request('GET', `/goals/${id}`);
    expect(response.body).toMatchObject({ plan: null, tasks: [], progress: {}, cost: { usd: 0 } });
    // A project created through the API always has a per-goal cap (here the fallback).
    expect(response.body.cost).toEqual({ usd: 0, infrastructure: emptyInfrastructureUsage(), budgetUsd: FALLBACK_PER_GOAL_BUDGET_USD, remainingUsd: FALLBACK_PER_GOAL_BUDGET_USD });
    expectError(await request('GET', `/goals/${newId('goal')}`), 404, 'NotFound');
    expectError(await request('GET', '/goals/goal_nope'), 404, 'NotFound');
  });

  it('pages through a project’s goals newest first with cursors, and filters by status', async () => {
    const project = await createProject();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await createGoal(project.id, `goal ${i}`)).id);
    for (const id of created.slice(0, 2)) await api.store.goals.transition(id, 'RUNNING');

    const seen: string[] = [];
    let cursor: string | undefined;
    const pageSizes: number[] = [];
    do {
      const page = await request('GET', `/projects/${project.id}/goals`, { query: { limit: '3', ...(cursor ? { cursor } : {}) } });
      expectRouteSuccess(listGoalsRoute, page);
      pageSizes.push(page.body.items.length);
      seen.push(...page.body.items.map((g: { id: string }) => g.id));
      cursor = page.body.cursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());
    expect(pageSizes.slice(0, 3)).toEqual([3, 3, 1]);

    const running = await request('GET', `/projects/${project.id}/goals`, { query: { status: 'RUNNING' } });
    expect(running.body.items.map((g: { id: string }) => g.id)).toEqual([created[1], created[0]]);
    const pending = await request('GET', `/projects/${project.id}/goals`, { query: { status: 'PENDING', limit: '2' } });
    expect(pending.body.items).toHaveLength(2);
    expect(pending.body.items.every((g: { status: string }) => g.status === 'PENDING')).toBe(true);

    // A cursor belongs to its listing: reusing it for another status or project is refused.
    expectError(await request('GET', `/projects/${project.id}/goals`, { query: { status: 'RUNNING', cursor: pending.body.cursor } }), 400, 'InvalidCursor');
    const other = await createProject('other');
    expectError(await request('GET', `/projects/${other.id}/goals`, { query: { status: 'PENDING', cursor: pending.body.cursor } }), 400, 'InvalidCursor');
    expectError(await request('GET', `/projects/${project.id}/goals`, { query: { cursor: 'bm90LWEtY3Vyc29y' } }), 400, 'InvalidCursor');
    expectError(await request('GET', `/projects/${project.id}/goals`, { query: { status: 'running' } }), 400, 'ValidationFailed');
    expectError(await request('GET', `/projects/${newId('project')}/goals`), 404, 'NotFound');
  });

  it('reads the event log after a sequence number, in pages', async () => {
    const project = await createProject();
    const goal = await createGoal(project.id);
    for (const type of ['Goal.Started', 'Goal.Planned', 'Task.Created', 'Task.Dispatched'] as const) {
      await api.store.events.append(goalStream(goal.id), { type, actor: { kind: 'system', id: 'test' }, correlationId: goal.id, projectId: project.id, goalId: goal.id });
    }
    const all = await request('GET', `/goals/${goal.id}/events`);
    expectRouteSuccess(listGoalEventsRoute, all);
    expect(all.body.items.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.body).toMatchObject({ lastSeq: 5, hasMore: false });

    const after = await request('GET', `/goals/${goal.id}/events`, { query: { after: '2' } });
    expect(after.body.items.map((e: { type: string }) => e.type)).toEqual(['Goal.Planned', 'Task.Created', 'Task.Dispatched']);

    const first = await request('GET', `/goals/${goal.id}/events`, { query: { after: '1', limit: '2' } });
    expect(first.body).toMatchObject({ lastSeq: 3, hasMore: true });
    const rest = await request('GET', `/goals/${goal.id}/events`, { query: { after: String(first.body.lastSeq) } });
    expect(rest.body.items.map((e: { seq: number }) => e.seq)).toEqual([4, 5]);
    const none = await request('GET', `/goals/${goal.id}/events`, { query: { after: '5' } });
    expect(none.body).toEqual({ items: [], lastSeq: 5, hasMore: false });

    expectError(await request('GET', `/goals/${goal.id}/events`, { query: { after: '-1' } }), 400, 'ValidationFailed');
    expectError(await request('GET', `/goals/${goal.id}/events`, { query: { limit: '0' } }), 400, 'ValidationFailed');
    expectError(await request('GET', `/goals/${newId('goal')}/events`), 404, 'NotFound');
  });
});
