// The goal pipeline's gates and failure paths on the local runtime: approvals (approve, reject,
// time out), retries on a stronger model, a task that always fails, review rework (passing and
// exhausted), a budget raise, duplicate and crashed deliveries, and cancellation.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { decideApproval } from '../../lib/api/approvals';
import { apiDependencies } from '../../lib/api/dependencies';
import { cancelGoal } from '../../lib/api/goals';
import type { Actor } from '../../lib/domain/index';
import { LocalQueues, type LocalReceivedMessage } from '../../lib/local/queues';
import { runIdFor } from '../../lib/pipeline/agent-worker';
import { AgentMessageSchema } from '../../lib/pipeline/inputs';
import { forTask, planTurns, qaTurns, reviewTurns, seqOf, startHarness, writeAndFinish, type Harness, type ReplayConversation } from './harness';

const person: Actor = { kind: 'user', id: 'alice' };
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const gate = (review: ReplayConversation['turns'] = reviewTurns('approved')): ReplayConversation[] => [
  { name: 'review', match: { role: 'reviewer' }, turns: review },
  { name: 'qa', match: { role: 'qa' }, turns: qaTurns() },
];

/** A plan of one developer task that writes one file. */
const oneTask = (title = 'Create module alpha', delayMs = 0): ReplayConversation[] => [
  { name: 'plan', match: { role: 'planner' }, turns: planTurns([{ id: 'a', title }]) },
  { name: 'a', match: forTask('developer', title), turns: writeAndFinish('src/alpha.js', 'export const alpha = 1;\n', 'alpha added', delayMs) },
  ...gate(),
];

/** A developer that finishes without a summary twice: invalid, repaired, invalid again → Agent.Failed. */
const invalidFinish = [
  { content: [{ type: 'toolUse', name: 'finish', input: { notes: 'forgot the summary' } }] },
  { content: [{ type: 'toolUse', name: 'finish', input: { notes: 'still no summary' } }] },
];

async function awaitingApproval(harness: Harness, goalId: string, stage: string) {
  return waitFor(async () => {
    const goal = await harness.local.store.goals.get(goalId);
    return goal.status === 'AWAITING_APPROVAL' && goal.approval.state === 'pending' && goal.approval.stage === stage ? goal : undefined;
  }, `a pending ${stage} approval`);
}

