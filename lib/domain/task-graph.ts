// Scheduling questions over a goal's task DAG: what may start now, what a failure blocks, what
// is holding a task back. Pure functions over `{id, dependsOn, status}` so they work on stored
// tasks and in tests alike.
import { isTerminal, type Status } from './status';

export interface DagNode {
  id: string;
  dependsOn: readonly string[];
  status: Status;
}

/** PENDING tasks whose dependencies have all SUCCEEDED, in input order (the plan's order). */
export function readyTasks<T extends DagNode>(tasks: readonly T[]): T[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  return tasks.filter((t) => t.status === 'PENDING' && t.dependsOn.every((d) => byId.get(d)?.status === 'SUCCEEDED'));
}

/** Every task that depends on `taskId` directly or transitively, in input order. */
export function dependantsOf<T extends DagNode>(tasks: readonly T[], taskId: string): T[] {
  const dependants = new Map<string, T[]>();
  for (const t of tasks) for (const d of t.dependsOn) dependants.set(d, [...(dependants.get(d) ?? []), t]);
  const reached = new Set<string>();
  const queue = [taskId];
  while (queue.length > 0) {
    for (const next of dependants.get(queue.shift() as string) ?? []) {
      if (next.id !== taskId && !reached.has(next.id)) {
        reached.add(next.id);
        queue.push(next.id);
      }
    }
  }
  return tasks.filter((t) => reached.has(t.id));
}

/**
 * The tasks to mark BLOCKED because `failedTaskId` failed or was cancelled: its transitive
 * dependants that have not finished and are not blocked already.
 */
export function tasksToBlock<T extends DagNode>(tasks: readonly T[], failedTaskId: string): T[] {
  return dependantsOf(tasks, failedTaskId).filter((t) => !isTerminal(t.status) && t.status !== 'BLOCKED');
}

/**
 * Why a task can never start: the upstream tasks (transitively) that FAILED or were CANCELLED.
 * Empty when the task is still runnable.
 */
export function blockedBy<T extends DagNode>(tasks: readonly T[], taskId: string): T[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const causes = new Set<string>();
  const seen = new Set<string>();
  const queue = [...(byId.get(taskId)?.dependsOn ?? [])];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const dep = byId.get(id);
    if (!dep) continue;
    if (dep.status === 'FAILED' || dep.status === 'CANCELLED') causes.add(dep.id);
    else queue.push(...dep.dependsOn);
  }
  return tasks.filter((t) => causes.has(t.id));
}

/** True when no task can make progress any more: each is terminal or BLOCKED. */
export function isSettled(tasks: readonly DagNode[]): boolean {
  return tasks.every((t) => isTerminal(t.status) || t.status === 'BLOCKED');
}
