// The goal pipeline end to end on the local runtime: a diamond task graph (A → B, A → C, B+C → D)
// planned, worked in parallel where the graph allows, reviewed, tested and delivered on a branch.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forTask, planTurns, qaTurns, reviewTurns, seqOf, startHarness, writeAndFinish, type Harness } from './harness';

describe('a diamond goal', () => {
  let h: Harness;
  let goalId: string;
  let outcome: Awaited<ReturnType<Harness['wait']>>;

  beforeAll(async () => {
    h = await startHarness({
      models: (replay) => ({
        all: [
          replay('diamond', [
            { name: 'plan', match: { role: 'planner' }, turns: planTurns([
              { id: 'a', title: 'Create module alpha' },
              { id: 'b', title: 'Create module beta', dependsOn: ['a'] },
              { id: 'c', title: 'Create module gamma', dependsOn: ['a'] },
              { id: 'd', title: 'Create module delta', dependsOn: ['b', 'c'] },
            ]) },
            { name: 'a', match: forTask('developer', 'Create module alpha'), turns: writeAndFinish('src/alpha.js', 'export const alpha = 1;\n', 'alpha added') },
            { name: 'b', match: forTask('developer', 'Create module beta'), turns: writeAndFinish('src/beta.js', 'export const beta = 2;\n', 'beta added', 800) },
            { name: 'c', match: forTask('developer', 'Create module gamma'), turns: writeAndFinish('src/gamma.js', 'export const gamma = 3;\n', 'gamma added', 800) },
            { name: 'd', match: forTask('developer', 'Create module delta'), turns: writeAndFinish('src/delta.js', 'export const delta = 4;\n', 'delta added') },
            { name: 'review', match: { role: 'reviewer' }, turns: reviewTurns('approved') },
            { name: 'qa', match: { role: 'qa' }, turns: qaTurns() },
          ]),
        ],
      }),
    });
    const started = await h.startGoal('Add four modules');
    goalId = started.goal.id;
    outcome = await h.wait(started.executionId);
  });

  afterAll(() => h?.stop());

  it('succeeds and marks the goal SUCCEEDED', async () => {
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    const goal = await h.local.store.goals.get(goalId);
    expect(goal.status).toBe('SUCCEEDED');
    expect(goal.planSummary).toBe('A plan of 4 task(s)');
  });

  it('runs B and C concurrently and D only after both', async () => {
    const tasks = await h.local.store.tasks.listAll(goalId);
    const id = (key: string) => tasks.find((t) => t.planKey === key)!.id;
    const events = await h.events(goalId);
    const [startB] = seqOf(events, 'Task.Started', id('b'));
    const [startC] = seqOf(events, 'Task.Started', id('c'));
    const [doneB] = seqOf(events, 'Task.Succeeded', id('b'));
    const [doneC] = seqOf(events, 'Task.Succeeded', id('c'));
    const [startD] = seqOf(events, 'Task.Started', id('d'));
    const [doneA] = seqOf(events, 'Task.Succeeded', id('a'));
    expect(startB).toBeGreaterThan(doneA!);
    expect(startC).toBeGreaterThan(doneA!);
    // Both started before either finished: they overlapped.
    expect(Math.max(startB!, startC!)).toBeLessThan(Math.min(doneB!, doneC!));
    expect(startD).toBeGreaterThan(Math.max(doneB!, doneC!));
  });

  it('delivers every change on the goal branch of the real repository', async () => {
    const branch = `cahoots/${goalId}`;
    for (const file of ['alpha', 'beta', 'gamma', 'delta']) {
      expect(h.repo.git('show', `${branch}:src/${file}.js`)).toContain(`export const ${file}`);
    }
    expect(h.repo.git('log', '--format=%an', `main..${branch}`)).toContain('Cahoots developer');
    // The task branches were folded into the goal branch and removed.
    expect(h.repo.git('branch', '--list', `cahoots-task/${goalId}/*`)).toBe('');
    // The project's own checkout was not touched.
    expect(h.repo.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(readFileSync(`${h.repo.dir}/src/math.js`, 'utf8')).toContain('add');
  });

  it('keeps a gap-free event log that tells the whole story once', async () => {
    const events = await h.events(goalId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    const types = events.map((e) => e.type);
    for (const type of ['Goal.Started', 'Goal.Planned', 'Review.Verdict', 'Qa.Result', 'Delivery.Created', 'Goal.Completed']) {
      expect(types).toContain(type);
    }
    expect(types.filter((t) => t === 'Task.Succeeded')).toHaveLength(7); // plan, 4 work tasks, review, qa
    expect(types.at(-1)).toBe('Goal.Completed');
  });
});
