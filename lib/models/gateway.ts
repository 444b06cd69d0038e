// The model gateway: one `converse` call over a role's ordered model list, retrying transient
// failures with exponential backoff and full jitter, falling back to the next model, and
// recording tokens, latency and cost of every call that succeeds.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { fullJitterDelay, sleep as abortableSleep } from '../domain/backoff';
import { logger, metrics } from '../powertools';
import {
  ModelCallAbortedError,
  ModelProviderError,
  ModelUnavailableError,
  type ModelErrorKind,
  type ModelFailure,
} from './errors';
import { PriceBook, type PriceOverrides } from './pricing';
import { createProvider, type ProviderOptions } from './providers/index';
import { parseModelSpec, type ParsedModelSpec } from './spec';
import type { ConverseRequest, ModelCallRecord, ModelCallResult, ModelProvider, RequestTags } from './types';

export interface RetryPolicy {
  /** Attempts per model, the first included. */
  maxAttempts: number;
  /** Backoff before retry n is random(0, min(maxDelayMs, baseDelayMs × 2^(n-1))). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 20_000 });

/** Long enough for a full 8k-token answer from a slow model, short enough to retry inside a Lambda. */
export const DEFAULT_TIMEOUT_MS = 300_000;

export interface ModelFallbackData {
  from: string;
  to: string;
  reason: string;
  kind: ModelErrorKind;
  attempts: number;
  tags: RequestTags;
}

export interface ModelRetryingData {
  spec: string;
  attempt: number;
  delayMs: number;
  reason: string;
  kind: ModelErrorKind;
  tags: RequestTags;
}

export type ModelGatewayEvent =
  | { type: 'Model.Called'; at: string; data: ModelCallRecord }
  | { type: 'Model.Fallback'; at: string; data: ModelFallbackData }
  | { type: 'Model.Retrying'; at: string; data: ModelRetryingData };

export interface ModelGatewayOptions {
  /** The role's models, cheapest first; each a model spec. */
  policy: readonly string[];
  /** Price overrides merged over the defaults (zod-validated), or a ready PriceBook. */
  prices?: PriceOverrides | PriceBook;
  /** Price charged for models with no known price. */
  defaultPrice?: unknown;
  retry?: Partial<RetryPolicy>;
  /** Per attempt. */
  timeoutMs?: number;
  /**
   * Receives every event. It is awaited and its errors propagate: a usage record that could
   * not be stored must not pass silently, since budgets depend on it.
   */
  onEvent?: (event: ModelGatewayEvent) => void | Promise<void>;
  providers?: ProviderOptions;
  /** Replaces provider construction (tests, custom providers). */
  createProvider?: (parsed: ParsedModelSpec) => ModelProvider;
  /** Injected so tests need not wait; must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injected for deterministic jitter; returns [0, 1). */
  random?: () => number;
  /** Monotonic milliseconds, for latency. */
  now?: () => number;
}

export interface ConverseOptions {
  /** Start at this position of the policy (escalation after a failed attempt); clamped to the last. */
  startTier?: number;
}

export interface ModelGateway {
  readonly policy: readonly string[];
  readonly prices: PriceBook;
  converse(request: ConverseRequest, options?: ConverseOptions): Promise<ModelCallResult>;
}


export function createModelGateway(options: ModelGatewayOptions): ModelGateway {
  if (options.policy.length === 0) throw new RangeError('a model policy needs at least one model spec');
  // Parse every spec now so a typo fails at start-up, not at the first fallback.
  const parsed = options.policy.map((spec) => parseModelSpec(spec));
  const providers = new Map<number, ModelProvider>();
  const providerAt = (tier: number): ModelProvider => {
    let provider = providers.get(tier);
    if (!provider) {
      const spec = parsed[tier]!;
      provider = options.createProvider ? options.createProvider(spec) : createProvider(spec, options.providers);
      providers.set(tier, provider);
    }
    return provider;
  };
  const prices =
    options.prices instanceof PriceBook
      ? options.prices
      : new PriceBook({ overrides: options.prices, defaultPrice: options.defaultPrice });
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  if (!(retry.maxAttempts >= 1)) throw new RangeError('retry.maxAttempts must be at least 1');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => performance.now());
  const emit = async (event: ModelGatewayEvent) => {
    if (options.onEvent) await options.onEvent(event);
  };

