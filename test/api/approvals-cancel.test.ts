import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cancelGoalRoute, decideApprovalRoute } from '../../lib/api/routes';
import { newId, type Goal } from '../../lib/domain/index';
import { logger } from '../../lib/powertools';
import { goalStream } from '../../lib/store/index';
import { expectError, expectRouteSuccess, newProjectBody, request, startApi, TEST_PRINCIPAL, type ApiTestContext } from './support';

let api: ApiTestContext;
let projectId: string;

beforeAll(async () => {
  api = await startApi();
  projectId = (await request('POST', '/projects', { json: newProjectBody() })).body.id;
});
afterAll(() => api.stop());
beforeEach(() => {
  api.callbacks.succeeded.length = 0;
  api.callbacks.failed.length = 0;
  api.callbacks.expired.clear();
  api.pipeline.stops.length = 0;
});

async function newGoal(): Promise<Goal> {
  const created = await request('POST', `/projects/${projectId}/goals`, { json: { title: 'ship it' } });
  return api.store.goals.get(created.body.id);
}

/** A goal whose pipeline waits on a human at `stage`, holding `token`. */
async function awaitingApproval(token: string, stage: 'plan' | 'delivery' | 'budget' = 'plan'): Promise<Goal> {
  const goal = await newGoal();
  await api.store.goals.transition(goal.id, 'RUNNING');
  return api.store.goals.transition(goal.id, 'AWAITING_APPROVAL', {
    approval: { state: 'pending', stage, requestedAt: new Date().toISOString(), taskToken: token },
  });
}

async function eventTypes(goalId: string): Promise<string[]> {
  return (await api.store.events.readEvents(goalStream(goalId))).events.map((e) => e.type);
}

describe('approvals', () => {
  it('approve answers the stored task token, resumes the goal and records Goal.Approved', async () => {
    const goal = await awaitingApproval('token-approve');
    const response = await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'approve', comment: 'plan looks right' } });
    expectRouteSuccess(decideApprovalRoute, response);

    expect(api.callbacks.succeeded).toEqual([{ taskToken: 'token-approve', output: { decision: 'approve', comment: 'plan looks right', by: TEST_PRINCIPAL } }]);
    expect(api.callbacks.failed).toEqual([]);
    const stored = await api.store.goals.get(goal.id);
    expect(stored.status).toBe('RUNNING');
    expect(stored.approval).toMatchObject({ state: 'approved', stage: 'plan', decidedBy: TEST_PRINCIPAL, comment: 'plan looks right' });
    expect(stored.approval.taskToken).toBeUndefined();
    expect(response.body).toMatchObject({ id: goal.id, status: 'RUNNING', approval: { state: 'approved' } });
    expect(response.raw.body).not.toContain('token-approve');

    const events = (await api.store.events.readEvents(goalStream(goal.id))).events;
    expect(events.at(-1)).toMatchObject({ type: 'Goal.Approved', actor: { kind: 'user', id: TEST_PRINCIPAL }, data: { stage: 'plan', comment: 'plan looks right' } });

    // The gate is answered: a second decision finds nothing waiting.
    expectError(await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'approve' } }), 409, 'NothingAwaitingApproval');
    expect(api.callbacks.succeeded).toHaveLength(1);
  });

  it('reject fails the task token with Approval.Rejected, ends the goal and records Goal.Rejected', async () => {
    const goal = await awaitingApproval('token-reject', 'delivery');
    const response = await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'reject', comment: 'wrong approach' } });
    expectRouteSuccess(decideApprovalRoute, response);
    expect(api.callbacks.failed).toEqual([{ taskToken: 'token-reject', error: 'Approval.Rejected', cause: 'wrong approach' }]);
    expect(api.callbacks.succeeded).toEqual([]);
    const stored = await api.store.goals.get(goal.id);
    expect(stored).toMatchObject({ status: 'CANCELLED', approval: { state: 'rejected', stage: 'delivery' } });
    expect(stored.completedAt).toBeDefined();
    expect((await eventTypes(goal.id)).at(-1)).toBe('Goal.Rejected');
  });

  it('answers 409 when nothing awaits approval, without calling the pipeline', async () => {
    const pending = await newGoal();
    expectError(await request('POST', `/goals/${pending.id}/approvals`, { json: { decision: 'approve' } }), 409, 'NothingAwaitingApproval');
    const running = await newGoal();
    await api.store.goals.transition(running.id, 'RUNNING');
    expectError(await request('POST', `/goals/${running.id}/approvals`, { json: { decision: 'reject' } }), 409, 'NothingAwaitingApproval');
    expect(api.callbacks.succeeded).toEqual([]);
    expect(api.callbacks.failed).toEqual([]);
    expect(await eventTypes(pending.id)).toEqual(['Goal.Created']);
    expectError(await request('POST', `/goals/${newId('goal')}/approvals`, { json: { decision: 'approve' } }), 404, 'NotFound');
  });

  it('answers 409 ApprovalExpired when the pipeline stopped waiting, and records the approval as timed out', async () => {
    const goal = await awaitingApproval('token-lapsed');
    api.callbacks.expired.add('token-lapsed');
    expectError(await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'approve' } }), 409, 'ApprovalExpired');
    const stored = await api.store.goals.get(goal.id);
    expect(stored.approval.state).toBe('timed-out');
    expect(stored.approval.taskToken).toBeUndefined();
    expect(await eventTypes(goal.id)).not.toContain('Goal.Approved');
  });

  it('gives the decision back when answering the token fails for another reason, so a retry works', async () => {
    const goal = await awaitingApproval('token-flaky');
    const original = api.callbacks.succeed.bind(api.callbacks);
    let calls = 0;
    api.callbacks.succeed = async (token, output) => {
      calls += 1;
      if (calls === 1) throw new Error('ThrottlingException');
      return original(token, output);
    };
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      expectError(await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'approve' } }), 500, 'InternalError');
      expect(logged).toHaveBeenCalledOnce();
      expect((await api.store.goals.get(goal.id)).approval).toMatchObject({ state: 'pending', taskToken: 'token-flaky' });
      const retry = await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'approve' } });
      expect(retry.status).toBe(200);
      expect(api.callbacks.succeeded.map((s) => s.taskToken)).toEqual(['token-flaky']);
    } finally {
      api.callbacks.succeed = original;
      logged.mockRestore();
    }
  });

  it('lets a budget approval raise the goal budget, and refuses budgetUsd anywhere else with 422', async () => {
    const plan = await awaitingApproval('token-plan', 'plan');
    expectError(await request('POST', `/goals/${plan.id}/approvals`, { json: { decision: 'approve', budgetUsd: 20 } }), 422, 'BudgetNotApplicable');
    const budget = await awaitingApproval('token-budget', 'budget');
    expectError(await request('POST', `/goals/${budget.id}/approvals`, { json: { decision: 'reject', budgetUsd: 20 } }), 422, 'BudgetNotApplicable');
    expect((await api.store.goals.get(budget.id)).approval.state).toBe('pending');

    const approved = await request('POST', `/goals/${budget.id}/approvals`, { json: { decision: 'approve', budgetUsd: 20 } });
    expect(approved.body).toMatchObject({ budgetOverrideUsd: 20, status: 'RUNNING' });
    expect(api.callbacks.succeeded).toEqual([{ taskToken: 'token-budget', output: { decision: 'approve', by: TEST_PRINCIPAL, budgetUsd: 20 } }]);
  });

  it('settles two simultaneous decisions with exactly one answer to the pipeline', async () => {
    const goal = await awaitingApproval('token-race');
    const [approve, reject] = await Promise.all([
      request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'approve' } }),
      request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'reject' } }),
    ]);
    expect([approve.status, reject.status].sort()).toEqual([200, 409]);
    expect(api.callbacks.succeeded.length + api.callbacks.failed.length).toBe(1);
    const stored = await api.store.goals.get(goal.id);
    expect(stored.status).toBe(approve.status === 200 ? 'RUNNING' : 'CANCELLED');
  });

  it('validates the decision body', async () => {
    const goal = await awaitingApproval('token-body');
    expectError(await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'maybe' } }), 400, 'ValidationFailed');
    expectError(await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'approve', by: 'mallory' } }), 400, 'ValidationFailed');
    expectError(await request('POST', `/goals/${goal.id}/approvals`), 400, 'ValidationFailed');
    expect((await api.store.goals.get(goal.id)).approval.state).toBe('pending');
  });
});

