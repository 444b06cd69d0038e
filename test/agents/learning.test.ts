import { describe, expect, it } from 'vitest';
import { lessonsFromOutcome, scoreLessons, selectRelevantLessons, similarityTerms, type GoalOutcome, type LessonLike } from '../../lib/agents/index';
import { NewLessonSchema, newId } from '../../lib/domain/index';
import {
  chooseRoute,
  chooseStartTier,
  costPerSuccess,
  recordRoutingOutcome,
  routingStatsFrom,
} from '../../lib/models/routing';
import type { RoutingObservation } from '../../lib/domain/routing-stat';

const lesson = (text: string, extra: Partial<LessonLike> = {}): LessonLike => ({ text, ...extra });

describe('selectRelevantLessons', () => {
  const lessons = [
    lesson('Database migrations must run inside a transaction; the migration test catches partial schema changes.', { id: 'l1' }),
    lesson('The login endpoint rate limiter must be registered before the auth middleware.', { id: 'l2', role: 'developer' }),
    lesson('Snapshot tests of the dashboard break when the date is not mocked.', { id: 'l3' }),
    lesson('CSS tokens live in src/theme; never hard-code colours in components.', { id: 'l4', role: 'ux' }),
  ];

  it('picks the lessons that share the task\'s words, best first', () => {
    const picked = selectRelevantLessons(lessons, 'Add rate limiting to the login endpoint (auth middleware)', 2);
    expect(picked.map((l) => l.id)).toEqual(['l2']);
    const migrations = selectRelevantLessons(lessons, 'Write a schema migration for the orders table', 3);
    expect(migrations[0]!.id).toBe('l1');
  });

  it('never selects an unrelated lesson, even when fewer than k match', () => {
    expect(selectRelevantLessons(lessons, 'Translate the README into German', 3)).toEqual([]);
    expect(selectRelevantLessons([], 'anything', 3)).toEqual([]);
    expect(selectRelevantLessons(lessons, '', 3)).toEqual([]);
  });

  it('prefers lessons of the same role among similar ones', () => {
    const twins = [lesson('Colour tokens for buttons', { id: 'a' }), lesson('Colour tokens for buttons', { id: 'b', role: 'ux' })];
    expect(selectRelevantLessons(twins, 'button colour tokens', 1, { role: 'ux' })[0]!.id).toBe('b');
    expect(selectRelevantLessons(twins, 'button colour tokens', 2).map((l) => l.id)).toEqual(['a', 'b']);
  });

  it('scores are cosine similarities between 0 and 1 (plus small bonuses)', () => {
    for (const { score } of scoreLessons(lessons, 'login rate limiter middleware test migration')) {
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(scoreLessons([lesson('rate limiter')], 'rate limiter')[0]!.score).toBeCloseTo(1, 6);
  });

  it('splits identifiers and ignores stop words and plurals', () => {
    expect(similarityTerms('The rateLimiter tests for user_sessions')).toEqual(['rate', 'limiter', 'test', 'user', 'session']);
  });
});

describe('lessonsFromOutcome', () => {
  const projectId = newId('project');
  const goalId = newId('goal');
  const [t1, t2, t3, t4] = [newId('task'), newId('task'), newId('task'), newId('task')];
  const call = (model: string) => [{ model, tokens: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 }, costUsd: 0.01, latencyMs: 5 }];
  const outcome: GoalOutcome = {
    goal: { id: goalId, projectId, title: 'Rate limit login' },
    tasks: [
      { id: t1, role: 'developer', kind: 'feature', title: 'Add limiter', status: 'SUCCEEDED', attempts: 2, modelTier: 1 },
      { id: t2, role: 'developer', kind: 'test', title: 'Load test', status: 'FAILED', attempts: 1, modelTier: 0, failureCause: { code: 'Agent.Stuck', message: 'read_file 3 times' } },
      {
        id: t3,
        role: 'reviewer',
        kind: 'review',
        title: 'Review',
        status: 'SUCCEEDED',
        attempts: 1,
        modelTier: 0,
        outputs: {
          review: {
            verdict: 'changes-requested',
            comments: [
              { severity: 'minor', body: 'Rename x.' },
              { file: 'src/limiter.ts', line: 12, severity: 'blocker', body: 'The limiter key ignores X-Forwarded-For.' },
            ],
          },
        },
      },
      { id: t4, role: 'developer', kind: 'rework', title: 'Rework limiter', status: 'SUCCEEDED', attempts: 1, modelTier: 0, reworkOf: t1 },
    ],
    runs: [
      { taskId: t1, role: 'developer', attempt: 2, modelTier: 1, outcome: 'succeeded', costUsd: 0.2, modelCalls: call('bedrock:strong') },
      { taskId: t1, role: 'developer', attempt: 1, modelTier: 0, outcome: 'stuck', costUsd: 0.05, modelCalls: call('bedrock:cheap'), error: { code: 'Agent.Stuck', message: 'loop' } },
      { taskId: t2, role: 'developer', attempt: 1, modelTier: 0, outcome: 'stuck', costUsd: 0.05, modelCalls: call('bedrock:cheap') },
      { taskId: t4, role: 'developer', attempt: 1, modelTier: 0, outcome: 'succeeded', costUsd: 0.05 },
    ],
  };

  it('derives what failed, what finally worked and what review asked for', () => {
    const lessons = lessonsFromOutcome(outcome);
    expect(lessons).toHaveLength(3);
    const [escalation, failure, review] = lessons;
    expect(escalation).toMatchObject({ role: 'developer', taskKind: 'feature', outcome: 'succeeded', sourceGoalId: goalId });
    expect(escalation!.text).toContain('attempt 1 at tier 0 on bedrock:cheap ended stuck (Agent.Stuck: loop)');
    expect(escalation!.text).toContain('succeeded on attempt 2 at tier 1 with bedrock:strong');
    expect(escalation!.tags).toEqual(['escalation', 'developer', 'feature', 'tier-1', 'stuck']);
    expect(failure).toMatchObject({ outcome: 'failed', taskKind: 'test' });
    expect(failure!.text).toContain('Final cause: Agent.Stuck: read_file 3 times');
    expect(review).toMatchObject({ outcome: 'partial', role: 'developer', taskKind: 'feature' });
    // The most severe comment comes first.
    expect(review!.text).toMatch(/changes-requested: \[blocker\] src\/limiter\.ts:12: The limiter key ignores X-Forwarded-For\. \| \[minor\]/);
    for (const l of lessons) expect(NewLessonSchema.safeParse(l).success).toBe(true);
  });

  it('is deterministic and ignores the order runs arrive in', () => {
    const shuffled = { ...outcome, runs: [...outcome.runs].reverse(), tasks: [...outcome.tasks] };
    expect(lessonsFromOutcome(shuffled)).toEqual(lessonsFromOutcome(outcome));
  });

  it('learns nothing from a goal that went smoothly', () => {
    const smooth: GoalOutcome = {
      goal: outcome.goal,
      tasks: [outcome.tasks[0]!],
      runs: [{ taskId: t1, role: 'developer', attempt: 1, modelTier: 0, outcome: 'succeeded', costUsd: 0.01 }],
    };
    expect(lessonsFromOutcome(smooth)).toEqual([]);
  });
});