  /** Full jitter spreads retries of many agents hitting the same throttle; a Retry-After is honoured up to the cap. */
  const backoff = (attempt: number, retryAfterMs: number | undefined) => {
    const jittered = fullJitterDelay(attempt, retry, random);
    return retryAfterMs === undefined ? jittered : Math.min(retry.maxDelayMs, Math.max(jittered, retryAfterMs));
  };

  async function converse(request: ConverseRequest, callOptions: ConverseOptions = {}): Promise<ModelCallResult> {
    const start = callOptions.startTier ?? 0;
    if (!Number.isInteger(start) || start < 0) throw new RangeError(`startTier must be a non-negative integer, got ${start}`);
    const first = Math.min(start, parsed.length - 1);
    const tags = request.tags ?? {};
    const failures: ModelFailure[] = [];
    let totalAttempts = 0;

    for (let tier = first; tier < parsed.length; tier++) {
      const spec = parsed[tier]!.spec;
      const provider = providerAt(tier);
      let lastError: ModelProviderError | undefined;
      let attempt = 0;
      while (attempt < retry.maxAttempts) {
        attempt++;
        totalAttempts++;
        if (request.signal?.aborted) throw new ModelCallAbortedError(spec, { cause: request.signal.reason });
        const startedAt = now();
        let reply;
        try {
          reply = await provider.converse(request, { timeoutMs });
        } catch (error) {
          if (error instanceof ModelCallAbortedError) throw error;
          if (request.signal?.aborted) throw new ModelCallAbortedError(spec, { cause: error });
          // Anything else is a bug in a provider, not a model failure; it must surface as itself.
          if (!(error instanceof ModelProviderError)) throw error;
          lastError = error;
          if (error.kind === 'throttled') metrics.addMetric('ModelThrottled', MetricUnit.Count, 1);
          if (!error.retryable || attempt >= retry.maxAttempts) break;
          const delayMs = backoff(attempt, error.retryAfterMs);
          logger.info('Retrying model call', { spec, attempt, delayMs, kind: error.kind, error: error.message });
          await emit({
            type: 'Model.Retrying',
            at: new Date().toISOString(),
            data: { spec, attempt, delayMs, reason: error.message, kind: error.kind, tags },
          });
          try {
            await sleep(delayMs, request.signal);
          } catch (sleepError) {
            if (request.signal?.aborted) throw new ModelCallAbortedError(spec, { cause: sleepError });
            throw sleepError;
          }
          continue;
        }
        const latencyMs = Math.max(0, Math.round(now() - startedAt));
        const { costUsd, priceKnown } = prices.cost(spec, reply.usage);
        const record: ModelCallRecord = {
          spec,
          provider: parsed[tier]!.provider,
          tier,
          attempts: totalAttempts,
          stopReason: reply.stopReason,
          ...reply.usage,
          latencyMs,
          costUsd,
          priceKnown,
          tags,
        };
        await emit({ type: 'Model.Called', at: new Date().toISOString(), data: record });
        return {
          content: reply.content,
          stopReason: reply.stopReason,
          usage: reply.usage,
          latencyMs,
          spec,
          costUsd,
          priceKnown,
          record,
        };
      }

      const error = lastError!;
      failures.push({ spec, attempts: attempt, error });
      const next = parsed[tier + 1];
      if (next) {
        logger.warn('Falling back to the next model', { from: spec, to: next.spec, kind: error.kind, error: error.message });
        metrics.addMetric('ModelFallback', MetricUnit.Count, 1);
        await emit({
          type: 'Model.Fallback',
          at: new Date().toISOString(),
          data: { from: spec, to: next.spec, reason: error.message, kind: error.kind, attempts: attempt, tags },
        });
      }
    }
    throw new ModelUnavailableError(failures);
  }

  return { policy: parsed.map((p) => p.spec), prices, converse };
}

/**
 * A policy from a comma-separated list of specs, e.g. the CAHOOTS_MODEL environment variable;
 * undefined when the text is empty or absent. Invalid specs throw InvalidModelSpecError.
 */
export function parseModelPolicy(text: string | undefined): string[] | undefined {
  const specs = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) return undefined;
  return specs.map((spec) => parseModelSpec(spec).spec);
}