describe('cancel', () => {
  it('stops the execution, moves the goal to CANCELLED and records Goal.Cancelled; a second cancel is 409', async () => {
    const goal = await newGoal();
    await api.store.goals.transition(goal.id, 'RUNNING');
    const response = await request('POST', `/goals/${goal.id}/cancel`, { json: { reason: 'priorities changed' } });
    expectRouteSuccess(cancelGoalRoute, response);
    expect(response.body.status).toBe('CANCELLED');
    expect(api.pipeline.stops).toEqual([{ executionId: goal.executionId, cause: 'priorities changed' }]);
    expect((await api.store.goals.get(goal.id)).status).toBe('CANCELLED');
    const events = (await api.store.events.readEvents(goalStream(goal.id))).events;
    expect(events.at(-1)).toMatchObject({ type: 'Goal.Cancelled', data: { reason: 'priorities changed', from: 'RUNNING' } });

    expectError(await request('POST', `/goals/${goal.id}/cancel`), 409, 'GoalFinished');
    expect(api.pipeline.stops).toHaveLength(1);
  });

  it('answers 409 for goals that already ended, and stops nothing', async () => {
    for (const end of ['SUCCEEDED', 'FAILED'] as const) {
      const goal = await newGoal();
      if (end === 'SUCCEEDED') await api.store.goals.transition(goal.id, 'RUNNING');
      await api.store.goals.transition(goal.id, end);
      expectError(await request('POST', `/goals/${goal.id}/cancel`), 409, 'GoalFinished');
    }
    expect(api.pipeline.stops).toEqual([]);
  });

  it('accepts an empty body without a content type, and ends a pending approval as rejected', async () => {
    const goal = await awaitingApproval('token-cancelled');
    const response = await request('POST', `/goals/${goal.id}/cancel`, { rawBody: '' });
    expect(response.status).toBe(200);
    const stored = await api.store.goals.get(goal.id);
    expect(stored.approval).toMatchObject({ state: 'rejected', decidedBy: TEST_PRINCIPAL });
    expect(stored.approval.taskToken).toBeUndefined();
    expect(api.pipeline.stops[0]?.cause).toBe(`cancelled by ${TEST_PRINCIPAL}`);
    // The approval went with the goal.
    expectError(await request('POST', `/goals/${goal.id}/approvals`, { json: { decision: 'approve' } }), 409, 'NothingAwaitingApproval');
  });

  it('answers 404 for unknown goals and 400 for a bad reason', async () => {
    expectError(await request('POST', `/goals/${newId('goal')}/cancel`), 404, 'NotFound');
    const goal = await newGoal();
    expectError(await request('POST', `/goals/${goal.id}/cancel`, { json: { reason: 42 } }), 400, 'ValidationFailed');
    expectError(await request('POST', `/goals/${goal.id}/cancel`, { rawBody: 'null', headers: { 'Content-Type': 'application/json' } }), 400, 'ValidationFailed');
    expect((await api.store.goals.get(goal.id)).status).toBe('PENDING');
  });
});
