// Assess and learn: when a goal ends, its outcome becomes metrics (lead time, rework rounds) and
// lessons — what failed and why, which model finally succeeded, what review asked for — that the
// context engine puts in front of later agents of the same project. Routing statistics are
// counted per attempt by the agent worker, so the router learns even from goals still running.
import { lessonsFromOutcome } from '../agents/learning';
import type { Goal } from '../domain/goal';
import { metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { recordGoalEvent } from './events';
import { ensureGoalRunning } from './goals';
import type { GoalStepInput } from './inputs';

export async function assessGoal(runtime: Runtime, input: GoalStepInput): Promise<{ lessons: number }> {
  const goal = await ensureGoalRunning(runtime, input.goalId);
  const lessons = await learnFromGoal(runtime, goal);
  const done = await runtime.store.goals.transition(goal.id, 'SUCCEEDED', { failureCause: undefined }, { idempotent: true });
  const leadTimeMs = Date.parse(done.completedAt ?? done.updatedAt) - Date.parse(done.createdAt);
  metrics.addMetric('GoalCompleted', 'Count', 1);
  metrics.addMetric('GoalLeadTime', 'Milliseconds', Math.max(0, leadTimeMs));
  await recordGoalEvent(runtime, {
    type: 'Goal.Completed',
    goal,
    data: { costUsd: done.costUsd, leadTimeMs, reworkRounds: done.reworkRounds, lessons, branch: done.branch },
    idempotencyKey: 'completed',
  });
  return { lessons };
}

/** Stores the lessons of a finished goal; called for successes and failures alike. Safe to repeat. */
export async function learnFromGoal(runtime: Runtime, goal: Goal): Promise<number> {
  const tasks = await runtime.store.tasks.listAll(goal.id);
  const runs = [];
  let cursor: string | undefined;
  do {
    const page = await runtime.store.agentRuns.listByGoal(goal.id, { limit: 100, ...(cursor ? { cursor } : {}) });
    runs.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  const lessons = lessonsFromOutcome({ goal, tasks, runs });
  for (const lesson of lessons) await runtime.store.lessons.put(lesson);
  if (lessons.length > 0) {
    await recordGoalEvent(runtime, { type: 'Lesson.Learned', goal, data: { count: lessons.length }, idempotencyKey: 'lessons' });
  }
  return lessons.length;
}
