// The budget guard the pipeline hands its agents: before every model call it compares the call's
// worst case with what is left of the goal's budget and of the project's daily and monthly
// budgets, reading the spend from the store (goal cost and usage counters), so every agent of a
// goal and every goal of a project draw on the same money.
import { BudgetExceededError } from '../agents/errors';
import type { BudgetGuard } from '../agents/budget';
import { dayOf } from '../domain/common';
import type { BudgetStanding, Goal } from '../domain/goal';
import type { Project } from '../domain/project';
import type { Runtime } from '../runtime';
import { goalBudgetUsd } from './policy';

/**
 * Every limit that applies to the goal right now, with what has been spent against it, in the
 * order they are checked: the goal's, then the project's day, then its month. Goal and project are
 * re-read each time because a person may have raised a budget since the run started.
 */
export async function budgetStandings(runtime: Runtime, goalId: string, now: Date): Promise<BudgetStanding[]> {
  const goal = await runtime.store.goals.get(goalId);
  const project = await runtime.store.projects.get(goal.projectId);
  const standings: BudgetStanding[] = [];
  const goalLimit = goalBudgetUsd(goal, project);
  if (goalLimit !== undefined) standings.push({ scope: 'goal', limitUsd: goalLimit, spentUsd: goal.costUsd });
  return [...standings, ...(await projectBudgetStandings(runtime, project, now))];
}

/**
 * The project's daily and monthly limits with what its usage counters say was spent against them:
 * every model call of the project counts, a goal's or a detection run's.
 */
export async function projectBudgetStandings(runtime: Runtime, project: Project, now: Date): Promise<BudgetStanding[]> {
  const { perProjectDailyUsd, perProjectMonthlyUsd } = project.budgets;
  if (perProjectDailyUsd === undefined && perProjectMonthlyUsd === undefined) return [];
  const today = dayOf(now);
  const month = await runtime.store.usage.getUsage(project.id, `${today.slice(0, 8)}01`, today);
  const standings: BudgetStanding[] = [];
  if (perProjectDailyUsd !== undefined) standings.push({ scope: 'project-daily', limitUsd: perProjectDailyUsd, spentUsd: month.byDay[today]?.usd ?? 0 });
  if (perProjectMonthlyUsd !== undefined) standings.push({ scope: 'project-monthly', limitUsd: perProjectMonthlyUsd, spentUsd: month.total.usd });
  return standings;
}

/**
 * The limit with the least money left: the one a budget gate was reached on, and the one a person
 * approving the gate must raise for the goal to go on. Undefined when no limit applies.
 */
export function bindingBudget(standings: readonly BudgetStanding[]): BudgetStanding | undefined {
  let binding: BudgetStanding | undefined;
  for (const standing of standings) {
    if (!binding || standing.limitUsd - standing.spentUsd < binding.limitUsd - binding.spentUsd) binding = standing;
  }
  return binding;
}

export function createStoreBudget(runtime: Runtime, goal: Goal, clock: () => Date = () => new Date()): BudgetGuard {
  return {
    async check(worstCaseUsd) {
      for (const { scope, limitUsd, spentUsd } of await budgetStandings(runtime, goal.id, clock())) {
        if (spentUsd + worstCaseUsd > limitUsd) throw new BudgetExceededError(worstCaseUsd, limitUsd - spentUsd, limitUsd, scope);
      }
    },
    async charge(usd) {
      if (usd > 0) await runtime.store.goals.addCost(goal.id, usd);
    },
  };
}
