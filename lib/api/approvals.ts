// Human decisions on a goal's approval gate (plan, delivery or budget): the decision is claimed on
// the goal first, then the task token the pipeline waits on is answered through the TaskCallbacks
// port, then the goal moves on and Goal.Approved / Goal.Rejected is recorded.
import { PROJECT_BUDGET_FIELD, type Actor, type BudgetScope, type BudgetStanding, type Goal } from '../domain/index';
import { TaskTokenExpiredError } from '../ports/index';
import { logger } from '../powertools';
import { goalStream, projectStream, type GoalChanges } from '../store/index';
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
  let budget: BudgetStanding | undefined;
  const waiting = await store.goals.get(goalId);
  // Read before the claim: a budget decision that would stop the goal again at once is refused
  // while the gate is still open for a better one.
  if (pendingToken(waiting)) await checkBudget(deps, body, waiting);
  const claimed = await store.goals.mutate(goalId, (current) => {
    const pending = pendingToken(current);
    if (!pending) throw new NothingAwaitingApprovalError(goalId);
    token = pending;
    alsoWaiting = current.approval.waitingTokens ?? [];
    stage = current.approval.stage;
    budget = current.approval.budget;
    const changes: GoalChanges = { approval: { ...current.approval, state, decidedAt, decidedBy: actor.id, comment: body.comment } };
    // The new limit is in place before the waiting task hears the answer, so its next check sees it.
    if (approve && body.budgetUsd !== undefined && (budget?.scope ?? 'goal') === 'goal') changes.budgetOverrideUsd = body.budgetUsd;
    return changes;
  });
  if (approve && body.budgetUsd !== undefined && budget && budget.scope !== 'goal') {
    try {
      await raiseProjectBudget(deps, claimed.projectId, budget.scope, body.budgetUsd, goalId, actor);
    } catch (error) {
      await settleOurDecision(deps, goalId, token, (approval) => ({
        approval: { ...approval, state: 'pending', decidedAt: undefined, decidedBy: undefined, comment: undefined },
      }));
      throw error;
    }
  }

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
    return changes;
  });

  const data: Record<string, unknown> = { stage, by: actor.id };
  if (body.comment !== undefined) data.comment = body.comment;
  if (body.budgetUsd !== undefined) data.budgetUsd = body.budgetUsd;
  if (budget) data.budgetScope = budget.scope;
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

const SCOPE_WORDS: Record<BudgetScope, { limit: string; spent: string }> = {
  goal: { limit: "the goal's budget", spent: 'spent by the goal' },
  'project-daily': { limit: "the project's daily budget", spent: 'spent by the project today' },
  'project-monthly': { limit: "the project's monthly budget", spent: 'spent by the project this month' },
};

/**
 * `budgetUsd` raises the limit a budget gate was reached on; anywhere else it is a mistake worth
 * telling the client, and so is a value that would stop the goal again at once. A gate reached on
 * a project budget cannot be approved without a raise unless that budget was raised since.
 */
async function checkBudget(deps: ApiDependencies, body: ApprovalBody, goal: Goal): Promise<void> {
  const { stage, budget } = goal.approval;
  if (body.budgetUsd !== undefined) {
    if (body.decision !== 'approve') throw new BudgetNotApplicableError('budgetUsd can only be sent with decision "approve"');
    if (stage !== 'budget') throw new BudgetNotApplicableError(`budgetUsd only applies to a budget approval; this goal awaits a ${stage ?? 'plan'} approval`);
  }
  if (body.decision !== 'approve' || stage !== 'budget' || !budget) return;
  const words = SCOPE_WORDS[budget.scope];
  const spent = `$${budget.spentUsd.toFixed(2)} ${words.spent}`;
  if (body.budgetUsd !== undefined) {
    if (body.budgetUsd <= budget.spentUsd) {
      throw new BudgetNotApplicableError(`budgetUsd $${body.budgetUsd} would not lift ${words.limit}: ${spent}; send a larger value or reject`);
    }
    return;
  }
  if (budget.scope === 'goal') return;
  const project = await deps.store.projects.get(goal.projectId);
  const limitNow = project.budgets[PROJECT_BUDGET_FIELD[budget.scope]];
  if (limitNow !== undefined && limitNow <= budget.limitUsd) {
    throw new BudgetNotApplicableError(
      `the goal stopped on ${words.limit} ($${budget.limitUsd.toFixed(2)}, ${spent}); approving without budgetUsd would stop it again: ` +
        `send budgetUsd above $${budget.spentUsd.toFixed(2)} to raise ${words.limit}, raise it with PATCH /projects/${goal.projectId}, or reject`,
    );
  }
}

/** Raises one of the project's budgets for everyone (it is the project's money), and says why. */
async function raiseProjectBudget(deps: ApiDependencies, projectId: string, scope: Exclude<BudgetScope, 'goal'>, budgetUsd: number, goalId: string, actor: Actor): Promise<void> {
  const field = PROJECT_BUDGET_FIELD[scope];
  const project = await deps.store.projects.mutate(projectId, (current) => ({ budgets: { ...current.budgets, [field]: budgetUsd } }));
  await deps.store.events.append(projectStream(projectId), {
    type: 'Project.SettingsChanged',
    actor,
    correlationId: goalId,
    projectId,
    data: { changed: ['budgets'], version: project.version, [field]: budgetUsd, approvedAtGoal: goalId },
  });
}

/** Changes the approval only while it still holds our token, i.e. nobody has moved on since. */
async function settleOurDecision(deps: ApiDependencies, goalId: string, token: string, change: (approval: Goal['approval']) => GoalChanges): Promise<void> {
  try {
    await deps.store.goals.mutate(goalId, (current) => (current.approval.taskToken === token ? change(current.approval) : {}));
  } catch (error) {
    logger.error('could not record the outcome of an approval answer', { goalId, error });
  }
}
