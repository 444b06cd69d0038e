// Small rules about a goal's state that several pipeline steps and the API share. A leaf module:
// it needs only the store, so the API's goal routes can use it without loading the pipeline's
// workspace and agent code.
import type { Goal } from '../domain/goal';
import type { Runtime } from '../runtime';
import type { Store } from '../store/index';

/** The goal, moved back to RUNNING if a human has just answered its approval gate. */
export async function ensureGoalRunning(runtime: Runtime, goalId: string): Promise<Goal> {
  const goal = await runtime.store.goals.get(goalId);
  if (goal.status === 'AWAITING_APPROVAL' || goal.status === 'BLOCKED') {
    return runtime.store.goals.transition(goalId, 'RUNNING', {}, { idempotent: true });
  }
  return goal;
}

/**
 * Tasks of an ended goal that will never run are CANCELLED. A RUNNING task is left to its agent,
 * which sees the goal ended at its next turn and cancels the task itself.
 */
export async function cancelUnfinishedTasks(store: Store, goalId: string): Promise<void> {
  for (const task of await store.tasks.listAll(goalId)) {
    if (task.status === 'PENDING' || task.status === 'BLOCKED') {
      await store.tasks.transition(goalId, task.id, 'CANCELLED', {}, { idempotent: true });
    }
  }
}
