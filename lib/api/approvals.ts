// Human decisions on a goal's approval gate (plan, delivery or budget): the decision is claimed on
// the goal first, then the task token the pipeline waits on is answered through the TaskCallbacks
// port, then the goal moves on and Goal.Approved / Goal.Rejected is recorded.
import type { Actor, Goal } from '../domain/index';
import { TaskTokenExpiredError } from '../ports/index';
import { logger } from '../powertools';
import { goalStream, type GoalChanges } from '../store/index';
import { nowFrom, type ApiDependencies } from './dependencies';
import { ApprovalExpiredError, BudgetNotApplicableError, NothingAwaitingApprovalError } from './errors';
import { toPublicGoal, withoutToken } from './goals';
import type { ApprovalBody, PublicGoal } from './schemas';

/** The error name a rejected approval fails the waiting task with; the pipeline's Catch matches it. */
export const APPROVAL_REJECTED_ERROR = 'Approval.Rejected';

/** What the approval step receives on approve (SendTaskSuccess output). */
export interface ApprovalOutput {
  decision: 'approve';
  comment?: string;
  by: string;
  /** Budget gates only: the new per-goal limit. */
  budgetUsd?: number;
}

function pendingToken(goal: Goal): string | undefined {
  return goal.status === 'AWAITING_APPROVAL' && goal.approval.state === 'pending' ? goal.approval.taskToken : undefined;
}

export async function decideApproval(deps: ApiDependencies, goalId: string, body: ApprovalBody, actor: Actor): Promise<PublicGoal> {
  const { store } = deps;
  const approve = body.decision === 'approve';
  const state = approve ? 'approved' : 'rejected';
  const decidedAt = nowFrom(deps).toISOString();

  // 1. Claim: a version-checked write from pending to decided. Of two people deciding at once,
  //    the second re-reads, finds nothing pending and gets 409.
  let token = '';
  let alsoWaiting: string[] = [];
  let stage: Goal['approval']['stage'];
  await store.goals.mutate(goalId, (current) => {
    const pending = pendingToken(current);
    if (!pending) throw new NothingAwaitingApprovalError(goalId);
    checkBudget(body, current);
    token = pending;
    alsoWaiting = current.approval.waitingTokens ?? [];
    stage = current.approval.stage;
    return { approval: { ...current.approval, state, decidedAt, decidedBy: actor.id, comment: body.comment } };
  });

  // 2. Answer the token the pipeline waits on.
  try {
    if (approve) {
      const output: ApprovalOutput = { decision: 'approve', by: actor.id };
      if (body.comment !== undefined) output.comment = body.comment;
      if (body.budgetUsd !== undefined) output.budgetUsd = body.budgetUsd;
      await deps.callbacks.succeed(token, output);
    } else {
      await deps.callbacks.fail(token, APPROVAL_REJECTED_ERROR, body.comment ?? `rejected by ${actor.id}`);
    }
  } catch (error) {
    if (error instanceof TaskTokenExpiredError) {
      await settleOurDecision(deps, goalId, token, (approval) => ({ approval: { ...withoutToken(approval), state: 'timed-out' } }));
      throw new ApprovalExpiredError(goalId);
    }
    // Outcome unknown: give the decision back so the client can retry it.
    await settleOurDecision(deps, goalId, token, (approval) => ({
      approval: { ...approval, state: 'pending', decidedAt: undefined, decidedBy: undefined, comment: undefined },
    }));
    throw error;
  }

  // Others waiting on the same gate (parallel tasks out of budget) get the same answer; one that
  // no longer waits has timed out on its own and is skipped.
  for (const other of alsoWaiting) {
    try {
      if (approve) await deps.callbacks.succeed(other, { decision: 'approve', by: actor.id, ...(body.budgetUsd !== undefined ? { budgetUsd: body.budgetUsd } : {}) });
      else await deps.callbacks.fail(other, APPROVAL_REJECTED_ERROR, body.comment ?? `rejected by ${actor.id}`);
    } catch (error) {
      if (!(error instanceof TaskTokenExpiredError)) throw error;
      logger.warn('a task waiting on the same approval had stopped waiting', { goalId });
    }
  }

  // 3. The gate is answered: drop the token and move the goal on. The pipeline also moves it when
  //    it resumes, with idempotent transitions, so whichever write comes second is a no-op.
  const decided = await store.goals.mutate(goalId, (current) => {
    const changes: GoalChanges = current.approval.taskToken === token ? { approval: withoutToken(current.approval) } : {};
    if (current.status === 'AWAITING_APPROVAL') changes.status = approve ? 'RUNNING' : 'CANCELLED';
    if (approve && body.budgetUsd !== undefined) changes.budgetOverrideUsd = body.budgetUsd;
    return changes;
  });

  const data: Record<string, unknown> = { stage, by: actor.id };
  if (body.comment !== undefined) data.comment = body.comment;
  if (body.budgetUsd !== undefined) data.budgetUsd = body.budgetUsd;
  await store.events.append(goalStream(goalId), {
    type: approve ? 'Goal.Approved' : 'Goal.Rejected',
    actor,
    correlationId: goalId,
    projectId: decided.projectId,
    goalId,
    data,
  });
  return toPublicGoal(decided);
}

/** `budgetUsd` raises a budget gate's limit; anywhere else it is a mistake worth telling the client. */
function checkBudget(body: ApprovalBody, goal: Goal): void {
  if (body.budgetUsd === undefined) return;
  if (body.decision !== 'approve') throw new BudgetNotApplicableError('budgetUsd can only be sent with decision "approve"');
  if (goal.approval.stage !== 'budget') {
    throw new BudgetNotApplicableError(`budgetUsd only applies to a budget approval; this goal awaits a ${goal.approval.stage ?? 'plan'} approval`);
  }
}

/** Changes the approval only while it still holds our token, i.e. nobody has moved on since. */
async function settleOurDecision(deps: ApiDependencies, goalId: string, token: string, change: (approval: Goal['approval']) => GoalChanges): Promise<void> {
  try {
    await deps.store.goals.mutate(goalId, (current) => (current.approval.taskToken === token ? change(current.approval) : {}));
  } catch (error) {
    logger.error('could not record the outcome of an approval answer', { goalId, error });
  }
}
