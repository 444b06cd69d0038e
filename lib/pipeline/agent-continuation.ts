// A run that would outlive its Lambda: its checkpoint goes to the artifacts store and a
// continuation message onto the role's queue; the continuation loads the checkpoint and resumes.
import { AgentCheckpointSchema, type AgentCheckpoint, type AgentSuspendedError } from '../agents/index';
import type { Goal } from '../domain/goal';
import type { Task } from '../domain/task';
import type { Runtime } from '../runtime';
import { CheckpointMissingError } from './errors';
import { recordGoalEvent } from './events';
import type { AgentMessage } from './inputs';
import { queueUrlFor } from './dispatch';

/**
 * Between turns, a run with less than this left suspends: a typical turn (a model call and its
 * tools) would not fit, and starting one only to cut it off wastes the call.
 */
export const SUSPEND_MARGIN_MS = 90_000;

/**
 * Time kept back before the Lambda deadline to write the checkpoint and re-enqueue. One model call
 * or command may run until then: it is cut off there and the run suspends, so a turn that overruns
 * the suspend margin still ends in a checkpoint instead of a killed invocation.
 */
export const CHECKPOINT_MARGIN_MS = 15_000;

export interface SuspendedWork {
  message: AgentMessage;
  goal: Goal;
  task: Task;
  runId: string;
}

export async function continueLater(runtime: Runtime, work: SuspendedWork, suspended: AgentSuspendedError): Promise<'continued'> {
  const { message, goal, task, runId } = work;
  const key = `checkpoints/${goal.id}/${task.id}/${runId}-${suspended.checkpoint.turns}.json`;
  await runtime.ports.artifacts.put(key, JSON.stringify(suspended.checkpoint), 'application/json');
  await runtime.store.agentRuns.record(suspended.run);
  await runtime.ports.queue.send(queueUrlFor(runtime, task.role), { ...message, runId, checkpointKey: key } satisfies AgentMessage);
  await recordGoalEvent(runtime, {
    type: 'Task.Continued',
    goal,
    taskId: task.id,
    data: { runId, turns: suspended.checkpoint.turns, checkpointKey: key },
    idempotencyKey: `continued:${runId}:${suspended.checkpoint.turns}`,
  });
  return 'continued';
}

export async function loadCheckpoint(runtime: Runtime, key: string): Promise<AgentCheckpoint> {
  const body = await runtime.ports.artifacts.get(key);
  if (!body) throw new CheckpointMissingError(key);
  return AgentCheckpointSchema.parse(JSON.parse(Buffer.from(body).toString('utf8')));
}
