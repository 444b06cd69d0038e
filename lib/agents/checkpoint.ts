// The serialisable state of an unfinished agent run: enough to continue it in another Lambda
// invocation (`runAgent({ ..., resume: { checkpoint } })`) after `shouldSuspend()` stopped it
// between turns. run-state.ts makes it from the run's state and restores the state from it.
import * as z from 'zod';
import { AgentRoleSchema, IsoTimestampSchema, ModelCallRecordSchema, TokenCountsSchema } from '../domain/index';
import { MessageSchema } from '../models/index';

export const CHECKPOINT_VERSION = 1;

export const ToolCallStatsSchema = z.object({
  total: z.number().int().min(0),
  failed: z.number().int().min(0),
  byName: z.record(z.string().min(1).max(100), z.number().int().min(0)),
});
export type ToolCallStats = z.infer<typeof ToolCallStatsSchema>;

const UsageSchema = z.object({
  tokens: TokenCountsSchema,
  costUsd: z.number().nonnegative(),
  modelCallCount: z.number().int().min(0),
  modelCalls: z.array(ModelCallRecordSchema),
  modelsUsed: z.array(z.string()),
});
export type RunUsage = z.infer<typeof UsageSchema>;

export const AgentCheckpointSchema = z.object({
  version: z.literal(CHECKPOINT_VERSION),
  runId: z.string().min(1),
  role: AgentRoleSchema,
  projectId: z.string().min(1),
  goalId: z.string().min(1),
  taskId: z.string().min(1),
  attempt: z.number().int().min(1),
  startTier: z.number().int().min(0),
  startedAt: IsoTimestampSchema,
  /** Wall time already spent in earlier invocations; the wall-time limit covers the whole run. */
  elapsedMs: z.number().int().min(0),
  /** Model calls made so far; the turn limit covers the whole run. */
  turns: z.number().int().min(0),
  /** Invalid finish calls already answered with a repair message (at most one is allowed). */
  finishRepairsUsed: z.number().int().min(0),
  /** The conversation after the system prompt, already redacted. */
  messages: z.array(MessageSchema).min(1),
  usage: UsageSchema,
  toolCalls: ToolCallStatsSchema,
  /** Stuck detector counts: fingerprint of (tool, input, result) → times seen. */
  repeats: z.record(z.string(), z.number().int().min(1)),
});
export type AgentCheckpoint = z.infer<typeof AgentCheckpointSchema>;
