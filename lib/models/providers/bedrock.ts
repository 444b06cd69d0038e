// Bedrock provider: one conversation turn through the Converse API, with tool use and prompt
// cache points (placed by prompt-cache.ts), its reply validated and its errors sorted into
// retryable or not.
import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ContentBlock as BedrockContentBlock,
  type ConverseCommandInput,
  type Message as BedrockMessage,
  type SystemContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import * as z from 'zod';
import { logger } from '../../powertools';
import { traceAwsClient } from '../../tracing';
import { ModelProviderError, type ModelErrorKind } from '../errors';
import type { BedrockModelSpec } from '../spec';
import type {
  AssistantBlock,
  ContentBlock,
  ConverseRequest,
  ModelProvider,
  ProviderCallOptions,
  ProviderReply,
  StopReason,
} from '../types';
import { canonicalJson } from '../../domain/canonical-json';
import { cacheTokensAtLeast, chooseCachePoints, minCacheTokens, type CacheCandidate } from '../prompt-cache';
import { startDeadline } from './deadline';

export interface BedrockProviderOptions {
  /** Region for model ids that are not ARNs; otherwise the SDK's own resolution (AWS_REGION …). */
  region?: string;
  /**
   * `auto` sends cache points only to models known to accept them (Claude 3.5 Haiku, 3.7 and
   * 4.x, Nova); other models reject a request that carries one.
   */
  promptCache?: 'auto' | 'always' | 'never';
}

// One client per region, created on first use. No endpoint is passed, so the SDK keeps
// honouring AWS_ENDPOINT_URL_BEDROCK_RUNTIME (VPC endpoints, local fakes). The SDK's own
// retries are off (maxAttempts 1) because the gateway retries, with jitter, then falls back.
const clients = new Map<string, BedrockRuntimeClient>();

export function bedrockClient(region: string | undefined): BedrockRuntimeClient {
  const key = region ?? '';
  let client = clients.get(key);
  if (!client) {
    client = traceAwsClient(new BedrockRuntimeClient({ maxAttempts: 1, ...(region ? { region } : {}) }));
    clients.set(key, client);
  }
  return client;
}

/** Drops the cached clients so the next call resolves endpoint and credentials afresh (tests). */
export function resetBedrockClients(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
}

const CACHE_CAPABLE = /(?:^|\.)(?:anthropic\.claude-(?:3-5-haiku|3-7-sonnet|(?:opus|sonnet|haiku)-[4-9])|amazon\.nova)/;

export function supportsPromptCache(modelId: string): boolean {
  return CACHE_CAPABLE.test(modelId.slice(modelId.lastIndexOf('/') + 1));
}

export function createBedrockProvider(parsed: BedrockModelSpec, options: BedrockProviderOptions = {}): ModelProvider {
  const region = parsed.region ?? options.region;
  const mode = options.promptCache ?? 'auto';
  const useCache = mode === 'always' || (mode === 'auto' && supportsPromptCache(parsed.modelId));
  return {
    spec: parsed.spec,
    async converse(request: ConverseRequest, callOptions: ProviderCallOptions = {}): Promise<ProviderReply> {
      const input = toConverseInput(parsed.modelId, request, useCache);
      const deadline = startDeadline(request.signal, callOptions.timeoutMs);
      let raw: unknown;
      try {
        raw = await bedrockClient(region).send(new ConverseCommand(input), { abortSignal: deadline.signal });
      } catch (error) {
        throw deadline.failure(parsed.spec, error) ?? toProviderError(parsed.spec, error);
      }
      return fromConverseOutput(parsed.spec, raw);
    },
  };
}

export function toConverseInput(modelId: string, request: ConverseRequest, useCache: boolean): ConverseCommandInput {
  // Serialised with sorted keys, so the tool definitions (the first bytes of every request) are
  // byte-identical from call to call whatever order their schema was built in.
  const tools = (request.tools ?? []).map((tool) => ({
    name: tool.name,
    description: tool.description,
    schema: canonicalJson(tool.inputSchema),
  }));
  const placement = useCache ? placeCachePoints(modelId, request, tools) : undefined;
  const system: SystemContentBlock[] = [{ text: request.system }];
  if (placement?.afterSystem) system.push(cachePointBlock());
  const messages: BedrockMessage[] = request.messages.map((message, m) => {
    const content: BedrockContentBlock[] = [];
    message.content.forEach((block, b) => {
      if (block.type === 'cachePoint') {
        if (placement?.inMessages.has(`${m}:${b}`)) content.push(cachePointBlock());
      } else {
        content.push(toBedrockBlock(block));
      }
    });
    if (placement?.inMessages.has(`${m}:end`)) content.push(cachePointBlock());
    return { role: message.role, content };
  });
  const input: ConverseCommandInput = {
    modelId,
    system,
    messages,
    inferenceConfig: {
      maxTokens: request.maxTokens,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    },
  };
  if (tools.length > 0) {
    input.toolConfig = {
      tools: tools.map((tool) => ({
        toolSpec: { name: tool.name, description: tool.description, inputSchema: { json: JSON.parse(tool.schema) as never } },
      })),
    };
  }
  return input;
}