describe('plan approval (autonomy 2)', () => {
  it('waits for a person, then runs the plan once approved', async () => {
    h = await startHarness({ models: (replay) => ({ all: [replay('m', oneTask())] }), project: { autonomyLevel: 2 } });
    const { goal, executionId } = await h.startGoal('Add alpha');
    await awaitingApproval(h, goal.id, 'plan');
    expect((await h.local.store.tasks.listAll(goal.id)).filter((t) => t.status === 'RUNNING')).toEqual([]);
    await decideApproval(await apiDependencies(), goal.id, { decision: 'approve', comment: 'go' }, person);
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const done = await h.local.store.goals.get(goal.id);
    expect(done.status).toBe('SUCCEEDED');
    const types = (await h.events(goal.id)).map((e) => e.type);
    expect(types.indexOf('Goal.AwaitingApproval')).toBeLessThan(types.indexOf('Goal.Approved'));
    expect(types.indexOf('Goal.Approved')).toBeLessThan(types.lastIndexOf('Task.Started'));
  });

  it('asks for the plan and again before delivery at autonomy 1', async () => {
    h = await startHarness({ models: (replay) => ({ all: [replay('m', oneTask())] }), project: { autonomyLevel: 1 } });
    const { goal, executionId } = await h.startGoal('Add alpha');
    await awaitingApproval(h, goal.id, 'plan');
    await decideApproval(await apiDependencies(), goal.id, { decision: 'approve' }, person);
    await awaitingApproval(h, goal.id, 'delivery');
    // The work is done and reviewed, but not delivered until a person says so.
    expect((await h.events(goal.id)).some((e) => e.type === 'Delivery.Created')).toBe(false);
    await decideApproval(await apiDependencies(), goal.id, { decision: 'approve' }, person);
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await h.local.store.goals.get(goal.id)).status).toBe('SUCCEEDED');
    expect((await h.events(goal.id)).filter((e) => e.type === 'Goal.Approved')).toHaveLength(2);
  });

  it('cancels the goal when the plan is rejected, without working any task', async () => {
    h = await startHarness({ models: (replay) => ({ all: [replay('m', oneTask())] }), project: { autonomyLevel: 2 } });
    const { goal, executionId } = await h.startGoal('Add alpha');
    await awaitingApproval(h, goal.id, 'plan');
    await decideApproval(await apiDependencies(), goal.id, { decision: 'reject', comment: 'not now' }, person);
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const done = await h.local.store.goals.get(goal.id);
    expect(done.status).toBe('CANCELLED');
    const tasks = await h.local.store.tasks.listAll(goal.id);
    expect(tasks.filter((t) => t.kind !== 'plan').every((t) => t.status === 'CANCELLED')).toBe(true);
    expect(h.repo.git('log', '--oneline', `main..cahoots/${goal.id}`)).toBe('');
  });

  it("hands a rejected goal's finding back to detection, whether detection or an issue started the goal", async () => {
    h = await startHarness({ models: (replay) => ({ all: [replay('m', oneTask())] }), project: { autonomyLevel: 2 } });
    const { store } = h.local;
    const projectId = h.project.id;
    for (const [fingerprint, detector] of [['failing-tests:0badc0de', 'failing-tests'], ['issue:acme/shop#7', 'issue']] as const) {
      await store.findings.upsert({ projectId, detector, fingerprint, title: fingerprint, severity: 'high', effort: 'small', score: 10 });
    }
    const detected = await h.startGoal('Add alpha', { source: 'detection', sourceRef: 'failing-tests:0badc0de' });
    // Asked for in a comment on issue 7: the webhook marked issue 7's finding in progress with the goal.
    const asked = await h.startGoal('Add alpha', { source: 'webhook', sourceRef: 'https://github.com/acme/shop/issues/7#issuecomment-42' });
    await store.findings.setStatus(projectId, 'failing-tests:0badc0de', 'in-progress', detected.goal.id);
    await store.findings.setStatus(projectId, 'issue:acme/shop#7', 'in-progress', asked.goal.id);

    for (const { goal, executionId } of [detected, asked]) {
      await awaitingApproval(h, goal.id, 'plan');
      await decideApproval(await apiDependencies(), goal.id, { decision: 'reject' }, person);
      expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
      expect((await store.goals.get(goal.id)).status).toBe('CANCELLED');
    }
    const statusOf = async (fingerprint: string) => (await store.findings.get(projectId, fingerprint)).status;
    expect(await statusOf('failing-tests:0badc0de')).toBe('open');
    expect(await statusOf('issue:acme/shop#7')).toBe('open');
  });

  it('cancels the goal when nobody answers in time', async () => {
    h = await startHarness({
      models: (replay) => ({ all: [replay('m', oneTask())] }),
      project: { autonomyLevel: 1 },
      runtime: { config: { approvalTimeoutSeconds: 1 } },
    });
    const { goal, executionId } = await h.startGoal('Add alpha');
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const done = await h.local.store.goals.get(goal.id);
    expect(done.status).toBe('CANCELLED');
    expect(done.approval.state).toBe('timed-out');
    expect(done.failureCause?.code).toBe('States.Timeout');
  });
});

