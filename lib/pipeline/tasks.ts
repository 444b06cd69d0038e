// Pipeline steps about the task graph: which tasks can run next, and what a task's final failure
// does to the tasks that depend on it.
import { isTerminal } from '../domain/status';
import { readyTasks } from '../domain/task-graph';
import { logger } from '../powertools';
import type { Runtime } from '../runtime';
import { recordGoalEvent } from './events';
import { isWorkTask, taskRef } from './dispatch';
import { ensureGoalRunning } from './goal-state';
import type { GoalStepInput, RecordTaskFailureInput, TaskRef } from './inputs';

export type NextStep =
  | { next: 'dispatch'; tasks: TaskRef[]; cause: string }
  | { next: 'gate' | 'cancelled'; tasks: []; cause: string }
  | { next: 'failed'; tasks: []; cause: string };

const MAX_CAUSE = 4_000;

/**
 * The next wave of work: every PENDING work task whose dependencies all succeeded, oldest first.
 * When none is left and all succeeded, the goal moves on to the quality gate; a failed task ends
 * the goal with a cause that names it and what it blocked.
 */
export async function selectReadyTasks(runtime: Runtime, input: GoalStepInput): Promise<NextStep> {
  const goal = await ensureGoalRunning(runtime, input.goalId);
  if (goal.status === 'CANCELLED') return { next: 'cancelled', tasks: [], cause: 'the goal was cancelled' };
  const work = (await runtime.store.tasks.listAll(goal.id)).filter(isWorkTask);
  const failed = work.filter((t) => t.status === 'FAILED');
  if (failed.length > 0) {
    const blocked = work.filter((t) => t.status === 'BLOCKED');
    const causes = failed.map((t) => `task "${t.title}" (${t.id}) failed: ${t.failureCause?.message ?? 'no cause recorded'}`);
    const blockedNote = blocked.length > 0 ? `; blocked: ${blocked.map((t) => `"${t.title}"`).join(', ')}` : '';
    return { next: 'failed', tasks: [], cause: (causes.join('; ') + blockedNote).slice(0, MAX_CAUSE) };
  }
  const ready = readyTasks(work).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  if (ready.length > 0) return { next: 'dispatch', tasks: ready.map((t) => taskRef(runtime, t)), cause: '' };
  if (work.length > 0 && work.every((t) => t.status === 'SUCCEEDED')) return { next: 'gate', tasks: [], cause: '' };
  const stuck = work.filter((t) => !isTerminal(t.status));
  return {
    next: 'failed',
    tasks: [],
    cause: (work.length === 0
      ? 'the plan has no tasks to work'
      : `no task can run: ${stuck.map((t) => `"${t.title}" is ${t.status}`).join(', ')}`
    ).slice(0, MAX_CAUSE),
  };
}

/**
 * A task failed for good (its retries are spent): mark it FAILED with the cause and block every
 * task that depends on it. Safe to repeat.
 */
export async function recordTaskFailure(runtime: Runtime, input: RecordTaskFailureInput): Promise<{ blocked: string[] }> {
  const cause = { code: input.error.Error, message: (input.error.Cause ?? input.error.Error).slice(0, 2_000) };
  const task = await runtime.store.tasks.get(input.goalId, input.taskId);
  const failedNow = !isTerminal(task.status);
  if (failedNow) {
    await runtime.store.tasks.transition(input.goalId, input.taskId, 'FAILED', { failureCause: cause }, { idempotent: true });
  } else if (task.status !== 'FAILED') {
    logger.warn('task already ended; its late failure is ignored', { taskId: task.id, status: task.status });
    return { blocked: [] };
  }
  const goal = { id: task.goalId, projectId: task.projectId };
  await recordGoalEvent(runtime, {
    type: 'Task.Failed',
    goal,
    taskId: task.id,
    data: { role: task.role, attempts: task.attempts, final: true, error: cause.code, cause: cause.message },
    idempotencyKey: `task-failed:${task.id}`,
  });
  const blocked = await runtime.store.tasks.blockDependants(input.goalId, input.taskId);
  for (const t of blocked) {
    await recordGoalEvent(runtime, {
      type: 'Task.Blocked',
      goal,
      taskId: t.id,
      data: { blockedBy: task.id },
      idempotencyKey: `task-blocked:${t.id}`,
    });
  }
  return { blocked: blocked.map((t) => t.id) };
}
