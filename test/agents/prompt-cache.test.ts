// Prompt caching through the whole agent loop: a scripted 20-turn developer task through the real
// loop, gateway and Bedrock provider, against the fake Converse server that bills tokens as
// Bedrock's prompt cache does. Token counts only; no clocks.
import { beforeAll, describe, expect, it } from 'vitest';
import { ELIDED_RESULT } from '../../lib/agents/index';
import { MAX_CACHE_POINTS } from '../../lib/models/index';
import { runDeveloperLoop, type DeveloperLoopResult } from '../support/developer-loop';
import type { RecordedBedrockRequest } from '../support/fake-bedrock';

/** Each message of a recorded request as bytes, cache points left out, after the tools and system prompt. */
function contentOf(request: RecordedBedrockRequest): string[] {
  const body = request.body as { toolConfig?: unknown; system: { text?: string }[]; messages: { role: string; content: Record<string, unknown>[] }[] };
  const head = JSON.stringify({ tools: body.toolConfig, system: body.system.filter((b) => b.text !== undefined) });
  return [head, ...body.messages.map((m) => JSON.stringify({ role: m.role, content: m.content.filter((b) => !('cachePoint' in b)) }))];
}

/** Indexes i where request i+1 does not start with everything request i sent. */
function prefixBreaks(requests: RecordedBedrockRequest[]): number[] {
  const breaks: number[] = [];
  for (let i = 0; i + 1 < requests.length; i++) {
    const before = contentOf(requests[i]!);
    const after = contentOf(requests[i + 1]!);
    if (JSON.stringify(after.slice(0, before.length)) !== JSON.stringify(before)) breaks.push(i);
  }
  return breaks;
}

describe('prompt caching on a 20-turn developer task', () => {
  let rolling: DeveloperLoopResult;
  let prefixOnly: DeveloperLoopResult;

  beforeAll(async () => {
    rolling = await runDeveloperLoop({ cachePolicy: 'rolling' });
    prefixOnly = await runDeveloperLoop({ cachePolicy: 'prefix-only' });
  });

  it('ran the whole script with every tool call succeeding', () => {
    expect(rolling.calls).toHaveLength(20);
    expect(prefixOnly.calls).toHaveLength(20);
    expect(rolling.requests.every((r) => r.operation === 'converse')).toBe(true);
    expect(rolling.requests.at(-1)!.rawBody).not.toContain('"status":"error"');
  });

  it('never sends more than four cache points, nor one on a segment below the minimum', () => {
    for (const account of rolling.accounts) {
      expect(account.cachePoints).toBeLessThanOrEqual(MAX_CACHE_POINTS);
      expect(account.belowMinimum).toBe(0);
    }
    // The conversation did get points of its own (system and context alone are two).
    expect(Math.max(...rolling.accounts.map((a) => a.cachePoints))).toBe(MAX_CACHE_POINTS);
  });

  it('reads at least 85% of input tokens from the cache, and costs at least 2.5× less than caching the prefix only', () => {
    expect(rolling.readShare).toBeGreaterThanOrEqual(0.85);
    expect(prefixOnly.readShare).toBeLessThan(0.6);
    // The fake counted what the provider reported: the usage came through the SDK and gateway intact.
    expect(rolling.cacheReadTokens).toBe(rolling.accounts.reduce((n, a) => n + a.cacheReadInputTokens, 0));
    expect(prefixOnly.costUsd / rolling.costUsd).toBeGreaterThanOrEqual(2.5);
  });

  it('sends each turn\'s request as the previous one plus the new exchange', () => {
    expect(prefixBreaks(rolling.requests)).toEqual([]);
  });
});

describe('prompt caching with a model that caches only segments of 4,096 tokens or more', () => {
  it('places no point below that minimum and still reads most input from the cache', async () => {
    const haiku = await runDeveloperLoop({ cachePolicy: 'rolling', modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', minCacheTokens: 4_096 });
    for (const account of haiku.accounts) {
      expect(account.cachePoints).toBeLessThanOrEqual(MAX_CACHE_POINTS);
      expect(account.belowMinimum).toBe(0);
    }
    expect(haiku.readShare).toBeGreaterThanOrEqual(0.75);
  });
});

describe('prompt caching when old tool results are elided', () => {
  it('rewrites early messages only at the elision steps, which are few and far apart', async () => {
    // 40 turns outgrow a 40,000-token window after about 19.
    const run = await runDeveloperLoop({ cachePolicy: 'rolling', turns: 40, maxContextTokens: 40_000 });
    expect(run.calls).toHaveLength(40);
    const elided = run.requests.map((r) => r.rawBody.split(ELIDED_RESULT).length - 1);
    // An elision step is a request that elides more than the one before it.
    const steps = elided.flatMap((count, i) => (i > 0 && count > elided[i - 1]! ? [i - 1] : []));
    expect(steps.length).toBeGreaterThanOrEqual(1);
    // Eliding one old result whenever the window overflows would rewrite the prefix every turn or two.
    for (let i = 1; i < steps.length; i++) expect(steps[i]! - steps[i - 1]!).toBeGreaterThanOrEqual(6);
    expect(prefixBreaks(run.requests)).toEqual(steps);
    for (const account of run.accounts) expect(account.belowMinimum).toBe(0);
    expect(run.readShare).toBeGreaterThanOrEqual(0.85);
  });
});