describe('retries and failures', () => {
  it('retries a failed task on the next, stronger model and succeeds', async () => {
    h = await startHarness({
      models: (replay) => ({
        all: [
          // The weak model leaves a stray file behind before failing; the retry must not inherit it.
          replay('weak', [
            ...oneTask().filter((c) => c.name !== 'a'),
            {
              name: 'a',
              match: forTask('developer', 'Create module alpha'),
              turns: [{ content: [{ type: 'toolUse', name: 'write_file', input: { path: 'src/stray.js', content: 'broken(\n' } }] }, ...invalidFinish],
            },
          ]),
          replay('strong', oneTask()),
        ],
      }),
    });
    const { goal, executionId } = await h.startGoal('Add alpha');
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const task = (await h.local.store.tasks.listAll(goal.id)).find((t) => t.planKey === 'a')!;
    expect(task).toMatchObject({ status: 'SUCCEEDED', attempts: 2, modelTier: 1 });
    const events = await h.events(goal.id);
    const failed = events.filter((e) => e.type === 'Task.Failed' && e.taskId === task.id);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ final: false, error: 'Agent.Failed' });
    expect(seqOf(events, 'Task.Succeeded', task.id)[0]).toBeGreaterThan(failed[0]!.seq);
    expect(h.repo.git('show', `cahoots/${goal.id}:src/alpha.js`)).toContain('alpha');
    expect(h.repo.git('ls-tree', '-r', '--name-only', `cahoots/${goal.id}`)).not.toContain('src/stray.js');
  });

  it('fails the goal with a readable cause when a task keeps failing, blocking its dependants', async () => {
    const conversations: ReplayConversation[] = [
      { name: 'plan', match: { role: 'planner' }, turns: planTurns([
        { id: 'a', title: 'Create module alpha' },
        { id: 'b', title: 'Create module beta', dependsOn: ['a'] },
        { id: 'c', title: 'Create module gamma', dependsOn: ['b'] },
      ]) },
      { name: 'a', match: forTask('developer', 'Create module alpha'), turns: writeAndFinish('src/alpha.js', 'export const alpha = 1;\n', 'alpha added') },
      { name: 'b', match: forTask('developer', 'Create module beta'), turns: invalidFinish },
      ...gate(),
    ];
    h = await startHarness({ models: (replay) => ({ all: [replay('weak', conversations), replay('strong', conversations)] }) });
    const { goal, executionId } = await h.startGoal('Add modules');
    const outcome = await h.wait(executionId);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'Goal.Failed' });
    const tasks = await h.local.store.tasks.listAll(goal.id);
    const byKey = (key: string) => tasks.find((t) => t.planKey === key)!;
    expect(byKey('a').status).toBe('SUCCEEDED');
    expect(byKey('b')).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(byKey('c').status).toBe('CANCELLED'); // blocked first, then cancelled when the goal ended
    const done = await h.local.store.goals.get(goal.id);
    expect(done.status).toBe('FAILED');
    expect(done.failureCause?.message).toContain('"Create module beta"');
    expect(done.failureCause?.message).toContain('invalid-finish');
    const events = await h.events(goal.id);
    expect(events.some((e) => e.type === 'Task.Blocked' && e.taskId === byKey('c').id)).toBe(true);
    expect(events.at(-1)?.type).toBe('Goal.Failed');
  });
});

