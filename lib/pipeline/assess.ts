// Assess and learn: when a goal ends, its outcome becomes metrics (lead time, rework rounds) and
// lessons — what failed and why, which model finally succeeded, what review asked for — that the
// context engine puts in front of later agents of the same project. Routing statistics are
// counted per attempt by the agent worker, so the router learns even from goals still running.
import { lessonsFromOutcome } from '../agents/learning';
import type { Goal } from '../domain/goal';
import { logger, metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { hasRecorded, recordGoalEvent } from './events';

const LESSONS_RECORDED = 'lessons';
import { ensureGoalRunning } from './goals';
import type { GoalStepInput } from './inputs';
import { openProjectWorkspace } from './workspace';

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
  await removeTaskBranches(runtime, done);
  return { lessons };
}

/**
 * Once the goal has succeeded its work lives on the goal branch, so the task branches and working
 * copies go. Best effort: a leftover branch is clutter, not a failure. A failed goal keeps them as
 * evidence of what each task did.
 */
async function removeTaskBranches(runtime: Runtime, goal: Goal): Promise<void> {
  try {
    const project = await runtime.store.projects.get(goal.projectId);
    const workspace = await openProjectWorkspace(runtime, project, goal);
    await workspace.removeGoalWorkingCopies(goal.id, { deleteTaskBranches: true });
  } catch (error) {
    logger.warn('could not remove the task branches of a finished goal', { goalId: goal.id, error: error as Error });
  }
}

/** Stores the lessons of a finished goal; called for successes and failures alike. Safe to repeat. */
export async function learnFromGoal(runtime: Runtime, goal: Goal): Promise<number> {
  // A retried step must not store the same lessons twice.
  if (await hasRecorded(runtime, goal, LESSONS_RECORDED)) return 0;
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
    await recordGoalEvent(runtime, { type: 'Lesson.Learned', goal, data: { count: lessons.length }, idempotencyKey: LESSONS_RECORDED });
  }
  return lessons.length;
}
