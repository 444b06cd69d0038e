// The autonomy policy: when the team must ask a human. One table, read by the pipeline steps.
//
// | level | asks a human …                                                      |
// | 1     | to approve the plan, and again before delivery                      |
// | 2     | to approve the plan (delivers a branch/PR for human review)         |
// | 3     | only when the plan's risk is high (and when the budget must grow)   |
// | 4, 5  | never for goals it was given; detected work runs without asking     |
import type { Goal } from '../domain/goal';
import type { Risk } from '../domain/plan';
import type { Project } from '../domain/project';

export function effectiveAutonomy(goal: Pick<Goal, 'autonomyOverride'>, project: Pick<Project, 'autonomyLevel'>): number {
  return goal.autonomyOverride ?? project.autonomyLevel;
}

export function planApprovalRequired(level: number, risk: Risk | undefined): boolean {
  if (level <= 2) return true;
  if (level === 3) return risk === 'high';
  return false;
}

export function deliveryApprovalRequired(level: number): boolean {
  return level <= 1;
}

/** The per-goal spending limit in USD, or undefined when none applies. */
export function goalBudgetUsd(goal: Pick<Goal, 'budgetOverrideUsd'>, project: Pick<Project, 'budgets'>): number | undefined {
  return goal.budgetOverrideUsd ?? project.budgets.perGoalUsd;
}
