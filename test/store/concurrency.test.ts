import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../lib/domain/status';
import { ConcurrencyConflictError, createStore, ImmutableFieldError, NotFoundError, updateWithRetry, type Store } from '../../lib/store/index';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { projectWithGoal } from './fixtures';

let db: LocalDynamo;
let store: Store;

beforeAll(async () => {
  db = await startDynalite();
  store = createStore(db.store);
});
afterAll(() => db.stop());

describe('optimistic concurrency', () => {
  it('16 concurrent read-modify-write writers on one goal lose no update', async () => {
    const { goal } = await projectWithGoal(store);
    const writers = Array.from({ length: 16 }, (_, i) =>
      updateWithRetry(
        () => store.goals.get(goal.id),
        (g) => store.goals.update(g, { reworkRounds: g.reworkRounds + 1, labels: [...g.labels, `writer-${i}`] }),
      ),
    );
    await Promise.all(writers);

    const final = await store.goals.get(goal.id);
    expect(final.reworkRounds).toBe(16);
    expect([...final.labels].sort()).toEqual(Array.from({ length: 16 }, (_, i) => `writer-${i}`).sort());
    expect(final.version).toBe(goal.version + 16);
  });

  it('an update from a stale read is refused with ConcurrencyConflictError', async () => {
    const { goal } = await projectWithGoal(store);
    await store.goals.update(goal, { planSummary: 'first' });
    const attempt = store.goals.update(goal, { planSummary: 'second' });
    await expect(attempt).rejects.toBeInstanceOf(ConcurrencyConflictError);
    await expect(attempt).rejects.toMatchObject({ entity: 'goal', id: goal.id, expectedVersion: 1, actualVersion: 2 });
    expect((await store.goals.get(goal.id)).planSummary).toBe('first');
  });

  it('updating or reading a goal that does not exist is NotFoundError', async () => {
    const { goal } = await projectWithGoal(store);
    const ghost = { ...goal, id: 'goal_01HZZZZZZZZZZZZZZZZZZZZZZZ' };
    await expect(store.goals.update(ghost, { planSummary: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.goals.get(ghost.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.goals.find(ghost.id)).toBeUndefined();
  });

  it('atomic cost ADDs from concurrent writers are not clobbered by version-checked updates', async () => {
    const { goal } = await projectWithGoal(store);
    await Promise.all([
      ...Array.from({ length: 10 }, () => store.goals.addCost(goal.id, 0.25)),
      store.goals.mutate(goal.id, () => ({ planSummary: 'plan' })),
      store.goals.mutate(goal.id, (g) => ({ reworkRounds: g.reworkRounds + 1 })),
    ]);
    const final = await store.goals.get(goal.id);
    expect(final.costUsd).toBe(2.5);
    expect(final.planSummary).toBe('plan');
    expect(final.reworkRounds).toBe(1);
  });

  it('status changes follow the goal graph and stamp start/completion times', async () => {
    const { goal } = await projectWithGoal(store);
    await expect(store.goals.transition(goal.id, 'SUCCEEDED')).rejects.toThrow(new IllegalTransitionError('goal', 'PENDING', 'SUCCEEDED', goal.id));

    const running = await store.goals.transition(goal.id, 'RUNNING');
    expect(running.startedAt).toBeDefined();
    expect(running.completedAt).toBeUndefined();
    // A retried "mark running" (e.g. the Start Lambda re-invoked) is a no-op when asked to be.
    expect((await store.goals.transition(goal.id, 'RUNNING', {}, { idempotent: true })).version).toBe(running.version);

    const done = await store.goals.transition(goal.id, 'FAILED', { failureCause: { code: 'Agent.Failed', message: 'tests kept failing' } });
    expect(done.completedAt).toBeDefined();
    expect(done.failureCause?.code).toBe('Agent.Failed');
    await expect(store.goals.transition(goal.id, 'RUNNING')).rejects.toBeInstanceOf(IllegalTransitionError);
  });

  it('moving a goal to another status moves it between status listings', async () => {
    const { project, goal } = await projectWithGoal(store);
    await store.goals.transition(goal.id, 'RUNNING');
    const pending = await store.goals.listByStatus(project.id, 'PENDING');
    const running = await store.goals.listByStatus(project.id, 'RUNNING');
    expect(pending.items.map((g) => g.id)).not.toContain(goal.id);
    expect(running.items.map((g) => g.id)).toEqual([goal.id]);
  });

  it('refuses changes to immutable fields', async () => {
    const { goal } = await projectWithGoal(store);
    const sneaky = { projectId: 'prj_01HZZZZZZZZZZZZZZZZZZZZZZZ' } as unknown as Parameters<typeof store.goals.update>[1];
    await expect(store.goals.update(goal, sneaky)).rejects.toBeInstanceOf(ImmutableFieldError);
  });

  it('updateWithRetry gives up after maxAttempts and rethrows the conflict', async () => {
    const { goal } = await projectWithGoal(store);
    let calls = 0;
    const stale = await store.goals.get(goal.id);
    await store.goals.update(stale, { planSummary: 'moved on' });
    // Always loading the stale copy means every attempt conflicts.
    const attempt = updateWithRetry(
      async () => {
        calls++;
        return stale;
      },
      (g) => store.goals.update(g, { planSummary: 'never' }),
      { maxAttempts: 3, baseDelayMs: 1 },
    );
    await expect(attempt).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(calls).toBe(3);
  });
});
