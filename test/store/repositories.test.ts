import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRun } from '../../lib/domain/agent-run';
import { newId } from '../../lib/domain/ids';
import { parsePlan } from '../../lib/domain/plan';
import { IllegalTransitionError } from '../../lib/domain/status';
import { tasksFromPlan } from '../../lib/domain/task';
import { readyTasks } from '../../lib/domain/task-graph';
import {
  AlreadyExistsError,
  ConcurrencyConflictError,
  createStore,
  createTable,
  defaultStoreConfig,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  NotFoundError,
  StoreConfigError,
  type Store,
} from '../../lib/store/index';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { projectWithGoal } from './fixtures';

let db: LocalDynamo;
let store: Store;

beforeAll(async () => {
  db = await startDynalite();
  store = createStore(db.store);
});
afterAll(() => db.stop());

const diamond = {
  summary: 'api, ui and docs on a shared schema',
  risk: 'medium',
  tasks: [
    { id: 'schema', role: 'developer', title: 'schema', spec: 'add the table' },
    { id: 'api', role: 'developer', title: 'api', spec: 'route', dependsOn: ['schema'] },
    { id: 'ui', role: 'ux', title: 'ui', spec: 'form', dependsOn: ['schema'] },
    { id: 'qa', role: 'qa', kind: 'qa', title: 'verify', spec: 'e2e', dependsOn: ['api', 'ui'] },
  ],
};

