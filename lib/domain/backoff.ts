// Waiting between retries, in one place: exponential backoff with full jitter (a delay drawn
// uniformly below the exponential ceiling), so many callers that failed together spread their
// retries over the whole window instead of colliding again in lockstep.
import { setTimeout as wait } from 'node:timers/promises';

export interface BackoffPolicy {
  /** The ceiling before the first retry; it doubles with every further retry. */
  baseDelayMs: number;
  /** The ceiling never grows past this. */
  maxDelayMs: number;
}

/** The delay before retry number `retry` (1 for the first): uniform in [0, min(max, base·2^(retry-1))). */
export function fullJitterDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`; rejects with an AbortError if the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, undefined, signal ? { signal } : undefined);
}
