// Read-modify-write with optimistic concurrency: re-read and re-apply on a version conflict,
// with bounded attempts and full-jitter backoff so racing writers spread out instead of colliding
// in lockstep.
import { fullJitterDelay, sleep } from '../domain/backoff';
import { logger } from '../powertools';
import { ConcurrencyConflictError } from './errors';

export interface RetryOptions {
  /** Total tries including the first. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** For tests: a deterministic random source in [0, 1). */
  random?: () => number;
}

export const DEFAULT_RETRY: Required<Omit<RetryOptions, 'random'>> = { maxAttempts: 12, baseDelayMs: 20, maxDelayMs: 500 };

/** The wait after failed attempt `attempt` (1 for the first): full jitter, with the store's defaults. */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const policy = { baseDelayMs: options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs, maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs };
  return fullJitterDelay(attempt, policy, options.random);
}

/**
 * Loads the current value, lets `mutate` compute and write the change (a repository `update`,
 * which is conditional on the version it was given), and starts over from a fresh read when the
 * write loses a race. Only ConcurrencyConflictError is retried: anything else — including an
 * IllegalTransitionError discovered on the fresh read — is the answer.
 */
export async function updateWithRetry<T, R>(
  load: () => Promise<T>,
  mutate: (current: T, attempt: number) => Promise<R> | R,
  options: RetryOptions = {},
): Promise<R> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  for (let attempt = 1; ; attempt++) {
    const current = await load();
    try {
      return await mutate(current, attempt);
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError)) throw error;
      if (attempt >= maxAttempts) {
        logger.warn('optimistic update gave up', { entity: error.entity, id: error.id, attempts: attempt });
        throw error;
      }
      logger.debug('optimistic update conflict, retrying', { entity: error.entity, id: error.id, attempt });
      await sleep(backoffDelay(attempt, options));
    }
  }
}