describe('projects', () => {
  it('creates with defaults, reads back, changes settings and lists', async () => {
    const project = await store.projects.create({ name: 'shop', repo: { url: 'git@github.com:acme/shop.git' } });
    expect(project).toMatchObject({ version: 1, autonomyLevel: 2, maxParallelTasks: 3, repo: { defaultBranch: 'main' } });
    expect(await store.projects.get(project.id)).toEqual(project);

    const changed = await store.projects.updateSettings(project.id, { maxParallelTasks: 5, defaultBranch: 'trunk', schedule: { enabled: true } });
    expect(changed).toMatchObject({ version: 2, maxParallelTasks: 5, repo: { url: project.repo.url, defaultBranch: 'trunk' } });
    expect(changed.schedule).toEqual({ ...project.schedule, enabled: true });

    await expect(store.projects.updateSettings(project.id, { autonomyLevel: 4, expectedVersion: 1 })).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect((await store.projects.updateSettings(project.id, { autonomyLevel: 4, expectedVersion: 2 })).autonomyLevel).toBe(4);

    const ids = (await store.projects.list({ limit: 100 })).items.map((p) => p.id);
    expect(ids).toContain(project.id);
    await expect(store.projects.create({ name: 'dup', repo: { path: '/x' } }, { id: project.id })).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(store.projects.get(newId('project'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('will not create a goal for a project that does not exist', async () => {
    await expect(store.goals.create({ projectId: newId('project'), title: 'orphan' })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('tasks', () => {
  it('materialises a plan idempotently and walks the diamond', async () => {
    const { goal } = await projectWithGoal(store);
    const plan = parsePlan(diamond);
    const first = await store.tasks.createMany(tasksFromPlan(plan, goal));
    const again = await store.tasks.createMany(tasksFromPlan(plan, goal));
    expect(again.map((t) => t.id)).toEqual(first.map((t) => t.id));
    expect(await store.tasks.listAll(goal.id)).toHaveLength(4);

    const byKey = new Map(first.map((t) => [t.planKey, t]));
    const key = (k: string) => byKey.get(k)!.id;
    expect(readyTasks(await store.tasks.listAll(goal.id)).map((t) => t.planKey)).toEqual(['schema']);

    await store.tasks.transition(goal.id, key('schema'), 'RUNNING');
    await store.tasks.transition(goal.id, key('schema'), 'SUCCEEDED', { outputs: { summary: 'done', commits: ['abc1234'] } });
    expect(readyTasks(await store.tasks.listAll(goal.id)).map((t) => t.planKey).sort()).toEqual(['api', 'ui']);
  });

  it('lets exactly one of several duplicate deliveries claim a task', async () => {
    const { goal } = await projectWithGoal(store);
    const [task] = await store.tasks.createMany(tasksFromPlan(parsePlan(diamond), goal));
    const runs = Array.from({ length: 5 }, () => newId('agentRun'));
    const claims = await Promise.all(runs.map((runId) => store.tasks.claim(goal.id, task!.id, runId)));

    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    const stored = await store.tasks.get(goal.id, task!.id);
    expect(stored).toMatchObject({ status: 'RUNNING', attempts: 1 });
    expect(runs).toContain(stored.runId);
    // The winner's redelivered message is still its claim.
    expect((await store.tasks.claim(goal.id, task!.id, stored.runId!)).claimed).toBe(true);
  });

  it('blocks the transitive dependants of a failed task and refuses illegal moves', async () => {
    const { goal } = await projectWithGoal(store);
    const tasks = await store.tasks.createMany(tasksFromPlan(parsePlan(diamond), goal));
    const id = (k: string) => tasks.find((t) => t.planKey === k)!.id;
    await store.tasks.transition(goal.id, id('schema'), 'RUNNING');
    await store.tasks.transition(goal.id, id('schema'), 'FAILED', { failureCause: { code: 'Agent.Failed', message: 'x' } });

    const blocked = await store.tasks.blockDependants(goal.id, id('schema'));
    expect(blocked.map((t) => t.planKey).sort()).toEqual(['api', 'qa', 'ui']);
    expect(await store.tasks.blockDependants(goal.id, id('schema'))).toEqual([]);
    await expect(store.tasks.transition(goal.id, id('api'), 'RUNNING')).rejects.toBeInstanceOf(IllegalTransitionError);
  });
});

describe('agent runs, lessons, findings', () => {
  it('records an agent run once and lists it by task and by goal', async () => {
    const { project, goal } = await projectWithGoal(store);
    const [task] = await store.tasks.createMany(tasksFromPlan(parsePlan(diamond), goal));
    const run: AgentRun = {
      id: newId('agentRun'),
      projectId: project.id,
      goalId: goal.id,
      taskId: task!.id,
      role: 'developer',
      attempt: 1,
      modelTier: 0,
      modelCalls: [{ model: 'replay:x', tokens: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0 }, costUsd: 0.001, latencyMs: 12 }],
      modelCallCount: 1,
      tokens: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0 },
      costUsd: 0.001,
      toolCalls: { total: 3, failed: 1, byName: { read_file: 2, run_command: 1 } },
      outcome: 'succeeded',
      startedAt: '2030-01-01T00:00:00.000Z',
      endedAt: '2030-01-01T00:00:05.000Z',
      durationMs: 5000,
    };
    expect((await store.agentRuns.record(run)).created).toBe(true);
    expect(await store.agentRuns.record(run)).toEqual({ run, created: false });
    expect((await store.agentRuns.listByTask(goal.id, task!.id)).items).toEqual([run]);
    expect((await store.agentRuns.listByGoal(goal.id)).items).toEqual([run]);
  });

  it('stores lessons per project, newest first', async () => {
    const projectId = newId('project');
    await store.lessons.put({ projectId, text: 'run the linter before review', outcome: 'failed', tags: ['lint'] });
    await store.lessons.put({ projectId, text: 'small tasks pass review', outcome: 'succeeded' });
    const { items } = await store.lessons.list(projectId);
    expect(items.map((l) => l.text)).toEqual(['small tasks pass review', 'run the linter before review']);
  });

  it('files a finding once per fingerprint and keeps a dismissal on re-detection', async () => {
    const projectId = newId('project');
    const finding = {
      projectId,
      detector: 'todo',
      fingerprint: 'todo:src/app.ts:abc123',
      title: 'TODO: handle errors',
      severity: 'low' as const,
      effort: 'small' as const,
      score: 50,
      location: { file: 'src/app.ts', line: 3 },
    };
    const first = await store.findings.upsert(finding);
    expect(first).toMatchObject({ created: true, finding: { status: 'open', seenCount: 1 } });
    await store.findings.setStatus(projectId, finding.fingerprint, 'dismissed');

    const again = await store.findings.upsert({ ...finding, score: 60 });
    expect(again).toMatchObject({ created: false, finding: { status: 'dismissed', seenCount: 2, score: 60 } });
    await store.findings.upsert({ ...finding, fingerprint: 'todo:src/b.ts:1', score: 90 });
    await store.findings.upsert({ ...finding, fingerprint: 'todo:src/c.ts:1', score: 20 });

    expect((await store.findings.list(projectId, { status: 'open' })).items.map((f) => f.score)).toEqual([90, 20]);
    expect((await store.findings.list(projectId)).items).toHaveLength(3);
    await expect(store.findings.setStatus(projectId, finding.fingerprint, 'in-progress')).rejects.toBeInstanceOf(IllegalTransitionError);
  });
});

describe('idempotency records', () => {
  it('hands the key to one caller, replays its response, and refuses a different request under the same key', async () => {
    const key = `key-${newId('goal')}`;
    expect(await store.idempotency.begin('create-goal', key, 'hash-a')).toEqual({ state: 'new' });
    await expect(store.idempotency.begin('create-goal', key, 'hash-a')).rejects.toBeInstanceOf(IdempotencyInProgressError);
    await store.idempotency.complete('create-goal', key, { goalId: 'goal_x' });
    expect(await store.idempotency.begin('create-goal', key, 'hash-a')).toEqual({ state: 'completed', response: { goalId: 'goal_x' } });
    await expect(store.idempotency.begin('create-goal', key, 'hash-b')).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('gives a released or expired claim to the next caller', async () => {
    let nowMs = Date.parse('2030-01-01T00:00:00.000Z');
    const clocked = createStore({ ...db.store, clock: () => new Date(nowMs) }, { idempotency: { lockSeconds: 60 } });
    await clocked.idempotency.begin('s', 'released', 'h');
    await clocked.idempotency.release('s', 'released');
    expect(await clocked.idempotency.begin('s', 'released', 'h')).toEqual({ state: 'new' });

    await clocked.idempotency.begin('s', 'crashed', 'h');
    nowMs += 61_000;
    expect(await clocked.idempotency.begin('s', 'crashed', 'h')).toEqual({ state: 'new' });
  });
});

describe('table and configuration', () => {
  it('createTable is idempotent', async () => {
    await expect(createTable(db.dynamodb, db.tableName)).resolves.toBeUndefined();
  });

  it('the default config needs TABLE_NAME and leaves the endpoint to the SDK', () => {
    expect(() => defaultStoreConfig({})).toThrow(StoreConfigError);
    expect(defaultStoreConfig({ TABLE_NAME: 'cahoots' }).tableName).toBe('cahoots');
  });
});