const cachePointBlock = () => ({ cachePoint: { type: 'default' as const } });

interface CachePlacement {
  afterSystem: boolean;
  /** `message:block` of explicit cachePoint blocks kept, `message:end` of rolling points. */
  inMessages: Set<string>;
}

/**
 * Turns the request's wishes (cacheSystem, cachePoint blocks, cacheConversation) into at most four
 * cache points, each closing a segment of at least the model's minimum (prompt-cache.ts).
 */
function placeCachePoints(modelId: string, request: ConverseRequest, tools: readonly { name: string; description: string; schema: string }[]): CachePlacement {
  const candidates: CacheCandidate[] = [];
  const keys: string[] = [];
  // Bedrock reads a request as tools, then system, then messages: a point after the system
  // prompt caches the tool definitions too.
  let pending = cacheTokensAtLeast(request.system) + tools.reduce((n, t) => n + cacheTokensAtLeast(t.name + t.description + t.schema), 0);
  if (request.cacheSystem) {
    candidates.push({ kind: 'fixed', tokens: pending });
    keys.push('system');
    pending = 0;
  }
  request.messages.forEach((message, m) => {
    message.content.forEach((block, b) => {
      if (block.type === 'cachePoint') {
        candidates.push({ kind: 'fixed', tokens: pending });
        keys.push(`${m}:${b}`);
        pending = 0;
      } else {
        pending += blockTokensAtLeast(block);
      }
    });
    // Only after user turns (tool results, or the task): every request ends with one, and no
    // model is asked to accept a cache point inside its own reply.
    if (request.cacheConversation && message.role === 'user') {
      candidates.push({ kind: 'rolling', tokens: pending });
      keys.push(`${m}:end`);
      pending = 0;
    }
  });
  const chosen = chooseCachePoints(candidates, minCacheTokens(modelId));
  const placement: CachePlacement = { afterSystem: false, inMessages: new Set() };
  chosen.forEach((isPoint, i) => {
    if (!isPoint) return;
    if (keys[i] === 'system') placement.afterSystem = true;
    else placement.inMessages.add(keys[i]!);
  });
  return placement;
}

function blockTokensAtLeast(block: Exclude<ContentBlock, { type: 'cachePoint' }>): number {
  switch (block.type) {
    case 'text':
      return cacheTokensAtLeast(block.text);
    case 'toolUse':
      return cacheTokensAtLeast(block.name + JSON.stringify(block.input));
    case 'toolResult':
      return cacheTokensAtLeast(block.content);
  }
}

function toBedrockBlock(block: Exclude<ContentBlock, { type: 'cachePoint' }>): BedrockContentBlock {
  switch (block.type) {
    case 'text':
      return { text: block.text };
    case 'toolUse':
      return { toolUse: { toolUseId: block.id, name: block.name, input: block.input as never } };
    case 'toolResult':
      return {
        toolResult: {
          toolUseId: block.toolUseId,
          content: [{ text: block.content }],
          status: block.isError ? 'error' : 'success',
        },
      };
  }
}

const count = z.number().int().nonnegative();

const ConverseReplySchema = z.object({
  output: z.object({
    message: z.object({
      content: z.array(
        z.object({
          text: z.string().optional(),
          toolUse: z
            .object({ toolUseId: z.string().min(1), name: z.string().min(1), input: z.unknown() })
            .optional(),
        }),
      ),
    }),
  }),
  stopReason: z.string(),
  usage: z.object({
    inputTokens: count,
    outputTokens: count,
    cacheReadInputTokens: count.optional(),
    cacheWriteInputTokens: count.optional(),
  }),
});

const STOP_REASONS: Record<string, StopReason> = {
  end_turn: 'end_turn',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  content_filtered: 'content_filtered',
  guardrail_intervened: 'guardrail_intervened',
  model_context_window_exceeded: 'context_window_exceeded',
  malformed_model_output: 'malformed_output',
  malformed_tool_use: 'malformed_output',
};

