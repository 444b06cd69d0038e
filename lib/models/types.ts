// The provider-neutral shape of one conversation turn with tools: what an agent sends to a
// model and what comes back, whichever provider (Bedrock, OpenAI-compatible, replay) answers it.
import * as z from 'zod';
import { AgentRoleSchema } from '../domain/settings';

export const TextBlockSchema = z.object({ type: z.literal('text'), text: z.string() });
export type TextBlock = z.infer<typeof TextBlockSchema>;

/** Tool input is whatever JSON object the model produced; the tool validates it, not us. */
export const ToolInputSchema = z.record(z.string(), z.unknown());

export const ToolUseBlockSchema = z.object({
  type: z.literal('toolUse'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: ToolInputSchema,
});
export type ToolUseBlock = z.infer<typeof ToolUseBlockSchema>;

export const ToolResultBlockSchema = z.object({
  type: z.literal('toolResult'),
  toolUseId: z.string().min(1),
  content: z.string(),
  isError: z.boolean().optional(),
});
export type ToolResultBlock = z.infer<typeof ToolResultBlockSchema>;

/**
 * "Everything before this point is a stable prefix worth caching." Providers that support
 * explicit prompt caching (Bedrock with Claude/Nova) turn it into a cache point; others ignore it.
 */
export const CachePointBlockSchema = z.object({ type: z.literal('cachePoint') });
export type CachePointBlock = z.infer<typeof CachePointBlockSchema>;

export const ContentBlockSchema = z.discriminatedUnion('type', [
  TextBlockSchema,
  ToolUseBlockSchema,
  ToolResultBlockSchema,
  CachePointBlockSchema,
]);
export type ContentBlock = z.infer<typeof ContentBlockSchema>;

/** What a model may answer with. */
export const AssistantBlockSchema = z.discriminatedUnion('type', [TextBlockSchema, ToolUseBlockSchema]);
export type AssistantBlock = z.infer<typeof AssistantBlockSchema>;

export const MessageSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.array(ContentBlockSchema).min(1),
});
export type Message = z.infer<typeof MessageSchema>;

export const ToolSpecSchema = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
  description: z.string().min(1),
  /** JSON Schema of the tool's input object. */
  inputSchema: z.record(z.string(), z.unknown()),
});
export type ToolSpec = z.infer<typeof ToolSpecSchema>;

/**
 * Labels that travel with a request but are never sent to a model: who is asking and for what.
 * The gateway copies them onto usage records; the replay provider matches on them.
 */
export const RequestTagsSchema = z
  .object({ role: AgentRoleSchema.optional(), taskId: z.string().optional(), goalId: z.string().optional() })
  .catchall(z.string());
export type RequestTags = z.infer<typeof RequestTagsSchema>;

export interface ConverseRequest {
  system: string;
  /** Put a cache point after the system prompt (and therefore after the tool definitions). */
  cacheSystem?: boolean;
  /**
   * Cache the conversation as it grows: providers with explicit caching put rolling cache points
   * at the ends of user messages (the newest that closes a long enough segment, and the one
   * before it, which the previous call wrote). Only worth it for a conversation sent again.
   */
  cacheConversation?: boolean;
  messages: Message[];
  tools?: ToolSpec[];
  maxTokens: number;
  temperature?: number;
  /** Aborts the call (and any retry wait); the gateway then throws ModelCallAbortedError. */
  signal?: AbortSignal;
  tags?: RequestTags;
}

export const STOP_REASONS = [
  'end_turn',
  'tool_use',
  'max_tokens',
  'stop_sequence',
  'content_filtered',
  'guardrail_intervened',
  'context_window_exceeded',
  'malformed_output',
  'other',
] as const;
export const StopReasonSchema = z.enum(STOP_REASONS);
export type StopReason = z.infer<typeof StopReasonSchema>;

/**
 * Token counts of one call. `inputTokens` excludes tokens read from or written to the prompt
 * cache, so the four numbers add up to everything billed and each is priced at its own rate.
 */
export const TokenUsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof TokenUsageSchema>;

/** What a provider returns for one successful call; the gateway adds timing and cost. */
export interface ProviderReply {
  content: AssistantBlock[];
  stopReason: StopReason;
  usage: TokenUsage;
}

/** Per-call options a provider honours; the gateway fills them in. */
export interface ProviderCallOptions {
  /** Give up on this attempt after this long and report a retryable timeout. */
  timeoutMs?: number;
}

export interface ModelProvider {
  /** The spec this provider answers for, exactly as configured. */
  readonly spec: string;
  converse(request: ConverseRequest, options?: ProviderCallOptions): Promise<ProviderReply>;
}

/** The record of one successful model call, shaped like the `Model.Called` event's data. */
export interface ModelCallRecord extends TokenUsage {
  spec: string;
  provider: 'bedrock' | 'openai' | 'replay';
  /** Position of the answering model in the policy list (0 = first). */
  tier: number;
  /** Attempts made across all models for this call, including the successful one. */
  attempts: number;
  stopReason: StopReason;
  latencyMs: number;
  costUsd: number;
  /** False when the model had no known price and was charged the configured default price. */
  priceKnown: boolean;
  tags: RequestTags;
}

export interface ModelCallResult {
  content: AssistantBlock[];
  stopReason: StopReason;
  usage: TokenUsage;
  latencyMs: number;
  spec: string;
  costUsd: number;
  priceKnown: boolean;
  record: ModelCallRecord;
}
