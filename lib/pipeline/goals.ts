// Pipeline steps about the goal as a whole: start it, decide and request human approval, and end
// it as failed or cancelled. Every step is safe to repeat (Lambda and Step Functions retry).
import type { Goal } from '../domain/goal';
import { issueFingerprint, issueOfUrl } from '../domain/issue-link';
import { isTerminal } from '../domain/status';
import { newGoalTask } from '../domain/task';
import { metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { GoalNotRunnableError, GoalProjectMismatchError } from './errors';
import { recordGoalEvent } from './events';
import { caughtErrorMessage, type EndGoalInput, type GoalStepInput, type RequestApprovalInput, type StartGoalInput, type TaskRef } from './inputs';
import { bindingBudget, budgetStandings } from './budget';
import { effectiveAutonomy, planApprovalRequired } from './policy';
import { taskRef } from './dispatch';
import { cancelUnfinishedTasks } from './goal-state';
import { emitGoalCostMetrics } from './infrastructure-usage';
import { learnFromGoal } from './learning';

/** What the state machine keeps in `$.settings` for the whole execution. */
export interface PipelineSettings {
  maxParallelTasks: number;
  taskTimeoutSeconds: number;
  heartbeatSeconds: number;
  approvalTimeoutSeconds: number;
  planTask: TaskRef;
}

export const PLAN_TASK_KEY = 'plan';

export async function startGoal(runtime: Runtime, input: StartGoalInput): Promise<PipelineSettings> {
  const goal = await runtime.store.goals.get(input.goalId);
  if (goal.projectId !== input.projectId) throw new GoalProjectMismatchError(goal.id, input.projectId);
  if (isTerminal(goal.status)) throw new GoalNotRunnableError(goal.id, goal.status);
  const project = await runtime.store.projects.get(goal.projectId);
  await runtime.store.goals.transition(goal.id, 'RUNNING', { executionId: input.executionId }, { idempotent: true });

  const [planTask] = await runtime.store.tasks.createMany([
    newGoalTask(goal, {
      planKey: PLAN_TASK_KEY,
      role: 'planner',
      kind: 'plan',
      title: `Plan: ${goal.title}`,
      spec: goal.description.trim() || goal.title,
      acceptanceCriteria: ['A plan of small tasks with roles, dependencies and acceptance criteria that passes plan validation'],
    }),
  ]);
  await recordGoalEvent(runtime, {
    type: 'Goal.Started',
    goal,
    data: { executionId: input.executionId, autonomyLevel: effectiveAutonomy(goal, project), priority: goal.priority },
    idempotencyKey: `started:${input.executionId}`,
  });
  return {
    maxParallelTasks: project.maxParallelTasks,
    taskTimeoutSeconds: runtime.config.taskTimeoutSeconds,
    heartbeatSeconds: runtime.config.heartbeatSeconds,
    approvalTimeoutSeconds: runtime.config.approvalTimeoutSeconds,
    planTask: taskRef(runtime, planTask!),
  };
}

export async function decidePlanApproval(runtime: Runtime, input: GoalStepInput): Promise<{ approvalRequired: boolean; autonomyLevel: number; risk: string }> {
  const goal = await runtime.store.goals.get(input.goalId);
  const project = await runtime.store.projects.get(goal.projectId);
  const level = effectiveAutonomy(goal, project);
  // A pipeline resumed after a restart does not ask again for what a person already approved.
  const alreadyApproved = goal.approval.state === 'approved' && (goal.approval.stage === 'plan' || goal.approval.stage === 'delivery');
  return { approvalRequired: planApprovalRequired(level, goal.risk) && !alreadyApproved, autonomyLevel: level, risk: goal.risk ?? 'unknown' };
}

/**
 * Parks the goal at a human gate: stores the task token the approvals API answers and tells
 * everyone (Goal.AwaitingApproval). The state machine waits until the token is answered.
 */
export async function requestApproval(runtime: Runtime, input: RequestApprovalInput): Promise<void> {
  // Measured before parking so the person deciding sees which limit stopped the goal: raising
  // the goal's budget does nothing for a goal stopped by its project's daily budget.
  const budget = input.kind === 'budget' ? bindingBudget(await budgetStandings(runtime, input.goalId, new Date())) : undefined;
  const updated = await runtime.store.goals.mutate(input.goalId, (goal) => {
    if (isTerminal(goal.status)) throw new GoalNotRunnableError(goal.id, goal.status);
    const { approval } = goal;
    if (goal.status === 'AWAITING_APPROVAL' && approval.state === 'pending' && approval.taskToken) {
      // Another task already waits at this gate (parallel tasks run out of budget together): one
      // decision will answer both, so this token joins the waiting list instead of replacing it.
      if (approval.taskToken === input.taskToken || approval.waitingTokens?.includes(input.taskToken)) return {};
      return { approval: { ...approval, waitingTokens: [...(approval.waitingTokens ?? []), input.taskToken] } };
    }
    return {
      status: 'AWAITING_APPROVAL',
      approval: { state: 'pending', stage: input.kind, taskToken: input.taskToken, requestedAt: new Date().toISOString(), ...(budget ? { budget } : {}) },
    };
  });
  await recordGoalEvent(runtime, {
    type: 'Goal.AwaitingApproval',
    goal: updated,
    ...(input.taskId ? { taskId: input.taskId } : {}),
    data: {
      title: updated.title,
      stage: input.kind,
      costUsd: updated.costUsd,
      ...(input.kind === 'budget' ? { budgetUsd: budget?.limitUsd ?? null, ...(budget ? { budgetScope: budget.scope, budgetSpentUsd: budget.spentUsd } : {}) } : {}),
    },
    idempotencyKey: `awaiting:${input.taskToken.slice(-64)}`,
  });
}

/** Ends a goal that failed or was cancelled/rejected; a goal that already ended stays as it is. */
export async function endGoal(runtime: Runtime, input: EndGoalInput): Promise<void> {
  const goal = await runtime.store.goals.get(input.goalId);
  if (!isTerminal(goal.status)) {
    const cause = { code: input.error?.Error ?? input.outcome, message: ((input.error && caughtErrorMessage(input.error)) ?? describeOutcome(input)).slice(0, 2_000) };
    const approval = input.outcome === 'CANCELLED' && goal.approval.state === 'pending'
      ? { ...goal.approval, state: input.error?.Error === 'States.Timeout' ? ('timed-out' as const) : ('rejected' as const), taskToken: undefined }
      : goal.approval;
    await runtime.store.goals.transition(goal.id, input.outcome, { failureCause: cause, approval }, { idempotent: true });
  }
  const ended = await runtime.store.goals.get(goal.id);
  await cancelUnfinishedTasks(runtime.store, goal.id);
  await reopenFindingOf(runtime, ended);
  await learnFromGoal(runtime, ended);
  metrics.addMetric(ended.status === 'CANCELLED' ? 'GoalCancelled' : 'GoalFailed', 'Count', 1);
  await emitGoalCostMetrics(runtime, ended);
  await recordGoalEvent(runtime, {
    type: ended.status === 'CANCELLED' ? 'Goal.Cancelled' : 'Goal.Failed',
    goal,
    data: { title: goal.title, cause: ended.failureCause?.message ?? '', code: ended.failureCause?.code ?? ended.status, costUsd: ended.costUsd },
    idempotencyKey: `ended:${ended.status}`,
  });
}

/**
 * The finding a goal works on: a detection goal names it in its source; a webhook goal's source is an
 * issue (or a comment on one), whose finding the webhook marked in progress with the goal.
 */
function findingFingerprintOf(goal: Goal): string | undefined {
  if (goal.source === 'detection') return goal.sourceRef;
  if (goal.source !== 'webhook') return undefined;
  const issue = issueOfUrl(goal.sourceRef);
  return issue ? issueFingerprint(issue) : undefined;
}

/**
 * A goal that failed or was cancelled leaves its finding's problem unsolved: the finding goes back
 * to `open`, where the next detection run may pick it again (or a person may dismiss it).
 */
async function reopenFindingOf(runtime: Runtime, goal: Goal): Promise<void> {
  const fingerprint = findingFingerprintOf(goal);
  if (!fingerprint) return;
  const finding = await runtime.store.findings.find(goal.projectId, fingerprint);
  if (finding?.status === 'in-progress' && finding.goalId === goal.id) {
    await runtime.store.findings.setStatus(goal.projectId, finding.fingerprint, 'open');
  }
}

function describeOutcome(input: EndGoalInput): string {
  return input.outcome === 'CANCELLED' ? 'the goal was cancelled' : 'the goal failed';
}
