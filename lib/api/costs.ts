// A project's spend over a period of UTC days, read from the usage counters: the total, every day
// of the range (zeros where nothing ran, so charts need no gap filling) and each model's share.
import { dayOf, emptyInfrastructureUsage, emptyUsage, roundedInfrastructure, type UsageCounters } from '../domain/index';
import { nowFrom, type ApiDependencies } from './dependencies';
import { DayRangeError } from './errors';
import { MAX_COST_RANGE_DAYS, type CostReport } from './schemas';

/** How far back the report reaches when the client names no start: 30 days including `to`. */
export const DEFAULT_COST_RANGE_DAYS = 30;

const DAY_MS = 86_400_000;

export async function getCosts(deps: ApiDependencies, projectId: string, query: { from?: string; to?: string }): Promise<CostReport> {
  await deps.store.projects.get(projectId);
  const to = query.to ?? dayOf(nowFrom(deps));
  const from = query.from ?? shiftDay(to, -(DEFAULT_COST_RANGE_DAYS - 1));
  if (from > to) throw new DayRangeError(`from (${from}) is after to (${to})`, 'query.from');
  const length = daysFrom(from, to) + 1;
  if (length > MAX_COST_RANGE_DAYS) throw new DayRangeError(`the range spans ${length} days; at most ${MAX_COST_RANGE_DAYS} are allowed`, 'query.from');

  const [usage, infrastructure] = await Promise.all([
    deps.store.usage.getUsage(projectId, from, to),
    deps.store.infrastructureUsage.forProject(projectId, from, to),
  ]);
  const byDay = Array.from({ length }, (_, i) => {
    const day = shiftDay(from, i);
    return { day, ...rounded(usage.byDay[day] ?? emptyUsage()) };
  });
  const byModel = Object.entries(usage.byModel)
    .map(([model, counters]) => ({ model, ...rounded(counters) }))
    .sort((a, b) => b.usd - a.usd || (a.model < b.model ? -1 : 1));
  const infrastructureByDay = byDay.map(({ day }) => ({ day, ...roundedInfrastructure(infrastructure.byDay[day] ?? emptyInfrastructureUsage()) }));
  return {
    projectId,
    from,
    to,
    currency: 'USD',
    total: rounded(usage.total),
    byDay,
    byModel,
    infrastructure: { total: roundedInfrastructure(infrastructure.total), byDay: infrastructureByDay },
  };
}

function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

function daysFrom(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00.000Z`) - Date.parse(`${from}T00:00:00.000Z`)) / DAY_MS);
}

/** Sums of float dollars drift in the last digits; a report shows micro-dollars at most. */
function rounded(counters: UsageCounters): UsageCounters {
  return { ...counters, usd: Math.round(counters.usd * 1e6) / 1e6 };
}
