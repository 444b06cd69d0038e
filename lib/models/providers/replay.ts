// Replay provider: answers from a scripted JSON file of model turns (tests, demos, offline runs).
// A reply is a pure function of the request — which conversation matches it and how many
// assistant turns it already holds — so agents running in parallel get deterministic answers.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as z from 'zod';
import { sleep } from '../../domain/backoff';
import { ReplayExhaustedError, ReplayMismatchError, ModelProviderError, ReplayNoMatchError, ReplayScriptError } from '../errors';
import { estimateTokens } from '../pricing';
import type { ReplayModelSpec } from '../spec';
import {
  StopReasonSchema,
  type AssistantBlock,
  type ConverseRequest,
  type Message,
  type ModelProvider,
  type ProviderCallOptions,
  type ProviderReply,
} from '../types';
import { startDeadline } from './deadline';

const Needles = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Every given condition must hold; an empty match matches any request. */
export const ReplayMatchSchema = z.strictObject({
  /** The request's `tags.role` (planner, developer, ux, qa, reviewer). */
  role: z.string().min(1).optional(),
  /** Each listed tag must equal the request's tag of the same name (taskId, goalId, …). */
  tags: z.record(z.string(), z.string()).optional(),
  /** Substring(s) of the system prompt, all required. */
  systemIncludes: Needles.optional(),
  /** Substring(s) of the first user message's text (where the task is stated), all required. */
  promptIncludes: Needles.optional(),
});
export type ReplayMatch = z.infer<typeof ReplayMatchSchema>;

const ReplayBlockSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string() }),
  z.strictObject({
    type: z.literal('toolUse'),
    id: z.string().min(1).optional(),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()).default({}),
  }),
]);

export const ReplayTurnSchema = z
  .strictObject({
    /** A string is shorthand for one text block. */
    content: z.union([z.string(), z.array(ReplayBlockSchema).min(1)]).optional(),
    /** Defaults to tool_use when the content calls a tool, end_turn otherwise. */
    stopReason: StopReasonSchema.optional(),
    /** Missing counts are estimated from the request and the reply. */
    usage: z
      .strictObject({
        inputTokens: z.number().int().nonnegative(),
        outputTokens: z.number().int().nonnegative(),
        cacheReadTokens: z.number().int().nonnegative(),
        cacheWriteTokens: z.number().int().nonnegative(),
      })
      .partial()
      .optional(),
    /** Wait this long before answering (to look like a model, or to shuffle concurrency in tests). */
    delayMs: z.number().int().nonnegative().max(600_000).optional(),
    /** Fail loudly if the conversation has drifted from what the script assumes. */
    expect: z.strictObject({ lastMessageIncludes: Needles }).optional(),
    /** Answer with a provider error instead of content (to exercise retries and fallback). */
    error: z.strictObject({ message: z.string().min(1), retryable: z.boolean().default(false) }).optional(),
  })
  .refine((turn) => (turn.content === undefined) !== (turn.error === undefined), {
    message: 'a turn has exactly one of "content" or "error"',
  });
export type ReplayTurn = z.infer<typeof ReplayTurnSchema>;

export const ReplayConversationSchema = z.strictObject({
  /** Shown in errors and used in generated tool-use ids. */
  name: z.string().min(1).optional(),
  match: ReplayMatchSchema.default({}),
  /** Turn n answers a request that already holds n assistant messages. */
  turns: z.array(ReplayTurnSchema).min(1),
});

export const ReplayScriptSchema = z.strictObject({
  version: z.literal(1).default(1),
  description: z.string().optional(),
  conversations: z.array(ReplayConversationSchema).min(1),
});
export type ReplayScript = z.infer<typeof ReplayScriptSchema>;

export interface ReplayProviderOptions {
  /** Resolves relative script paths; defaults to the working directory. */
  baseDir?: string;
  /** Use this script instead of reading the spec's file (tests, generated scripts). */
  script?: unknown;
}

export function createReplayProvider(parsed: ReplayModelSpec, options: ReplayProviderOptions = {}): ModelProvider {
  const path = resolve(options.baseDir ?? process.cwd(), parsed.path);
  let loading: Promise<ReplayScript> | undefined;
  const load = () =>
    (loading ??=
      options.script !== undefined
        ? Promise.resolve(validate(parsed.spec, path, options.script))
        : loadScript(parsed.spec, path));

  return {
    spec: parsed.spec,
    async converse(request: ConverseRequest, callOptions: ProviderCallOptions = {}): Promise<ProviderReply> {
      const script = await load();
      const { turn, conversation, index, step } = selectTurn(parsed.spec, path, script, request);
      if (turn.delayMs) {
        const deadline = startDeadline(request.signal, callOptions.timeoutMs);
        try {
          await sleep(turn.delayMs, deadline.signal);
        } catch (error) {
          throw deadline.failure(parsed.spec, error) ?? error;
        }
      }
      if (turn.error) {
        throw new ModelProviderError(`${parsed.spec} (scripted error): ${turn.error.message}`, {
          spec: parsed.spec,
          kind: turn.error.retryable ? 'unavailable' : 'replay',
          retryable: turn.error.retryable,
        });
      }
      const idPrefix = `replay-${slug(conversation.name ?? `c${index}`)}-${step}`;
      const content: AssistantBlock[] = toBlocks(turn.content!, idPrefix);
      const stopReason = turn.stopReason ?? (content.some((b) => b.type === 'toolUse') ? 'tool_use' : 'end_turn');
      return {
        content,
        stopReason,
        usage: {
          inputTokens: turn.usage?.inputTokens ?? estimateTokens(request),
          outputTokens: turn.usage?.outputTokens ?? estimateTokens(JSON.stringify(content)),
          cacheReadTokens: turn.usage?.cacheReadTokens ?? 0,
          cacheWriteTokens: turn.usage?.cacheWriteTokens ?? 0,
        },
      };
    },
  };
}

