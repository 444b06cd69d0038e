// An agent attempt that failed: its run is recorded, the task is handed back for the state
// machine's retry (or ends, when cancelled), and the token is answered with the named error.
// Errors a redelivery cannot fix are failures too; anything else is left to redelivery.
import { AgentCancelledError, AgentError } from '../agents/index';
import { CahootsError } from '../domain/errors';
import type { Goal } from '../domain/goal';
import { modelPolicyOf } from '../domain/project';
import type { Task } from '../domain/task';
import type { Runtime } from '../runtime';
import { answerFailure } from './agent-callbacks';
import { countRun } from './agent-telemetry';
import { recordGoalEvent } from './events';
import type { AgentMessage } from './inputs';

export interface FailedWork {
  message: AgentMessage;
  goal: Goal;
  task: Task;
  runId: string;
  error: Error;
}

/**
 * An attempt failed: record the run, hand the task back (PENDING) so the state machine's retry can
 * dispatch it again one tier up, and answer the token with the named error.
 */
export async function releaseAfterFailure(runtime: Runtime, { message, goal, task, runId, error }: FailedWork): Promise<'failed'> {
  const stepFunctionsError = error instanceof CahootsError ? error.stepFunctionsError : 'Agent.Failed';
  const cause = { code: stepFunctionsError, message: error.message.slice(0, 2_000) };
  if (error instanceof AgentError && error.run) {
    await runtime.store.agentRuns.record(error.run);
    const project = await runtime.store.projects.get(goal.projectId);
    const policy = modelPolicyOf(project, task.role, runtime.config.defaultModels);
    const { modelTier } = await runtime.store.tasks.get(goal.id, task.id);
    const model = policy[Math.min(modelTier, policy.length - 1)];
    if (model) await runtime.store.routingStats.record(project.id, { role: task.role, kind: task.kind, model, succeeded: false, costUsd: error.run.costUsd });
  }
  // A cancelled run ends its task; any other failure hands it back for the state machine's retry.
  const next = error instanceof AgentCancelledError ? 'CANCELLED' : 'PENDING';
  await runtime.store.tasks.mutate(goal.id, task.id, (t) =>
    t.status === 'RUNNING' && t.runId === runId ? { status: next, runId: undefined, dispatch: undefined, failureCause: cause } : {},
  );
  countRun(task.role, stepFunctionsError === 'Budget.Exceeded' ? 'BudgetExceeded' : 'AgentRunFailed');
  await recordGoalEvent(runtime, {
    type: failureEventType(stepFunctionsError),
    goal,
    taskId: task.id,
    actor: { kind: 'agent', id: runId, role: task.role },
    data: { role: task.role, attempt: task.attempts, final: false, error: cause.code, cause: cause.message },
    idempotencyKey: `failed:${runId}`,
  });
  await answerFailure(runtime, message, Object.assign(new Error(cause.message), { name: stepFunctionsError }));
  return 'failed';
}

function failureEventType(stepFunctionsError: string): 'Budget.Exceeded' | 'Agent.Stuck' | 'Task.Cancelled' | 'Task.Failed' {
  switch (stepFunctionsError) {
    case 'Budget.Exceeded':
    case 'Agent.Stuck':
      return stepFunctionsError;
    case 'Agent.Cancelled':
      return 'Task.Cancelled';
    default:
      return 'Task.Failed';
  }
}

