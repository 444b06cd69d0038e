// Goal operations behind the API: create and start a goal's pipeline, list a project's goals, read
// one goal with its plan, tasks and cost, read its event log, and cancel it.
import { isTerminal, type Actor, type Goal, type GoalSource, type Status, type Task } from '../domain/index';
import { IllegalTransitionError, roundedInfrastructure } from '../domain/index';
import { logger } from '../powertools';
import { goalStream, type Page, type ReadEventsResult } from '../store/index';
import { nowFrom, type ApiDependencies } from './dependencies';
import { GoalAlreadyFinishedError } from './errors';
import type { CancelGoalBody, CreateGoalBody, GoalDetail, PublicGoal } from './schemas';
import { cancelUnfinishedTasks } from '../pipeline/goal-state';

/** The error code a goal gets when its pipeline could not be started. */
export const PIPELINE_START_FAILED = 'Pipeline.StartFailed';

/** The goal as clients see it: without its approval task tokens. */
export function toPublicGoal(goal: Goal): PublicGoal {
  return { ...goal, approval: withoutToken(goal.approval) };
}

/** Where a goal came from: the API itself, or a webhook delivery with what it points at (the issue). */
export interface GoalOrigin {
  source: Extract<GoalSource, 'api' | 'webhook'>;
  sourceRef?: string;
}

/**
 * Stores the goal PENDING, records Goal.Created, then starts the pipeline and records its
 * execution on the goal. When the start fails the goal is marked FAILED (so it does not sit in
 * PENDING forever) and the error propagates.
 */
export async function createGoal(
  deps: ApiDependencies,
  projectId: string,
  body: CreateGoalBody,
  actor: Actor,
  origin: GoalOrigin = { source: 'api' },
): Promise<PublicGoal> {
  const { store } = deps;
  const goal = await store.goals.create({ ...body, projectId, ...origin });
  await store.events.append(goalStream(goal.id), {
    type: 'Goal.Created',
    actor,
    correlationId: goal.id,
    projectId,
    goalId: goal.id,
    data: { title: goal.title, priority: goal.priority, source: goal.source, labels: goal.labels },
  });

  let executionId: string;
  try {
    ({ executionId } = await deps.pipeline.startGoal({ goalId: goal.id, projectId }));
  } catch (error) {
    await recordStartFailure(deps, goal, error);
    throw error;
  }
  const started = await store.goals.mutate(goal.id, () => ({ executionId }));
  if (started.status === 'CANCELLED') {
    // Cancelled between create and start: the cancel found no execution to stop, so stop it here.
    await deps.pipeline.stopGoal(executionId, 'goal was cancelled before its pipeline started');
  }
  return toPublicGoal(started);
}

async function recordStartFailure(deps: ApiDependencies, goal: Goal, error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  try {
    await deps.store.goals.transition(goal.id, 'FAILED', { failureCause: { code: PIPELINE_START_FAILED, message: message.slice(0, 4000) } }, { idempotent: true });
    await deps.store.events.append(goalStream(goal.id), {
      type: 'Goal.Failed',
      actor: { kind: 'system', id: 'api' },
      correlationId: goal.id,
      projectId: goal.projectId,
      goalId: goal.id,
      data: { title: goal.title, code: PIPELINE_START_FAILED, message: message.slice(0, 4000), cause: message.slice(0, 4000) },
    });
  } catch (recordError) {
    logger.error('could not mark a goal whose pipeline did not start as FAILED', { goalId: goal.id, recordError });
  }
}

export interface GoalListQuery {
  status?: Status;
  limit?: number;
  cursor?: string;
}

/** A project's goals, newest first, optionally in one status. 404 for an unknown project. */
export async function listGoals(deps: ApiDependencies, projectId: string, query: GoalListQuery): Promise<Page<PublicGoal>> {
  await deps.store.projects.get(projectId);
  const page = { limit: query.limit, cursor: query.cursor };
  const result = query.status ? await deps.store.goals.listByStatus(projectId, query.status, page) : await deps.store.goals.listByProject(projectId, page);
  return result.cursor ? { items: result.items.map(toPublicGoal), cursor: result.cursor } : { items: result.items.map(toPublicGoal) };
}