describe('quality gate', () => {
  const title = 'Add alpha';
  const reviewRounds = (rounds: Array<'approved' | 'changes-requested'>): ReplayConversation[] =>
    rounds.map((verdict, i) => ({ name: `review-${i + 1}`, match: { role: 'reviewer', promptIncludes: `# Task: Review round ${i + 1}` }, turns: reviewTurns(verdict, 'alpha must be 2') }));
  const rework = (round: number): ReplayConversation => ({
    name: `rework-${round}`,
    // Matches only when the reviewer's comment reached the developer as untrusted feedback data.
    match: { role: 'developer', promptIncludes: [`# Task: Rework round ${round}: ${title}`, '<untrusted source="feedback:reviewer">', 'alpha must be 2'] },
    turns: writeAndFinish('src/alpha.js', 'export const alpha = 2;\n', 'alpha is 2 now'),
  });

  it('sends requested changes back to a developer and delivers once the review passes', async () => {
    h = await startHarness({
      models: (replay) => ({
        all: [replay('m', [...oneTask().filter((c) => c.name !== 'review'), ...reviewRounds(['changes-requested', 'approved']), rework(1)])],
      }),
    });
    const { goal, executionId } = await h.startGoal(title);
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const done = await h.local.store.goals.get(goal.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', reworkRounds: 1 });
    const events = await h.events(goal.id);
    expect(events.filter((e) => e.type === 'Rework.Requested')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'Review.Verdict').map((e) => e.data.verdict)).toEqual(['changes-requested', 'approved']);
    expect(h.repo.git('show', `cahoots/${goal.id}:src/alpha.js`)).toContain('alpha = 2');
    // The findings travel as data on the rework task, never as text in its spec.
    const reworkTask = (await h.local.store.tasks.listAll(goal.id)).find((t) => t.kind === 'rework')!;
    expect(reworkTask.spec).not.toContain('alpha must be 2');
    expect(reworkTask.feedback).toEqual([
      expect.objectContaining({ from: 'reviewer', verdict: 'changes-requested', comments: [expect.objectContaining({ file: 'src/math.js', body: 'alpha must be 2' })] }),
    ]);
    expect(reworkTask.acceptanceCriteria).toEqual(['Review comment 1 (major, src/math.js:1) is addressed']);
  });

  it('lets QA add a missing test when the project allows it, and delivers the test with the work', async () => {
    const test = "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { alpha } from '../src/alpha.js';\n\ntest('alpha', () => assert.equal(alpha, 1));\n";
    const qaWritesTests: ReplayConversation = {
      name: 'qa-writes',
      // Matches only when QA was told it may write tests, which only the project setting does.
      match: { role: 'qa', promptIncludes: 'You may create or edit test files only' },
      turns: [
        { content: [{ type: 'toolUse', name: 'write_file', input: { path: 'test/alpha.test.js', content: test } }] },
        { content: [{ type: 'toolUse', name: 'run_command', input: { argv: ['node', '--test'] } }] },
        {
          content: [
            { type: 'toolUse', name: 'finish', input: { summary: 'Added a test for alpha.', testResults: { command: 'node --test', passed: 2, failed: 0, skipped: 0 }, passed: true } },
          ],
        },
      ],
    };
    h = await startHarness({
      models: (replay) => ({ all: [replay('m', [...oneTask().filter((c) => c.name !== 'qa'), qaWritesTests])] }),
      project: { qaMayWriteTests: true },
    });
    const { goal, executionId } = await h.startGoal(title);
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(h.repo.git('show', `cahoots/${goal.id}:test/alpha.test.js`)).toContain("test('alpha'");
    const qa = (await h.local.store.tasks.listAll(goal.id)).find((t) => t.kind === 'qa')!;
    expect(qa.outputs).toMatchObject({ filesChanged: ['test/alpha.test.js'], testResults: { passed: 2, failed: 0 } });
  });

  it('fails the goal when the review still asks for changes after the last rework round', async () => {
    h = await startHarness({
      models: (replay) => ({
        all: [replay('m', [...oneTask().filter((c) => c.name !== 'review'), ...reviewRounds(['changes-requested', 'changes-requested']), rework(1)])],
      }),
      project: { maxReworkRounds: 1 },
    });
    const { goal, executionId } = await h.startGoal(title);
    expect(await h.wait(executionId)).toMatchObject({ status: 'FAILED' });
    const done = await h.local.store.goals.get(goal.id);
    expect(done.status).toBe('FAILED');
    expect(done.failureCause?.message).toMatch(/still asked for changes after 1 rework round/);
    expect(done.failureCause?.message).toContain('alpha must be 2');
  });
});

