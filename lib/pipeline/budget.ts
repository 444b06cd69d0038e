// The budget guard the pipeline hands its agents: before every model call it compares the call's
// worst case with what is left of the goal's budget and of the project's daily and monthly
// budgets, reading the spend from the store (goal cost and usage counters), so every agent of a
// goal and every goal of a project draw on the same money.
import { BudgetExceededError } from '../agents/errors';
import type { BudgetGuard } from '../agents/budget';
import { dayOf } from '../domain/common';
import type { Goal } from '../domain/goal';
import type { Project } from '../domain/project';
import type { Runtime } from '../runtime';
import { goalBudgetUsd } from './policy';

export function createStoreBudget(runtime: Runtime, goal: Goal, project: Project, clock: () => Date = () => new Date()): BudgetGuard {
  const { perProjectDailyUsd, perProjectMonthlyUsd } = project.budgets;
  return {
    async check(worstCaseUsd) {
      // The goal is re-read on every check: a human may have raised its budget since the start.
      const fresh = await runtime.store.goals.get(goal.id);
      const goalLimit = goalBudgetUsd(fresh, project);
      if (goalLimit !== undefined && fresh.costUsd + worstCaseUsd > goalLimit) {
        throw new BudgetExceededError(worstCaseUsd, goalLimit - fresh.costUsd, goalLimit, 'goal');
      }
      if (perProjectDailyUsd === undefined && perProjectMonthlyUsd === undefined) return;
      const today = dayOf(clock());
      const monthStart = `${today.slice(0, 8)}01`;
      const month = await runtime.store.usage.getUsage(project.id, monthStart, today);
      const spentToday = month.byDay[today]?.usd ?? 0;
      if (perProjectDailyUsd !== undefined && spentToday + worstCaseUsd > perProjectDailyUsd) {
        throw new BudgetExceededError(worstCaseUsd, perProjectDailyUsd - spentToday, perProjectDailyUsd, 'project-daily');
      }
      if (perProjectMonthlyUsd !== undefined && month.total.usd + worstCaseUsd > perProjectMonthlyUsd) {
        throw new BudgetExceededError(worstCaseUsd, perProjectMonthlyUsd - month.total.usd, perProjectMonthlyUsd, 'project-monthly');
      }
    },
    async charge(usd) {
      if (usd > 0) await runtime.store.goals.addCost(goal.id, usd);
    },
  };
}