/** A goal with its plan, every task, task counts by status and spend against its budget. */
export async function getGoalDetail(deps: ApiDependencies, goalId: string): Promise<GoalDetail> {
  const goal = await deps.store.goals.get(goalId);
  const [tasks, project, infrastructure] = await Promise.all([
    deps.store.tasks.listAll(goalId),
    deps.store.projects.find(goal.projectId),
    deps.store.infrastructureUsage.forGoal(goalId),
  ]);
  const budgetUsd = goal.budgetOverrideUsd ?? project?.budgets.perGoalUsd;
  return {
    goal: toPublicGoal(goal),
    plan: goal.planSummary === undefined ? null : { summary: goal.planSummary, risk: goal.risk },
    tasks,
    progress: countByStatus(tasks),
    cost: {
      usd: goal.costUsd,
      infrastructure: roundedInfrastructure(infrastructure),
      ...(budgetUsd === undefined ? {} : { budgetUsd, remainingUsd: roundUsd(budgetUsd - goal.costUsd) }),
    },
  };
}

function countByStatus(tasks: readonly Task[]): Partial<Record<Status, number>> {
  const counts: Partial<Record<Status, number>> = {};
  for (const task of tasks) counts[task.status] = (counts[task.status] ?? 0) + 1;
  return counts;
}

/** Float sums of dollars drift in the last digits; a report should not show 0.30000000000000004. */
function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/** A goal's events with seq > after. 404 for an unknown goal (an empty log would hide a typo). */
export async function listGoalEvents(deps: ApiDependencies, goalId: string, query: { after?: number; limit?: number }): Promise<ReadEventsResult> {
  await deps.store.goals.get(goalId);
  return deps.store.events.readEvents(goalStream(goalId), query.after ?? 0, query.limit ?? 100);
}

/**
 * Stops the goal's execution, then moves the goal to CANCELLED and records Goal.Cancelled. Stop
 * comes first so a failed stop leaves the goal cancellable by a retry; stopping an execution
 * that already ended is not an error, so the retry is safe.
 */
export async function cancelGoal(deps: ApiDependencies, goalId: string, body: CancelGoalBody, actor: Actor): Promise<PublicGoal> {
  const goal = await deps.store.goals.get(goalId);
  if (isTerminal(goal.status)) throw new GoalAlreadyFinishedError(goal.id, goal.status);
  const reason = body.reason ?? `cancelled by ${actor.id}`;
  if (goal.executionId) await deps.pipeline.stopGoal(goal.executionId, reason);

  let cancelled: Goal;
  try {
    // A stopped execution can no longer be answered: a pending approval ends as rejected by
    // whoever cancelled, and its task token is dropped.
    cancelled = await deps.store.goals.transition(goalId, 'CANCELLED', (current) => ({
      approval:
        current.approval.state === 'pending'
          ? { ...withoutToken(current.approval), state: 'rejected', decidedAt: nowFrom(deps).toISOString(), decidedBy: actor.id, comment: reason }
          : withoutToken(current.approval),
    }));
  } catch (error) {
    if (!(error instanceof IllegalTransitionError)) throw error;
    // It ended on its own between the read and the write.
    throw new GoalAlreadyFinishedError(goalId, error.from);
  }
  await cancelUnfinishedTasks(deps.store, goalId);
  await deps.store.events.append(goalStream(goalId), {
    type: 'Goal.Cancelled',
    actor,
    correlationId: goalId,
    projectId: cancelled.projectId,
    goalId,
    data: { reason, from: goal.status },
  });
  return toPublicGoal(cancelled);
}

/** The approval without the task tokens, which are capabilities to resume the pipeline. */
export function withoutToken(approval: Goal['approval']): Goal['approval'] {
  const { taskToken: _dropped, waitingTokens: _alsoDropped, ...rest } = approval;
  return rest;
}
