// Usage counters per project, UTC day and model: what budgets and the cost dashboard read.
import * as z from 'zod';
import { DaySchema } from './common';
import { ProjectIdSchema } from './ids';

export const USAGE_COUNTERS = ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'usd', 'calls'] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];

const count = z.number().int().min(0);

export const UsageCountersSchema = z.object({
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  usd: z.number().nonnegative(),
  calls: count,
});
export type UsageCounters = z.infer<typeof UsageCountersSchema>;

/** Increments for one model call (or a batch); omitted counters are not touched. */
export const UsageDeltaSchema = UsageCountersSchema.partial();
export type UsageDelta = z.infer<typeof UsageDeltaSchema>;

/** The model as lib/models names it in metrics and the price table (at most 500 characters). */
export const UsageModelSchema = z.string().min(1).max(500);

export const UsageRecordSchema = UsageCountersSchema.extend({
  projectId: ProjectIdSchema,
  day: DaySchema,
  model: UsageModelSchema,
});
export type UsageRecord = z.infer<typeof UsageRecordSchema>;

export function emptyUsage(): UsageCounters {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, usd: 0, calls: 0 };
}

export function addCounters(a: UsageCounters, b: UsageDelta): UsageCounters {
  const sum = { ...a };
  for (const k of USAGE_COUNTERS) sum[k] += b[k] ?? 0;
  return sum;
}
