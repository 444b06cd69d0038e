// Learned model routing: success and cost statistics per role × task kind × model, and the choice
// of the tier a task starts at — the cheapest model whose record clears the bar. Pure functions;
// storing the statistics is the pipeline's job.
import type { RoutingObservation, RoutingStat } from '../domain/routing-stat';
import type { AgentRole } from '../domain/settings';

const sameKey = (a: { role: string; kind: string; model: string }, b: { role: string; kind: string; model: string }) =>
  a.role === b.role && a.kind === b.kind && a.model === b.model;

const roundUsd = (usd: number) => Math.round(usd * 1e9) / 1e9;

/** Statistics with one more observation; the input is not changed. */
export function recordRoutingOutcome(stats: readonly RoutingStat[], observation: RoutingObservation): RoutingStat[] {
  const { role, kind, model, succeeded, costUsd } = observation;
  if (!(costUsd >= 0)) throw new RangeError(`costUsd must be non-negative, got ${costUsd}`);
  let found = false;
  const next = stats.map((s) => {
    if (!sameKey(s, observation)) return s;
    found = true;
    return { ...s, attempts: s.attempts + 1, successes: s.successes + (succeeded ? 1 : 0), costUsd: roundUsd(s.costUsd + costUsd) };
  });
  if (!found) next.push({ role, kind, model, attempts: 1, successes: succeeded ? 1 : 0, costUsd: roundUsd(costUsd) });
  return next;
}

/** Statistics from a list of observations (e.g. every attempt of a finished goal). */
export function routingStatsFrom(observations: readonly RoutingObservation[], initial: readonly RoutingStat[] = []): RoutingStat[] {
  return observations.reduce<RoutingStat[]>((stats, o) => recordRoutingOutcome(stats, o), [...initial]);
}

export function successRate(stat: Pick<RoutingStat, 'attempts' | 'successes'>): number {
  return stat.attempts === 0 ? 0 : stat.successes / stat.attempts;
}

/**
 * Expected USD to get one success: average cost of an attempt divided by the success rate (a
 * cheap model that needs two tries can cost more than a dear one that needs one).
 */
export function costPerSuccess(stat: Pick<RoutingStat, 'attempts' | 'successes' | 'costUsd'>): number {
  const rate = successRate(stat);
  return rate === 0 ? Number.POSITIVE_INFINITY : stat.costUsd / stat.attempts / rate;
}

export interface StartTierCriteria {
  role: AgentRole;
  kind: string;
  /** Success rate a model needs, 0–1. Default 0.8. */
  minSuccessRate?: number;
  /** Attempts a model needs before its rate is trusted. Default 5. */
  minSamples?: number;
}

export interface RouteCandidate {
  tier: number;
  model: string;
  attempts: number;
  successRate: number;
  costPerSuccessUsd: number;
  qualifies: boolean;
}

export interface RouteChoice {
  tier: number;
  reason: string;
  candidates: RouteCandidate[];
}

export const DEFAULT_MIN_SUCCESS_RATE = 0.8;
export const DEFAULT_MIN_SAMPLES = 5;

/** chooseStartTier with its reasoning and every candidate, for logs and the Behaviour dashboard. */
export function chooseRoute(policy: readonly string[], stats: readonly RoutingStat[], criteria: StartTierCriteria): RouteChoice {
  const minRate = criteria.minSuccessRate ?? DEFAULT_MIN_SUCCESS_RATE;
  const minSamples = criteria.minSamples ?? DEFAULT_MIN_SAMPLES;
  const candidates = policy.map((model, tier): RouteCandidate => {
    const stat = stats.find((s) => sameKey(s, { role: criteria.role, kind: criteria.kind, model }));
    const attempts = stat?.attempts ?? 0;
    const rate = stat ? successRate(stat) : 0;
    return {
      tier,
      model,
      attempts,
      successRate: rate,
      costPerSuccessUsd: stat ? costPerSuccess(stat) : Number.POSITIVE_INFINITY,
      qualifies: attempts >= minSamples && rate >= minRate,
    };
  });
  // The cheapest by learned cost per success; equal costs (e.g. free local models) go to the lower tier.
  const best = candidates
    .filter((c) => c.qualifies)
    .sort((a, b) => a.costPerSuccessUsd - b.costPerSuccessUsd || a.tier - b.tier)[0];
  if (!best) {
    return {
      tier: 0,
      reason: `no model has ≥ ${minSamples} attempts with a success rate ≥ ${minRate} for ${criteria.role}/${criteria.kind}; starting at tier 0`,
      candidates,
    };
  }
  return {
    tier: best.tier,
    reason:
      `${best.model} succeeds ${(best.successRate * 100).toFixed(0)}% of ${best.attempts} attempts for ${criteria.role}/${criteria.kind} ` +
      `at about $${best.costPerSuccessUsd.toFixed(4)} per success, the cheapest that clears ${minRate}`,
    candidates,
  };
}

/**
 * The policy tier a task should start at: the cheapest model (by learned cost per success) whose
 * success rate for this role and task kind clears `minSuccessRate` over at least `minSamples`
 * attempts; tier 0 when none does.
 */
export function chooseStartTier(policy: readonly string[], stats: readonly RoutingStat[], criteria: StartTierCriteria): number {
  return chooseRoute(policy, stats, criteria).tier;
}
