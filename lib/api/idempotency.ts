// `Idempotency-Key` for creating calls: the first request with a key does the work and its
// response is stored; a repeat with the same request gets that stored response (same status and
// body), a repeat with a different request under the same key is refused with 409. The records
// are the store's (lib/store/idempotency.ts says why they are not Powertools').
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '../domain/canonical-json';
import { logger } from '../powertools';
import type { Store } from '../store/index';
import { InvalidIdempotencyKeyError } from './errors';
import type { ApiResult } from './http';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Header on a response that repeats a stored one rather than doing the work again. */
export const IDEMPOTENT_REPLAY_HEADER = 'Idempotent-Replayed';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function checkIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!KEY_PATTERN.test(value)) throw new InvalidIdempotencyKeyError();
  return value;
}

const StoredResultSchema = z.object({
  status: z.number().int(),
  body: z.unknown(),
  location: z.string().optional(),
});

/**
 * What makes two requests "the same": the operation, its path parameters and the body as JSON
 * values. Key order and whitespace do not count; a changed value does.
 */
export function requestFingerprint(operationId: string, params: unknown, body: unknown): string {
  return createHash('sha256').update(canonicalJson({ operationId, params, body })).digest('hex');
}

export interface IdempotentOutcome {
  result: ApiResult;
  replayed: boolean;
}

/**
 * Runs `work` at most once per (scope, key). Only a success is stored: after a failure the key is
 * given back, so the client's retry does the work again instead of replaying the failure.
 */
export async function runIdempotently(
  store: Store,
  request: { scope: string; key: string; fingerprint: string },
  work: () => Promise<ApiResult>,
): Promise<IdempotentOutcome> {
  const begun = await store.idempotency.begin(request.scope, request.key, request.fingerprint);
  if (begun.state === 'completed') {
    const stored = StoredResultSchema.safeParse(begun.response);
    if (stored.success) return { result: stored.data as ApiResult, replayed: true };
    // A record this code cannot read is not something to replay; treat the key as spent.
    throw new Error(`stored idempotent response for ${request.scope} is unreadable`);
  }
  let result: ApiResult;
  try {
    result = await work();
  } catch (error) {
    await store.idempotency.release(request.scope, request.key).catch((releaseError: unknown) => {
      logger.warn('could not release an idempotency key; it frees itself when its lock expires', { releaseError });
    });
    throw error;
  }
  try {
    await store.idempotency.complete(request.scope, request.key, { status: result.status, body: result.body, location: result.location });
  } catch (error) {
    // The work is done and this answer is right. A retry sees IdempotencyInProgress until the
    // claim's lock expires and would then do the work again, so this is worth an alarm.
    logger.error('could not store an idempotent response', { error, scope: request.scope });
  }
  return { result, replayed: false };
}
