// OpenAI-compatible provider: one conversation turn through POST {baseUrl}/chat/completions
// with function tools, for Ollama, vLLM, LM Studio, llama.cpp and hosted compatible APIs.
import * as z from 'zod';
import { canonicalJson } from '../../domain/canonical-json';
import { ModelProviderError, type ModelErrorKind } from '../errors';
import { estimateTokens } from '../pricing';
import type { OpenAIModelSpec } from '../spec';
import type {
  AssistantBlock,
  ConverseRequest,
  ModelProvider,
  ProviderCallOptions,
  ProviderReply,
  StopReason,
} from '../types';
import { startDeadline } from './deadline';

export interface OpenAIProviderOptions {
  /**
   * Sent as a Bearer token; defaults to the OPENAI_API_KEY environment variable. A function is
   * asked before every call, so a key read from a secret store follows its rotation.
   */
  apiKey?: string | (() => Promise<string>);
  /** Replaces global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
    }
  | { role: 'tool'; tool_call_id: string; content: string };

/** The key for this call; a key that cannot be read is the deployment's problem, not worth a retry. */
async function apiKeyFor(spec: string, options: OpenAIProviderOptions): Promise<string | undefined> {
  if (typeof options.apiKey !== 'function') return options.apiKey ?? process.env.OPENAI_API_KEY;
  try {
    return await options.apiKey();
  } catch (error) {
    throw new ModelProviderError(`could not read the API key for ${spec}: ${error instanceof Error ? error.message : String(error)}`, {
      spec,
      kind: 'access_denied',
      retryable: false,
      cause: error,
    });
  }
}

// Raw text quoted in errors is capped so a runaway reply cannot flood logs and events.
const QUOTE_LIMIT = 2_000;
const quote = (text: string) => (text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text);

export function createOpenAIProvider(parsed: OpenAIModelSpec, options: OpenAIProviderOptions = {}): ModelProvider {
  const url = `${parsed.baseUrl}/chat/completions`;
  const doFetch = options.fetch ?? fetch;
  return {
    spec: parsed.spec,
    async converse(request: ConverseRequest, callOptions: ProviderCallOptions = {}): Promise<ProviderReply> {
      const apiKey = await apiKeyFor(parsed.spec, options);
      const body = toChatCompletionsBody(parsed, request);
      const deadline = startDeadline(request.signal, callOptions.timeoutMs);
      let status: number;
      let text: string;
      let retryAfter: string | null;
      try {
        const response = await doFetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          },
          body: JSON.stringify(body),
          signal: deadline.signal,
        });
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        text = await response.text();
      } catch (error) {
        throw deadline.failure(parsed.spec, error) ?? networkError(parsed.spec, error);
      }
      if (status < 200 || status >= 300) throw httpError(parsed.spec, status, text, retryAfter);
      return fromChatCompletion(parsed.spec, text, request);
    },
  };
}

export function toChatCompletionsBody(parsed: OpenAIModelSpec, request: ConverseRequest): Record<string, unknown> {
  const messages: ChatMessage[] = [{ role: 'system', content: request.system }];
  for (const message of request.messages) {
    if (message.role === 'assistant') {
      const text = message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
      const calls = message.content.flatMap((b) =>
        b.type === 'toolUse'
          ? [{ id: b.id, type: 'function' as const, function: { name: b.name, arguments: JSON.stringify(b.input) } }]
          : [],
      );
      // null content is how the API spells "only tool calls"; some servers refuse it otherwise.
      messages.push(
        calls.length > 0
          ? { role: 'assistant', content: text === '' ? null : text, tool_calls: calls }
          : { role: 'assistant', content: text },
      );
      continue;
    }
    // Tool results must directly follow the assistant message that asked for them, so they go
    // first, each as its own `tool` message; any user text follows as one user message.
    const texts: string[] = [];
    for (const block of message.content) {
      if (block.type === 'toolResult') {
        // The wire format has no error flag, so the model is told in words.
        const content = block.isError ? `ERROR: ${block.content}` : block.content;
        messages.push({ role: 'tool', tool_call_id: block.toolUseId, content });
      } else if (block.type === 'text') {
        texts.push(block.text);
      }
    }
    if (texts.length > 0) messages.push({ role: 'user', content: texts.join('\n\n') });
  }
  const body: Record<string, unknown> = { model: parsed.model, messages };
  // OpenAI's own API has replaced max_tokens with max_completion_tokens; compatible servers
  // (Ollama, vLLM, llama.cpp) still read max_tokens.
  body[isOpenAIHosted(parsed.baseUrl) ? 'max_completion_tokens' : 'max_tokens'] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.tools && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      // Sorted keys: servers that cache by prefix (OpenAI, vLLM) see the same bytes every call.
      function: { name: tool.name, description: tool.description, parameters: JSON.parse(canonicalJson(tool.inputSchema)) as unknown },
    }));
  }
  return body;
}

