// How a task is addressed when the state machine dispatches it: its role queue and the reference
// the pipeline passes around, plus which tasks belong to the planned work graph and on which
// branch a task's work lives.
import type { AgentRole } from '../domain/settings';
import type { Task } from '../domain/task';
import type { Runtime } from '../runtime';
import { QueueNotConfiguredError } from './errors';
import type { TaskRef } from './inputs';

/** Kinds that are not part of the planned work graph: the planning task and quality-gate tasks. */
const OUTSIDE_WORK_GRAPH = new Set<Task['kind']>(['plan', 'review', 'qa']);

export function isWorkTask(task: Pick<Task, 'kind'>): boolean {
  return !OUTSIDE_WORK_GRAPH.has(task.kind);
}

/**
 * The task whose branch holds a task's work: a conflict-resolution task finishes the work of the
 * task whose merge conflicted, on that task's branch.
 */
export function branchTaskIdOf(task: Pick<Task, 'id' | 'kind' | 'reworkOf'>): string {
  return task.kind === 'conflict' && task.reworkOf ? task.reworkOf : task.id;
}

export function queueUrlFor(runtime: Runtime, role: AgentRole): string {
  const url = runtime.config.queueUrls[role];
  if (!url) throw new QueueNotConfiguredError(role);
  return url;
}

export function taskRef(runtime: Runtime, task: Pick<Task, 'id' | 'role'>): TaskRef {
  return { taskId: task.id, role: task.role, queueUrl: queueUrlFor(runtime, task.role) };
}
