// One agent invocation on one task attempt: which models it called, the tokens and dollars that
// cost, the tools it used and how it ended. Written once when the run ends.
import * as z from 'zod';
import { FailureCauseSchema, IsoTimestampSchema } from './common';
import { AgentRunIdSchema, GoalIdSchema, ProjectIdSchema, TaskIdSchema } from './ids';
import { AgentRoleSchema } from './settings';

export const TokenCountsSchema = z.object({
  input: z.number().int().min(0),
  output: z.number().int().min(0),
  cacheRead: z.number().int().min(0),
  cacheWrite: z.number().int().min(0),
});
export type TokenCounts = z.infer<typeof TokenCountsSchema>;

export const ModelCallRecordSchema = z.object({
  model: z.string().min(1).max(500),
  tokens: TokenCountsSchema,
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().int().min(0),
  /** Set when this call went to a fallback model because `fallbackFrom` failed. */
  fallbackFrom: z.string().min(1).max(500).optional(),
  stopReason: z.string().max(100).optional(),
});
export type ModelCallRecord = z.infer<typeof ModelCallRecordSchema>;

export const AGENT_RUN_OUTCOMES = ['succeeded', 'failed', 'stuck', 'budget-exceeded', 'timed-out', 'continued', 'cancelled'] as const;
export const AgentRunOutcomeSchema = z.enum(AGENT_RUN_OUTCOMES);

export const AgentRunSchema = z.object({
  id: AgentRunIdSchema,
  projectId: ProjectIdSchema,
  goalId: GoalIdSchema,
  taskId: TaskIdSchema,
  role: AgentRoleSchema,
  attempt: z.number().int().min(1).max(20),
  modelTier: z.number().int().min(0).max(7),
  // Capped so a long run still fits a 400 KB item; totals below stay exact past the cap.
  modelCalls: z.array(ModelCallRecordSchema).max(500),
  modelCallCount: z.number().int().min(0),
  tokens: TokenCountsSchema,
  costUsd: z.number().nonnegative(),
  /** Tool calls by tool name, and how many of them returned an error. */
  toolCalls: z.object({
    total: z.number().int().min(0),
    failed: z.number().int().min(0),
    byName: z.record(z.string().min(1).max(100), z.number().int().min(0)),
  }),
  outcome: AgentRunOutcomeSchema,
  error: FailureCauseSchema.optional(),
  startedAt: IsoTimestampSchema,
  endedAt: IsoTimestampSchema,
  durationMs: z.number().int().min(0),
});
export type AgentRun = z.infer<typeof AgentRunSchema>;
