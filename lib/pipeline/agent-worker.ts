// The agent worker: takes one message from a role queue, routes and claims the task, then hands
// it to the run (agent-run.ts), which stores what the agent produced (agent-results.ts) or
// continues later (agent-continuation.ts); failures answer the token with the agent's named error
// (agent-failure.ts). A duplicate delivery does nothing; a redelivery after a crash resumes the
// same run.
import { createHash } from 'node:crypto';
import { AgentError } from '../agents/index';
import { ulidFor } from '../domain/ids';
import type { AgentRole } from '../domain/settings';
import { isTerminal } from '../domain/status';
import { logger } from '../powertools';
import type { Runtime } from '../runtime';
import { answer, answerFailure } from './agent-callbacks';
import { isPermanent } from '../domain/errors';
import { releaseAfterFailure } from './agent-failure';
import { MisroutedMessageError } from './errors';
import { runClaimedTask } from './agent-run';
import { agentInvocation, meterInvocation } from './infrastructure-usage';
import { recordGoalEvent } from './events';
import type { AgentMessage } from './inputs';

export interface WorkOptions {
  /** Stable across redeliveries of one queue message (the SQS message id). */
  messageId: string;
  /** When the message was first sent (SQS SentTimestamp), in epoch ms. */
  sentAtMs: number;
  /** Milliseconds this invocation has left (Lambda's getRemainingTimeInMillis). */
  remainingMs: () => number;
  /** The role this worker serves; a message for another role is misrouted. */
  role?: AgentRole;
}

export type WorkOutcome = 'succeeded' | 'failed' | 'continued' | 'skipped';


/** A digest of the task token: identifies one dispatch of a task without storing the token. */
export function dispatchOf(taskToken: string): string {
  return createHash('sha256').update(taskToken).digest('base64url').slice(0, 22);
}

/** The run id of one queue message: the same for every redelivery, different for a duplicate. */
export function runIdFor(message: AgentMessage, options: Pick<WorkOptions, 'messageId' | 'sentAtMs'>): string {
  return message.runId ?? `run_${ulidFor(`${message.taskId}:${options.messageId}`, options.sentAtMs)}`;
}

export async function workAgentMessage(runtime: Runtime, message: AgentMessage, options: WorkOptions): Promise<WorkOutcome> {
  // A message with a run id is a continuation the worker queued itself, not a state machine dispatch.
  return meterInvocation(runtime, agentInvocation(message.goalId, message.runId !== undefined), () => work(runtime, message, options));
}

async function work(runtime: Runtime, message: AgentMessage, options: WorkOptions): Promise<WorkOutcome> {
  const { store, ports } = runtime;
  if (options.role && message.role !== options.role) {
    await answerFailure(runtime, message, new MisroutedMessageError(`a ${message.role} task arrived at the ${options.role} worker`));
    return 'failed';
  }
  const goal = await store.goals.get(message.goalId);
  const task = await store.tasks.get(message.goalId, message.taskId);

  // The pipeline may dispatch a task that already ended (a resumed execution): answer from the store.
  if (task.status === 'SUCCEEDED') {
    await answer(() => ports.callbacks.succeed(message.taskToken, { taskId: task.id, status: task.status }));
    return 'skipped';
  }
  if (isTerminal(goal.status) || isTerminal(task.status)) {
    const error = isTerminal(goal.status) ? `Goal.${goal.status === 'CANCELLED' ? 'Cancelled' : 'Ended'}` : (task.failureCause?.code ?? 'Agent.Failed');
    await answer(() => ports.callbacks.fail(message.taskToken, error, `the ${isTerminal(goal.status) ? 'goal' : 'task'} is already ${isTerminal(goal.status) ? goal.status : task.status}`));
    return 'skipped';
  }

  const runId = runIdFor(message, options);
  // Only a continuation carries on from recorded state (its checkpoint, taken with the working copy
  // as it was). Any other run — a first attempt, a retry, a redelivery after a crash, a task
  // requeued by a restart — starts from the goal branch, so a killed attempt's unrecorded edits
  // never reach a commit.
  const continuesCheckpoint = message.checkpointKey !== undefined;
  const claim = await store.tasks.claim(goal.id, task.id, runId, dispatchOf(message.taskToken));
  if (!claim.claimed) {
    logger.info('task is held by another run; duplicate delivery ignored', { taskId: task.id, runId, holder: claim.task.runId });
    return 'skipped';
  }
  const claimed = claim.task;
  const project = await store.projects.get(goal.projectId);
  await recordGoalEvent(runtime, {
    type: 'Task.Started',
    goal,
    taskId: claimed.id,
    actor: { kind: 'agent', id: runId, role: claimed.role },
    data: { role: claimed.role, kind: claimed.kind, attempt: claimed.attempts, title: claimed.title, runId },
    idempotencyKey: `started:${runId}`,
  });

  try {
    return await runClaimedTask(runtime, { message, goal, project, task: claimed, runId, continuesCheckpoint, remainingMs: options.remainingMs });
  } catch (error) {
    if (error instanceof AgentError) return await releaseAfterFailure(runtime, { message, goal, task: claimed, runId, error });
    if (isPermanent(error)) {
      return await releaseAfterFailure(runtime, { message, goal, task: claimed, runId, error: error as Error });
    }
    // Anything else (store throttling, a crashed dependency) is retried by redelivering the
    // message: the task stays claimed by this run id, so the redelivery resumes it.
    throw error;
  }
}