function isOpenAIHosted(baseUrl: string): boolean {
  try {
    return new URL(baseUrl).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

const count = z.number().int().nonnegative();

const ChatCompletionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string().nullish(),
                function: z.object({
                  name: z.string().min(1),
                  // Some servers send an object instead of the JSON string the spec calls for.
                  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
                }),
              }),
            )
            .nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: count,
      completion_tokens: count,
      prompt_tokens_details: z.object({ cached_tokens: count.nullish() }).nullish(),
    })
    .nullish(),
});

const FINISH_REASONS: Record<string, StopReason> = {
  stop: 'end_turn',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  length: 'max_tokens',
  content_filter: 'content_filtered',
};

export function fromChatCompletion(spec: string, text: string, request: ConverseRequest): ProviderReply {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Usually a reply cut off on the way (a proxy, a dropped stream): transient, like a 5xx.
    throw new ModelProviderError(`${spec} sent a reply that is not JSON (cut off?): ${quote(text)}`, {
      spec,
      kind: 'malformed_reply',
      retryable: true,
    });
  }
  const parsed = ChatCompletionSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelProviderError(
      `${spec} sent a chat completion of the wrong shape (${z.prettifyError(parsed.error)}): ${quote(text)}`,
      { spec, kind: 'malformed_reply', retryable: false },
    );
  }
  const choice = parsed.data.choices[0]!;
  const content: AssistantBlock[] = [];
  if (choice.message.content) content.push({ type: 'text', text: choice.message.content });
  (choice.message.tool_calls ?? []).forEach((call, index) => {
    content.push({
      type: 'toolUse',
      // A server that omits ids still needs stable ones to pair results with calls.
      id: call.id || `call_${index}`,
      name: call.function.name,
      input: parseArguments(spec, call.function.name, call.function.arguments),
    });
  });
  const hasToolUse = content.some((b) => b.type === 'toolUse');
  let stopReason = FINISH_REASONS[choice.finish_reason ?? ''] ?? (hasToolUse ? 'tool_use' : 'other');
  // Some servers report "stop" even when they return tool calls; the calls are what matters.
  if (hasToolUse && stopReason === 'end_turn') stopReason = 'tool_use';

  const usage = parsed.data.usage;
  if (!usage) {
    // Without a usage block the best we can do is estimate, so cost is never silently zero.
    return {
      content,
      stopReason,
      usage: {
        inputTokens: estimateTokens(request),
        outputTokens: estimateTokens(JSON.stringify(content)),
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
    };
  }
  const cached = Math.min(usage.prompt_tokens_details?.cached_tokens ?? 0, usage.prompt_tokens);
  return {
    content,
    stopReason,
    usage: {
      inputTokens: usage.prompt_tokens - cached,
      outputTokens: usage.completion_tokens,
      cacheReadTokens: cached,
      cacheWriteTokens: 0,
    },
  };
}

function parseArguments(spec: string, name: string, args: string | Record<string, unknown> | null | undefined) {
  if (args === null || args === undefined) return {};
  if (typeof args !== 'string') return args;
  if (args.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(args);
  } catch {
    // Cut-off arguments come from a truncated reply or a sampling slip; asking again usually works.
    throw new ModelProviderError(`${spec} called tool ${name} with arguments that are not JSON: ${quote(args)}`, {
      spec,
      kind: 'malformed_reply',
      retryable: true,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelProviderError(`${spec} called tool ${name} with arguments that are not a JSON object: ${quote(args)}`, {
      spec,
      kind: 'malformed_reply',
      retryable: false,
    });
  }
  return value as Record<string, unknown>;
}

function httpError(spec: string, status: number, text: string, retryAfter: string | null): ModelProviderError {
  let detail = text;
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof message === 'string') detail = message;
  } catch {
    // Not JSON: quote the body as it came.
  }
  let kind: ModelErrorKind;
  let retryable: boolean;
  if (status === 429) [kind, retryable] = ['throttled', true];
  else if (status === 408) [kind, retryable] = ['timeout', true];
  else if (status >= 500) [kind, retryable] = ['unavailable', true];
  else if (status === 401 || status === 403) [kind, retryable] = ['access_denied', false];
  else if (status === 404) [kind, retryable] = ['not_found', false];
  else [kind, retryable] = ['invalid_request', false];
  return new ModelProviderError(`${spec}: HTTP ${status}: ${quote(detail)}`, {
    spec,
    kind,
    retryable,
    status,
    retryAfterMs: parseRetryAfter(retryAfter),
  });
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function networkError(spec: string, error: unknown): ModelProviderError {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new ModelProviderError(`${spec}: could not reach the server: ${detail}`, {
    spec,
    kind: 'unavailable',
    retryable: true,
    providerCode: cause?.code,
    cause: error,
  });
}
