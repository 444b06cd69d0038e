// Bedrock's prompt-cache billing, for the fake Converse server: reads the cache points of a
// Converse request body and accounts its input tokens the way Bedrock does. The request is read
// in Bedrock's order (tool definitions, system, messages); the prefix up to each cache point is
// keyed by its bytes. The longest prefix up to a point that an earlier request wrote within the
// TTL is a cache read; from there up to the last point is a cache write; the rest is plain input.
// More than four points is a ValidationException; a point closing a segment shorter than the
// model's minimum caches nothing (Bedrock ignores it), and is counted so tests can catch it.
import { createHash } from 'node:crypto';

export const BEDROCK_MAX_CACHE_POINTS = 4;
const TTL_MS: Record<string, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 };

export interface PromptCacheAccountingOptions {
  /** Minimum tokens of a cached segment, for a model id. Default 1,024 (Claude Sonnet, Nova). */
  minTokens?: (modelId: string) => number;
  /** Milliseconds; a simulated clock keeps a bench or test independent of real time. */
  now?: () => number;
}

export interface CacheAccount {
  modelId: string;
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  /** Cache points in the request. */
  cachePoints: number;
  /** Points that closed a segment below the minimum (they cached nothing). */
  belowMinimum: number;
  /** Tokens of the whole prompt, as the fake counts them. */
  totalTokens: number;
}

export class PromptCacheRuleError extends Error {
  override readonly name = 'PromptCacheRuleError';
}

/** The fake's tokenizer: one token per 4 bytes of the block's JSON, at least 1 per block. */
export function fakeTokens(json: string): number {
  return Math.max(1, Math.ceil(Buffer.byteLength(json, 'utf8') / 4));
}

interface Point {
  key: string;
  /** Tokens of the prompt up to this point. */
  upTo: number;
  ttlMs: number;
}

export class BedrockPromptCache {
  /** Every request accounted, in arrival order. */
  readonly accounts: CacheAccount[] = [];
  private readonly entries = new Map<string, number>();
  private readonly minTokens: (modelId: string) => number;
  private readonly now: () => number;

  constructor(options: PromptCacheAccountingOptions = {}) {
    this.minTokens = options.minTokens ?? (() => 1_024);
    this.now = options.now ?? Date.now;
  }

  /** Accounts one Converse request body; throws PromptCacheRuleError where Bedrock would refuse it. */
  account(modelId: string, body: unknown): CacheAccount {
    const { points, totalTokens } = readPoints(modelId, body);
    if (points.length > BEDROCK_MAX_CACHE_POINTS) {
      throw new PromptCacheRuleError(`The request has ${points.length} cache points; at most ${BEDROCK_MAX_CACHE_POINTS} are allowed.`);
    }
    const min = this.minTokens(modelId);
    const effective: Point[] = [];
    let belowMinimum = 0;
    let previous = 0;
    for (const point of points) {
      if (point.upTo - previous < min) {
        belowMinimum++;
        continue;
      }
      effective.push(point);
      previous = point.upTo;
    }
    const now = this.now();
    let hit = -1;
    effective.forEach((point, i) => {
      if ((this.entries.get(point.key) ?? -1) > now) hit = i;
    });
    const read = hit >= 0 ? effective[hit]!.upTo : 0;
    // A hit refreshes the entries it read; everything after it is written now.
    effective.forEach((point) => {
      const expires = this.entries.get(point.key);
      if (point.upTo <= read && expires !== undefined && expires > now) this.entries.set(point.key, now + point.ttlMs);
      if (point.upTo > read) this.entries.set(point.key, now + point.ttlMs);
    });
    const last = effective.at(-1)?.upTo ?? 0;
    const write = Math.max(0, last - read);
    const account: CacheAccount = {
      modelId,
      inputTokens: totalTokens - read - write,
      cacheReadInputTokens: read,
      cacheWriteInputTokens: write,
      cachePoints: points.length,
      belowMinimum,
      totalTokens,
    };
    this.accounts.push(account);
    return account;
  }

  /** Sums over every request accounted so far. */
  totals(): { input: number; cacheRead: number; cacheWrite: number; readShare: number } {
    const input = this.accounts.reduce((n, a) => n + a.inputTokens, 0);
    const cacheRead = this.accounts.reduce((n, a) => n + a.cacheReadInputTokens, 0);
    const cacheWrite = this.accounts.reduce((n, a) => n + a.cacheWriteInputTokens, 0);
    const all = input + cacheRead + cacheWrite;
    return { input, cacheRead, cacheWrite, readShare: all === 0 ? 0 : cacheRead / all };
  }
}

type Json = Record<string, unknown>;

function readPoints(modelId: string, body: unknown): { points: Point[]; totalTokens: number } {
  if (typeof body !== 'object' || body === null) throw new PromptCacheRuleError('The request body is not a JSON object.');
  const request = body as Json;
  const hash = createHash('sha256').update(modelId);
  const points: Point[] = [];
  let tokens = 0;
  const visit = (where: string, block: unknown) => {
    const cachePoint = (block as Json | null)?.cachePoint as Json | undefined;
    if (cachePoint) {
      const ttl = typeof cachePoint.ttl === 'string' ? cachePoint.ttl : '5m';
      const ttlMs = TTL_MS[ttl];
      if (ttlMs === undefined) throw new PromptCacheRuleError(`Cache point ttl ${ttl} is not one of 5m, 1h.`);
      points.push({ key: hash.copy().digest('hex'), upTo: tokens, ttlMs });
      return;
    }
    const json = JSON.stringify(block);
    hash.update(`${where}\u0000${json}\u0000`);
    tokens += fakeTokens(json);
  };
  const toolConfig = request.toolConfig as Json | undefined;
  for (const tool of (toolConfig?.tools as unknown[] | undefined) ?? []) visit('tool', tool);
  for (const block of (request.system as unknown[] | undefined) ?? []) visit('system', block);
  for (const message of (request.messages as Json[] | undefined) ?? []) {
    for (const block of (message.content as unknown[] | undefined) ?? []) visit(String(message.role), block);
  }
  return { points, totalTokens: tokens };
}
