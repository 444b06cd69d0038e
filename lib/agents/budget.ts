// Spending guard the agent loop consults before every model call. The loop asks `check` with the
// call's worst case before calling and `charge`s the actual cost after; the pipeline provides a
// store-backed guard (goal and project budgets), createFixedBudget is the in-memory one.
import { BudgetExceededError } from './errors';

export interface BudgetGuard {
  /** Throws BudgetExceededError when a call costing up to `worstCaseUsd` could overrun the budget. */
  check(worstCaseUsd: number): Promise<void>;
  /** Records what a call actually cost. */
  charge(usd: number): Promise<void>;
}

export interface FixedBudget extends BudgetGuard {
  readonly limitUsd: number;
  spentUsd(): number;
  remainingUsd(): number;
}

// Sums of many small float charges drift; a nano-dollar is below any price granularity.
const roundUsd = (usd: number) => Math.round(usd * 1e9) / 1e9;

/** A budget of `limitUsd` held in memory: for one run, tests and the local runtime. */
export function createFixedBudget(limitUsd: number, options: { scope?: string } = {}): FixedBudget {
  if (!(limitUsd >= 0) || !Number.isFinite(limitUsd)) throw new RangeError(`budget limit must be a finite non-negative number, got ${limitUsd}`);
  let spent = 0;
  return {
    limitUsd,
    spentUsd: () => spent,
    remainingUsd: () => roundUsd(limitUsd - spent),
    async check(worstCaseUsd) {
      if (roundUsd(spent + worstCaseUsd) > limitUsd) {
        throw new BudgetExceededError(worstCaseUsd, roundUsd(limitUsd - spent), limitUsd, options.scope ?? 'fixed');
      }
    },
    async charge(usd) {
      if (!(usd >= 0)) throw new RangeError(`a charge must be a non-negative number, got ${usd}`);
      spent = roundUsd(spent + usd);
    },
  };
}