export function fromConverseOutput(spec: string, raw: unknown): ProviderReply {
  const parsed = ConverseReplySchema.safeParse(raw);
  if (!parsed.success) {
    throw new ModelProviderError(
      `${spec} returned a Converse reply of the wrong shape: ${z.prettifyError(parsed.error)}`,
      { spec, kind: 'malformed_reply', retryable: false },
    );
  }
  const reply = parsed.data;
  const content: AssistantBlock[] = [];
  for (const block of reply.output.message.content) {
    if (block.text !== undefined) content.push({ type: 'text', text: block.text });
    else if (block.toolUse) {
      const { toolUseId, name, input } = block.toolUse;
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new ModelProviderError(
          `${spec} called tool ${name} with input that is not a JSON object: ${JSON.stringify(input)}`,
          { spec, kind: 'malformed_reply', retryable: false },
        );
      }
      content.push({ type: 'toolUse', id: toolUseId, name, input: input as Record<string, unknown> });
    }
    // Reasoning and citation blocks carry nothing the agent loop acts on; they are dropped.
  }
  const stopReason = STOP_REASONS[reply.stopReason] ?? 'other';
  if (stopReason === 'other') logger.warn('Unrecognised Bedrock stop reason', { spec, stopReason: reply.stopReason });
  return {
    content,
    stopReason,
    usage: {
      inputTokens: reply.usage.inputTokens,
      outputTokens: reply.usage.outputTokens,
      cacheReadTokens: reply.usage.cacheReadInputTokens ?? 0,
      cacheWriteTokens: reply.usage.cacheWriteInputTokens ?? 0,
    },
  };
}

const ERROR_KINDS: Record<string, { kind: ModelErrorKind; retryable: boolean }> = {
  ThrottlingException: { kind: 'throttled', retryable: true },
  TooManyRequestsException: { kind: 'throttled', retryable: true },
  ServiceUnavailableException: { kind: 'unavailable', retryable: true },
  InternalServerException: { kind: 'unavailable', retryable: true },
  ModelNotReadyException: { kind: 'unavailable', retryable: true },
  ModelErrorException: { kind: 'unavailable', retryable: true },
  ModelTimeoutException: { kind: 'timeout', retryable: true },
  ValidationException: { kind: 'invalid_request', retryable: false },
  AccessDeniedException: { kind: 'access_denied', retryable: false },
  UnrecognizedClientException: { kind: 'access_denied', retryable: false },
  ExpiredTokenException: { kind: 'access_denied', retryable: false },
  ResourceNotFoundException: { kind: 'not_found', retryable: false },
  // A daily token quota will not lift within a backoff window; the next model may have room.
  ServiceQuotaExceededException: { kind: 'quota_exceeded', retryable: false },
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; body?: unknown };
}

/** The socket error code of `error` or of an error that caused it (the HTTP/2 handler wraps them). */
function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

interface BedrockAdvice {
  /** What happened, in the user's words. */
  what: string;
  /** What to do about it. */
  todo: string;
  /** For failures the SDK raises before any answer from Bedrock (no AWS error name to sort by). */
  kind?: ModelErrorKind;
}

/**
 * What a Bedrock failure means for the person running Cahoots and what they can do, by the AWS
 * error name (and, where one name covers several causes, its message). Undefined for failures that
 * are retried and rarely reach a person, or that the AWS message already explains.
 */