describe('budget', () => {
  it('stops at the budget, waits for a raise, and completes once it is approved', async () => {
    let developerModel = '';
    h = await startHarness({
      models: (replay) => {
        developerModel = replay('priced', oneTask());
        const free = replay('free', oneTask());
        return { all: [free], byRole: { developer: [developerModel] } };
      },
      project: { budgets: { perGoalUsd: 1 } },
      runtime: { config: {} },
    });
    // The developer's model is expensive: its first call's worst case is far above $1.
    h.local.runtime.config.prices = { [developerModel]: { input: 1000, output: 1000, cacheRead: 1000, cacheWrite: 1000 } };
    const { goal, executionId } = await h.startGoal('Add alpha');
    const waiting = await awaitingApproval(h, goal.id, 'budget');
    expect(waiting.costUsd).toBeLessThanOrEqual(1);
    const events = await h.events(goal.id);
    expect(events.some((e) => e.type === 'Budget.Exceeded')).toBe(true);
    await decideApproval(await apiDependencies(), goal.id, { decision: 'approve', budgetUsd: 5_000 }, person);
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const done = await h.local.store.goals.get(goal.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', budgetOverrideUsd: 5_000 });
    expect(done.costUsd).toBeGreaterThan(1);
  });
});

describe("budget gate reached on the project's daily budget", () => {
  it("names the daily budget, refuses decisions that would stop again, and raises the project's limit when approved", async () => {
    let developerModel = '';
    h = await startHarness({
      models: (replay) => {
        developerModel = replay('priced', oneTask());
        return { all: [replay('free', oneTask())], byRole: { developer: [developerModel] } };
      },
      // A generous goal budget: only the project's day can stop this goal.
      project: { budgets: { perGoalUsd: 1_000_000, perProjectDailyUsd: 1, perProjectMonthlyUsd: 100_000 } },
    });
    h.local.runtime.config.prices = { [developerModel]: { input: 1000, output: 1000, cacheRead: 1000, cacheWrite: 1000 } };
    const { goal, executionId } = await h.startGoal('Add alpha');
    const waiting = await awaitingApproval(h, goal.id, 'budget');
    expect(waiting.approval.budget).toMatchObject({ scope: 'project-daily', limitUsd: 1 });
    const asked = await waitFor(async () => (await h!.events(goal.id)).find((e) => e.type === 'Goal.AwaitingApproval' && e.data.stage === 'budget'), 'the approval request event');
    expect(asked?.data).toMatchObject({ budgetScope: 'project-daily', budgetUsd: 1 });

    const deps = await apiDependencies();
    // Raising the goal's budget is what failed before: the same gate came back at once.
    await expect(decideApproval(deps, goal.id, { decision: 'approve' }, person)).rejects.toThrow(/project's daily budget.*send budgetUsd/);
    await expect(decideApproval(deps, goal.id, { decision: 'approve', budgetUsd: waiting.approval.budget!.spentUsd }, person)).rejects.toThrow(
      /would not lift the project's daily budget/,
    );
    // Refused decisions leave the gate open for a good one.
    expect((await h.local.store.goals.get(goal.id)).approval.state).toBe('pending');

    await decideApproval(deps, goal.id, { decision: 'approve', budgetUsd: 500_000 }, person);
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const project = await h.local.store.projects.get(goal.projectId);
    expect(project.budgets).toEqual({ perGoalUsd: 1_000_000, perProjectDailyUsd: 500_000, perProjectMonthlyUsd: 100_000 });
    const done = await h.local.store.goals.get(goal.id);
    expect(done.budgetOverrideUsd).toBeUndefined();
    expect(done.costUsd).toBeGreaterThan(1);
    const approved = (await h.events(goal.id)).find((e) => e.type === 'Goal.Approved');
    expect(approved?.data).toMatchObject({ stage: 'budget', budgetUsd: 500_000, budgetScope: 'project-daily' });
    const projectEvents = await h.local.store.events.readEvents({ kind: 'project', projectId: goal.projectId });
    expect(projectEvents.events.find((e) => e.type === 'Project.SettingsChanged')?.data).toMatchObject({ changed: ['budgets'], perProjectDailyUsd: 500_000, approvedAtGoal: goal.id });
  });
});

describe('budget with parallel tasks', () => {
  it('answers every task that ran out of budget with one decision', async () => {
    let developerModel = '';
    const conversations: ReplayConversation[] = [
      { name: 'plan', match: { role: 'planner' }, turns: planTurns([
        { id: 'a', title: 'Create module alpha' },
        { id: 'b', title: 'Create module beta' },
      ]) },
      { name: 'a', match: forTask('developer', 'Create module alpha'), turns: writeAndFinish('src/alpha.js', 'export const alpha = 1;\n', 'alpha added') },
      { name: 'b', match: forTask('developer', 'Create module beta'), turns: writeAndFinish('src/beta.js', 'export const beta = 1;\n', 'beta added') },
      ...gate(),
    ];
    h = await startHarness({
      models: (replay) => {
        developerModel = replay('priced', conversations);
        return { all: [replay('free', conversations)], byRole: { developer: [developerModel] } };
      },
      project: { budgets: { perGoalUsd: 1 } },
    });
    h.local.runtime.config.prices = { [developerModel]: { input: 1000, output: 1000, cacheRead: 1000, cacheWrite: 1000 } };
    const { goal, executionId } = await h.startGoal('Add modules');
    const waiting = await waitFor(async () => {
      const g = await h!.local.store.goals.get(goal.id);
      return g.status === 'AWAITING_APPROVAL' && (g.approval.waitingTokens?.length ?? 0) === 1 ? g : undefined;
    }, 'both tasks at the budget gate');
    expect(waiting.approval.stage).toBe('budget');
    await decideApproval(await apiDependencies(), goal.id, { decision: 'approve', budgetUsd: 5_000 }, person);
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const tasks = await h.local.store.tasks.listAll(goal.id);
    expect(tasks.filter((t) => t.kind === 'feature').map((t) => t.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect((await h.local.store.goals.get(goal.id)).approval).not.toHaveProperty('waitingTokens');
  });
});

describe('at-least-once delivery', () => {
  it('works a task exactly once despite a duplicated message and a crash mid-task', async () => {
    // The queues keep the runtime's long visibility timeout, so no healthy run, however slow the
    // machine, is redelivered while it works. Only the crashed delivery comes back, at once, as it
    // would when its visibility timeout ran out.
    // The consumers start polling inside startHarness, so the deliveries are recorded on the class.
    const developerDeliveries: LocalReceivedMessage[] = [];
    const receive = LocalQueues.prototype.receive;
    LocalQueues.prototype.receive = async function (this: LocalQueues, reference, options) {
      const received = await receive.call(this, reference, options);
      if (reference === 'developer') developerDeliveries.push(...received);
      return received;
    };
    onTestFinished(() => {
      LocalQueues.prototype.receive = receive;
    });
    h = await startHarness({ models: (replay) => ({ all: [replay('m', oneTask('Create module alpha', 200))] }) });
    const queues = h.local.queues;
    const send = queues.send.bind(queues);
    // Every developer dispatch arrives twice, as SQS may deliver it.
    queues.send = (reference, body, options) => {
      const sent = send(reference, body, options);
      if (reference.endsWith('/developer')) send(reference, body, options);
      return sent;
    };
    // Each agent run reads the routing statistics right after claiming its task. The second read
    // is the developer's: that run crashes there, holding the task (as if its Lambda died).
    // Before dying it leaves an edit in its working copy that no commit or checkpoint recorded.
    const stats = h.local.store.routingStats;
    const list = stats.list.bind(stats);
    let reads = 0;
    let crashed = false;
    stats.list = async (projectId) => {
      reads++;
      if (reads === 2) {
        crashed = true;
        const running = (await h!.local.store.tasks.listAll(goalId)).find((t) => t.status === 'RUNNING' && t.role === 'developer')!;
        const copy = readdirSync(h!.repo.scratch, { recursive: true, encoding: 'utf8' }).find((p) => p.endsWith(join(goalId, running.id)))!;
        writeFileSync(join(h!.repo.scratch, copy, 'stray.js'), 'left by the killed attempt\n');
        await expireCrashedDelivery();
        throw new Error('simulated crash');
      }
      return list(projectId);
    };
    /** The delivery whose run holds the task is the one crashing: its message becomes visible again. */
    async function expireCrashedDelivery(): Promise<void> {
      for (const delivery of developerDeliveries) {
        const message = AgentMessageSchema.parse(JSON.parse(delivery.body));
        const task = await h!.local.store.tasks.get(message.goalId, message.taskId);
        const runId = runIdFor(message, { messageId: delivery.messageId, sentAtMs: Number(delivery.attributes.SentTimestamp) });
        if (task.runId === runId) return queues.changeVisibility('developer', delivery.receiptHandle, 0);
      }
      throw new Error('no developer delivery holds the task');
    }

    let goalId = '';
    const { goal, executionId } = await h.startGoal('Add alpha');
    goalId = goal.id;
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(crashed).toBe(true);
    // planner, the crashed developer run, its redelivery, reviewer, QA — the duplicate never ran.
    expect(reads).toBe(5);
    const task = (await h.local.store.tasks.listAll(goal.id)).find((t) => t.planKey === 'a')!;
    expect(task).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    const events = await h.events(goal.id);
    expect(seqOf(events, 'Task.Started', task.id)).toHaveLength(1);
    expect(seqOf(events, 'Task.Succeeded', task.id)).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(h.repo.git('log', '--format=%s', `main..cahoots/${goal.id}`).split('\n').filter((s) => s.startsWith('Create module alpha'))).toHaveLength(1);
    // The redelivered run started from the goal branch, not from the killed attempt's files.
    expect(h.repo.git('ls-tree', '-r', '--name-only', `cahoots/${goal.id}`)).not.toContain('stray.js');
  });
});

describe('merge conflicts', () => {
  it('turns a conflicting merge into a resolution task and delivers both changes', async () => {
    const edit = (value: string) => `export function add(a, b) {\n  return a + b; // ${value}\n}\n`;
    const conversations: ReplayConversation[] = [
      { name: 'plan', match: { role: 'planner' }, turns: planTurns([
        { id: 'b', title: 'Note overflow in add' },
        { id: 'c', title: 'Note rounding in add' },
      ]) },
      { name: 'b', match: forTask('developer', 'Note overflow in add'), turns: writeAndFinish('src/math.js', edit('may overflow'), 'overflow noted') },
      { name: 'c', match: forTask('developer', 'Note rounding in add'), turns: writeAndFinish('src/math.js', edit('may round'), 'rounding noted', 300) },
      {
        name: 'resolve',
        match: { role: 'developer', promptIncludes: '# Task: Resolve merge conflict' },
        turns: [
          { content: [{ type: 'toolUse', name: 'read_file', input: { path: 'src/math.js' } }], expect: { lastMessageIncludes: '<<<<<<<' } },
          ...writeAndFinish('src/math.js', edit('may overflow and may round'), 'kept both notes'),
        ],
      },
      ...gate(),
    ];
    h = await startHarness({ models: (replay) => ({ all: [replay('m', conversations)] }) });
    const { goal, executionId } = await h.startGoal('Document add');
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const events = await h.events(goal.id);
    const conflict = events.find((e) => e.type === 'Merge.Conflict');
    expect(conflict?.data.paths).toEqual(['src/math.js']);
    const resolution = await h.local.store.tasks.get(goal.id, String(conflict!.data.resolutionTaskId));
    expect(resolution).toMatchObject({ kind: 'conflict', status: 'SUCCEEDED' });
    const merged = h.repo.git('show', `cahoots/${goal.id}:src/math.js`);
    expect(merged).toContain('may overflow and may round');
    expect(merged).not.toMatch(/^(<<<<<<<|>>>>>>>|=======)/m);
  });
});

describe('long-running agents', () => {
  it('checkpoints a run near its deadline and finishes it in a continuation', async () => {
    // The agent's invocation has 91 s; the worker suspends when under 90 s remain, so the slow
    // first turn pushes the run into a checkpoint and a continuation message.
    h = await startHarness({
      models: (replay) => ({ all: [replay('m', oneTask('Create module alpha', 1_200))] }),
      runtime: { config: { taskTimeoutSeconds: 91 } },
    });
    const { goal, executionId } = await h.startGoal('Add alpha');
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const task = (await h.local.store.tasks.listAll(goal.id)).find((t) => t.planKey === 'a')!;
    expect(task).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    const events = await h.events(goal.id);
    const continued = events.filter((e) => e.type === 'Task.Continued' && e.taskId === task.id);
    expect(continued.length).toBeGreaterThanOrEqual(1);
    const checkpoint = await h.local.runtime.ports.artifacts.get(String(continued[0]!.data.checkpointKey));
    expect(JSON.parse(Buffer.from(checkpoint!).toString('utf8'))).toMatchObject({ taskId: task.id, turns: 1 });
    expect(seqOf(events, 'Task.Started', task.id)).toHaveLength(1);
    expect(h.repo.git('show', `cahoots/${goal.id}:src/alpha.js`)).toContain('alpha');
  });
});

describe('cancellation', () => {
  it('stops a running goal: nothing further is dispatched and the goal ends CANCELLED', async () => {
    const conversations: ReplayConversation[] = [
      { name: 'plan', match: { role: 'planner' }, turns: planTurns([
        { id: 'a', title: 'Create module alpha' },
        { id: 'b', title: 'Create module beta', dependsOn: ['a'] },
      ]) },
      { name: 'a', match: forTask('developer', 'Create module alpha'), turns: writeAndFinish('src/alpha.js', 'export const alpha = 1;\n', 'alpha added', 1_500) },
      { name: 'b', match: forTask('developer', 'Create module beta'), turns: writeAndFinish('src/beta.js', 'export const beta = 1;\n', 'beta added') },
      ...gate(),
    ];
    h = await startHarness({ models: (replay) => ({ all: [replay('m', conversations)] }) });
    const { goal, executionId } = await h.startGoal('Add modules');
    const tasks = await waitFor(async () => {
      const all = await h!.local.store.tasks.listAll(goal.id);
      return all.some((t) => t.planKey === 'a' && t.status === 'RUNNING') ? all : undefined;
    }, 'task a to start');
    await cancelGoal(await apiDependencies(), goal.id, { reason: 'changed our minds' }, person);
    const outcome = await h.wait(executionId);
    expect(outcome.status).toBe('ABORTED');
    expect((await h.local.store.goals.get(goal.id)).status).toBe('CANCELLED');
    // The agent that was mid-task finishes its turn, however long that takes, and ends its task.
    const a = tasks.find((t) => t.planKey === 'a')!;
    await waitFor(async () => (await h!.local.store.tasks.get(goal.id, a.id)).status === 'CANCELLED', 'task a to end CANCELLED', 50_000);
    // Its end led to no more work, and its work never reached the goal branch.
    const b = tasks.find((t) => t.planKey === 'b')!;
    const events = await h.events(goal.id);
    expect(seqOf(events, 'Task.Started', b.id)).toEqual([]);
    expect((await h.local.store.tasks.get(goal.id, b.id)).status).toBe('CANCELLED');
    expect(h.repo.git('log', '--oneline', `main..cahoots/${goal.id}`)).toBe('');
  });
});
