// Assess and learn: when a goal ends, its outcome becomes metrics (lead time, rework rounds) and
// lessons — what failed and why, which model finally succeeded, what review asked for — that the
// context engine puts in front of later agents of the same project. Routing statistics are
// counted per attempt by the agent worker, so the router learns even from goals still running.
import type { Goal } from '../domain/goal';
import { logger, metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { recordGoalEvent } from './events';
import { ensureGoalRunning } from './goal-state';
import { emitGoalCostMetrics } from './infrastructure-usage';
import type { GoalStepInput } from './inputs';
import { learnFromGoal } from './learning';
import { openProjectWorkspace } from './workspace';

export async function assessGoal(runtime: Runtime, input: GoalStepInput): Promise<{ lessons: number }> {
  const goal = await ensureGoalRunning(runtime, input.goalId);
  const lessons = await learnFromGoal(runtime, goal);
  const done = await runtime.store.goals.transition(goal.id, 'SUCCEEDED', { failureCause: undefined }, { idempotent: true });
  const leadTimeMs = Date.parse(done.completedAt ?? done.updatedAt) - Date.parse(done.createdAt);
  metrics.addMetric('GoalCompleted', 'Count', 1);
  metrics.addMetric('GoalLeadTime', 'Milliseconds', Math.max(0, leadTimeMs));
  await emitGoalCostMetrics(runtime, done);
  await recordGoalEvent(runtime, {
    type: 'Goal.Completed',
    goal,
    data: {
      title: goal.title,
      costUsd: done.costUsd,
      leadTimeMs,
      reworkRounds: done.reworkRounds,
      lessons,
      branch: done.branch,
      // Where the work is, in one field a notification can quote: the pull request, else the branch.
      delivery: done.delivery?.url ?? `branch ${done.delivery?.branch ?? done.branch}`,
    },
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