describe('model routing', () => {
  const policy = ['bedrock:cheap', 'bedrock:mid', 'bedrock:strong'];
  const observe = (model: string, successes: number, failures: number, costUsd: number, kind = 'feature'): RoutingObservation[] => [
    ...Array.from({ length: successes }, () => ({ role: 'developer' as const, kind, model, succeeded: true, costUsd })),
    ...Array.from({ length: failures }, () => ({ role: 'developer' as const, kind, model, succeeded: false, costUsd })),
  ];

  it('accumulates attempts, successes and cost per role × kind × model without changing its input', () => {
    const empty: never[] = [];
    const one = recordRoutingOutcome(empty, { role: 'qa', kind: 'qa', model: 'm', succeeded: true, costUsd: 0.1 });
    const two = recordRoutingOutcome(one, { role: 'qa', kind: 'qa', model: 'm', succeeded: false, costUsd: 0.2 });
    expect(empty).toEqual([]);
    expect(one).toEqual([{ role: 'qa', kind: 'qa', model: 'm', attempts: 1, successes: 1, costUsd: 0.1 }]);
    expect(two).toEqual([{ role: 'qa', kind: 'qa', model: 'm', attempts: 2, successes: 1, costUsd: 0.3 }]);
    expect(costPerSuccess(two[0]!)).toBeCloseTo(0.3, 9);
  });

  it('starts at the cheapest model whose success rate clears the bar', () => {
    const stats = routingStatsFrom([...observe('bedrock:cheap', 3, 7, 0.01), ...observe('bedrock:mid', 9, 1, 0.05), ...observe('bedrock:strong', 10, 0, 0.3)]);
    expect(chooseStartTier(policy, stats, { role: 'developer', kind: 'feature', minSuccessRate: 0.8, minSamples: 5 })).toBe(1);
  });

  it('starts at tier 0 when nothing qualifies or the samples are too few', () => {
    const stats = routingStatsFrom([...observe('bedrock:cheap', 2, 8, 0.01), ...observe('bedrock:strong', 3, 0, 0.3)]);
    const route = chooseRoute(policy, stats, { role: 'developer', kind: 'feature', minSuccessRate: 0.8, minSamples: 5 });
    expect(route.tier).toBe(0);
    expect(route.reason).toMatch(/no model has ≥ 5 attempts/);
    expect(chooseStartTier(policy, [], { role: 'developer', kind: 'feature' })).toBe(0);
  });

  it('compares cost per success, not list order, and keeps kinds and roles apart', () => {
    // The cheap model clears the bar but needs retries; the mid model is cheaper per success.
    const stats = routingStatsFrom([...observe('bedrock:cheap', 8, 2, 0.1), ...observe('bedrock:mid', 10, 0, 0.05), ...observe('bedrock:strong', 10, 0, 0.01, 'docs')]);
    expect(chooseStartTier(policy, stats, { role: 'developer', kind: 'feature' })).toBe(1);
    expect(chooseStartTier(policy, stats, { role: 'developer', kind: 'docs' })).toBe(2);
    expect(chooseStartTier(policy, stats, { role: 'qa', kind: 'feature' })).toBe(0);
  });

  it('breaks cost ties towards the lower tier (free local models)', () => {
    const stats = routingStatsFrom([...observe('bedrock:mid', 10, 0, 0), ...observe('bedrock:cheap', 10, 0, 0)]);
    expect(chooseStartTier(policy, stats, { role: 'developer', kind: 'feature' })).toBe(0);
  });
});