async function loadScript(spec: string, path: string): Promise<ReplayScript> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReplayScriptError(spec, `replay script ${path} cannot be read: ${(error as Error).message}`, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReplayScriptError(spec, `replay script ${path} is not valid JSON: ${(error as Error).message}`, error);
  }
  return validate(spec, path, json);
}

function validate(spec: string, path: string, json: unknown): ReplayScript {
  const result = ReplayScriptSchema.safeParse(json);
  if (!result.success) {
    throw new ReplayScriptError(spec, `replay script ${path} is invalid: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

interface Selection {
  turn: ReplayTurn;
  conversation: ReplayScript['conversations'][number];
  index: number;
  step: number;
}

/** Pure: the same request always selects the same turn, whatever else is running. */
export function selectTurn(spec: string, path: string, script: ReplayScript, request: ConverseRequest): Selection {
  const index = script.conversations.findIndex((c) => matches(c.match, request));
  if (index < 0) {
    const listed = script.conversations
      .map((c, i) => `${c.name ? JSON.stringify(c.name) : `#${i}`} ${JSON.stringify(c.match)}`)
      .join('; ');
    throw new ReplayNoMatchError(
      spec,
      `replay script ${path}: no conversation matches the request (${describe(request)}). Conversations: ${listed}`,
    );
  }
  const conversation = script.conversations[index]!;
  const step = request.messages.filter((m) => m.role === 'assistant').length;
  const turn = conversation.turns[step];
  const label = conversation.name ? JSON.stringify(conversation.name) : `#${index}`;
  if (!turn) {
    throw new ReplayExhaustedError(
      spec,
      `replay script ${path}: conversation ${label} has ${conversation.turns.length} turn(s) but the request ` +
        `asks for turn ${step + 1} (${step} assistant turn(s) already in it; ${describe(request)})`,
    );
  }
  if (turn.expect) {
    const last = textOf(request.messages.at(-1));
    const missing = needles(turn.expect.lastMessageIncludes).filter((n) => !last.includes(n));
    if (missing.length > 0) {
      throw new ReplayMismatchError(
        spec,
        `replay script ${path}: conversation ${label} turn ${step + 1} expects the last message to include ` +
          `${JSON.stringify(missing)}, but it was ${JSON.stringify(clip(last, 300))}`,
      );
    }
  }
  return { turn, conversation, index, step };
}

function matches(match: ReplayMatch, request: ConverseRequest): boolean {
  const tags = request.tags ?? {};
  if (match.role !== undefined && tags.role !== match.role) return false;
  for (const [key, value] of Object.entries(match.tags ?? {})) if (tags[key] !== value) return false;
  if (match.systemIncludes && !needles(match.systemIncludes).every((n) => request.system.includes(n))) return false;
  if (match.promptIncludes) {
    const prompt = textOf(request.messages.find((m) => m.role === 'user'));
    if (!needles(match.promptIncludes).every((n) => prompt.includes(n))) return false;
  }
  return true;
}

function describe(request: ConverseRequest): string {
  const prompt = textOf(request.messages.find((m) => m.role === 'user'));
  return (
    `tags ${JSON.stringify(request.tags ?? {})}, system ${JSON.stringify(clip(request.system, 80))}, ` +
    `prompt ${JSON.stringify(clip(prompt, 160))}`
  );
}

/** Text a message carries, including tool results, for matching and expectations. */
function textOf(message: Message | undefined): string {
  if (!message) return '';
  return message.content
    .map((b) => (b.type === 'text' ? b.text : b.type === 'toolResult' ? b.content : ''))
    .filter((t) => t !== '')
    .join('\n');
}

function toBlocks(content: NonNullable<ReplayTurn['content']>, idPrefix: string): AssistantBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((block, i) =>
    block.type === 'text'
      ? { type: 'text', text: block.text }
      : { type: 'toolUse', id: block.id ?? `${idPrefix}-${i}`, name: block.name, input: block.input },
  );
}

const needles = (n: string | string[]) => (typeof n === 'string' ? [n] : n);
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);
const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'c';
