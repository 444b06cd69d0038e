// Where prompt cache points go in one request, under Bedrock's rules: at most four per request,
// and a point only closes a segment that is at least the model family's minimum token count
// (a point on a shorter segment caches nothing and wastes one of the four). Points are anchored
// so that the same conversation gets the same points turn after turn: a cache hit needs a point
// at exactly the place where an earlier request wrote one.

/** Bedrock accepts at most this many cache points in one request (tools, system and messages together). */
export const MAX_CACHE_POINTS = 4;

/** Rolling points kept on the conversation: the newest anchor, and the one before it (last turn's write, now read). */
const ROLLING_POINTS = 2;

interface CacheFamily {
  pattern: RegExp;
  minTokens: number;
}

// Minimum tokens per cache checkpoint, from Bedrock's prompt-caching table and Anthropic's (the
// more specific patterns first). Where sources disagree (Sonnet 4.6: 1,024 or 2,048) the larger
// figure is taken: a point placed a little late still caches, one placed too early does not.
const FAMILIES: readonly CacheFamily[] = [
  { pattern: /anthropic\.claude-(?:opus-4-[5-9]|haiku-4)/, minTokens: 4_096 },
  { pattern: /anthropic\.claude-(?:3-5-haiku|sonnet-4-[6-9])/, minTokens: 2_048 },
  { pattern: /anthropic\.claude-/, minTokens: 1_024 },
  { pattern: /amazon\.nova/, minTokens: 1_024 },
];

/** Models not matched (an application inference profile's opaque id) get the largest known minimum. */
export const UNKNOWN_MODEL_MIN_CACHE_TOKENS = 4_096;

/** The minimum token count of one cached segment for a Bedrock model id (or inference profile / ARN). */
export function minCacheTokens(modelId: string): number {
  const id = modelId.slice(modelId.lastIndexOf('/') + 1);
  return FAMILIES.find((family) => family.pattern.test(id))?.minTokens ?? UNKNOWN_MODEL_MIN_CACHE_TOKENS;
}

/**
 * A place where a cache point may go. `fixed` points are asked for by the request (after the
 * system prompt, an explicit cachePoint block); `rolling` ones are message ends of a conversation
 * that asked to be cached as it grows.
 */
export interface CacheCandidate {
  kind: 'fixed' | 'rolling';
  /** Tokens between the previous candidate (or the start of the request) and this one. */
  tokens: number;
}

/**
 * Which candidates become cache points. Anchors are found first, walking from the start: a
 * candidate is an anchor once the tokens since the previous anchor reach the minimum. Anchors
 * depend only on what precedes them, so an append-only conversation keeps its anchors. Then all
 * fixed anchors are kept (up to the limit, leaving room for two rolling ones when there are any)
 * and the newest rolling anchors fill the rest.
 */
export function chooseCachePoints(candidates: readonly CacheCandidate[], minTokens: number, maxPoints = MAX_CACHE_POINTS): boolean[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 0) throw new RangeError(`maxPoints must be a non-negative integer, got ${maxPoints}`);
  const fixed: number[] = [];
  const rolling: number[] = [];
  let since = 0;
  candidates.forEach((candidate, index) => {
    since += candidate.tokens;
    if (since < minTokens) return;
    (candidate.kind === 'fixed' ? fixed : rolling).push(index);
    since = 0;
  });
  const rollingWanted = Math.min(rolling.length, ROLLING_POINTS, maxPoints);
  const fixedKept = fixed.slice(0, maxPoints - rollingWanted);
  const rollingKept = rolling.slice(Math.max(0, rolling.length - (maxPoints - fixedKept.length)));
  const chosen = candidates.map(() => false);
  for (const index of [...fixedKept, ...rollingKept]) chosen[index] = true;
  return chosen;
}

/**
 * A lower bound of the tokens in `text` (4 bytes per token; code and prose run 3–4): placing a
 * point by a lower bound never puts it on a segment the model counts as too short.
 */
export function cacheTokensAtLeast(text: string): number {
  return Math.floor(Buffer.byteLength(text, 'utf8') / 4);
}