export function bedrockAdvice(spec: string, name: string, message: string): BedrockAdvice | undefined {
  const model = spec.replace(/^bedrock:/, '');
  if (name === 'AccessDeniedException') {
    return {
      what: `Bedrock refused access to ${model}`,
      todo:
        'Enable access to this model in the Bedrock console (Model access) for this region, and make sure the AWS identity ' +
        'in use may call bedrock:InvokeModel on it (the AWS message names what is missing), or choose another model',
    };
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidSignatureException') {
    return { what: 'AWS did not accept the credentials in use', todo: 'Check AWS_PROFILE or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY pair, or sign in again' };
  }
  if (name === 'ExpiredTokenException' || /expired/i.test(message) && /token|credential/i.test(message)) {
    return { what: 'the AWS credentials in use have expired', todo: 'Sign in again (for example `aws sso login`) or refresh the session credentials, then rerun' };
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return { what: 'no AWS credentials were found', todo: 'Set AWS_PROFILE, sign in with `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' };
  }
  if (/region is missing/i.test(message)) {
    return { what: 'no AWS region is set', todo: 'Set AWS_REGION to a region where the model is available (for example us-east-1)', kind: 'invalid_request' };
  }
  if (name === 'ResourceNotFoundException' || (name === 'ValidationException' && /model identifier is invalid/i.test(message))) {
    return {
      what: `Bedrock does not know the model ${model} in this region`,
      todo: 'Check the model id (`aws bedrock list-foundation-models`) and AWS_REGION, or use an inference profile id such as us.<model id>',
    };
  }
  if (name === 'ValidationException' && /on-demand throughput/i.test(message)) {
    return { what: `${model} cannot be called by its model id on demand`, todo: `Use its inference profile instead, e.g. --model bedrock:us.${model}` };
  }
  if (name === 'ServiceQuotaExceededException') {
    return { what: `the Bedrock token quota for ${model} is used up`, todo: 'Wait for the quota to reset, request an increase in Service Quotas, or add a fallback model' };
  }
  if (name === 'ThrottlingException' || name === 'TooManyRequestsException') {
    return { what: `Bedrock is throttling requests to ${model}`, todo: 'Lower --parallel, add a fallback model, or request a higher quota in Service Quotas' };
  }
  return undefined;
}

// Text the SDK appends for developers, not for the person reading the failure.
const SDK_BOILERPLATE = /\s*Deserialization error: to see the raw response, inspect the hidden field \{error\}\.\$response on this object\.?/gi;

/** The AWS message without SDK boilerplate, on one line and of a readable length. */
function awsMessage(message: string): string {
  const text = message.replace(SDK_BOILERPLATE, '').replace(/\s+/g, ' ').trim();
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

export function toProviderError(spec: string, error: unknown): ModelProviderError {
  if (error instanceof ModelProviderError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const message = awsMessage(e.message ?? String(error));
  const advice = bedrockAdvice(spec, name, message);
  if (advice) {
    const known = ERROR_KINDS[name] ?? { kind: advice.kind ?? 'access_denied', retryable: false };
    return new ModelProviderError(`${spec}: ${advice.what} (${name}: ${message}). ${advice.todo}.`, {
      spec,
      ...known,
      status: e.$metadata?.httpStatusCode ?? e.$response?.statusCode,
      providerCode: name,
      cause: error,
    });
  }
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const known = ERROR_KINDS[name];
  if (known) {
    return new ModelProviderError(`${spec}: ${name}: ${message}`, { spec, ...known, status, providerCode: name, cause: error });
  }
  // A 5xx is transient whatever its body says, even an HTML page from a proxy the SDK cannot read.
  if (status !== undefined && status >= 500) {
    return new ModelProviderError(`${spec}: ${name} (HTTP ${status}): ${message}`, {
      spec,
      kind: 'unavailable',
      retryable: true,
      status,
      providerCode: name,
      cause: error,
    });
  }
  if (status === 429) {
    return new ModelProviderError(`${spec}: ${name} (HTTP 429): ${message}`, {
      spec,
      kind: 'throttled',
      retryable: true,
      status,
      providerCode: name,
      cause: error,
    });
  }
  // The SDK could not read a successful reply (not JSON): its message quotes what it choked on.
  // Usually the body was cut off on the way, so it is transient, like a 5xx.
  if (name === 'SyntaxError' || /deserializ/i.test(message)) {
    return new ModelProviderError(`${spec} sent a reply that could not be read (cut off?): ${message}`, {
      spec,
      kind: 'malformed_reply',
      retryable: true,
      status,
      cause: error,
    });
  }
  const networkCode = networkErrorCode(error);
  if (name === 'TimeoutError' || networkCode !== undefined) {
    return new ModelProviderError(
      `${spec}: Bedrock could not be reached (${networkCode ?? name}: ${message}). ` +
        'Check the network connection and AWS_REGION (and AWS_ENDPOINT_URL_BEDROCK_RUNTIME, if set).',
      {
        spec,
        kind: name === 'TimeoutError' ? 'timeout' : 'unavailable',
        retryable: true,
        providerCode: networkCode ?? name,
        cause: error,
      },
    );
  }
  return new ModelProviderError(`${spec}: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}`, {
    spec,
    kind: status !== undefined && status < 500 ? 'invalid_request' : 'unknown',
    retryable: e.$fault === 'server',
    status,
    providerCode: name,
    cause: error,
  });
}
