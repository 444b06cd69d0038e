// Cache point placement (Bedrock's rules), the fake's Bedrock cache billing that the loop tests
// and the bench rely on, and the stable request prefix both providers send.
import { describe, expect, it } from 'vitest';
import { chooseCachePoints, MAX_CACHE_POINTS, type CacheCandidate, minCacheTokens, parseModelSpec, type ConverseRequest, type Message, type OpenAIModelSpec, type ToolSpec } from '../../lib/models/index';
import { toConverseInput } from '../../lib/models/providers/bedrock';
import { toChatCompletionsBody } from '../../lib/models/providers/openai';
import { BedrockPromptCache, PromptCacheRuleError } from '../support/bedrock-prompt-cache';

/** Deterministic pseudo-random sizes (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('minCacheTokens', () => {
  it('knows the minimum cached segment of each model family', () => {
    expect(minCacheTokens('global.anthropic.claude-sonnet-4-5-20250929-v1:0')).toBe(1_024);
    expect(minCacheTokens('anthropic.claude-3-7-sonnet-20250219-v1:0')).toBe(1_024);
    expect(minCacheTokens('us.anthropic.claude-opus-4-1-20250805-v1:0')).toBe(1_024);
    expect(minCacheTokens('us.anthropic.claude-opus-4-5-20251101-v1:0')).toBe(4_096);
    expect(minCacheTokens('us.anthropic.claude-haiku-4-5-20251001-v1:0')).toBe(4_096);
    expect(minCacheTokens('anthropic.claude-3-5-haiku-20241022-v1:0')).toBe(2_048);
    expect(minCacheTokens('us.amazon.nova-pro-v1:0')).toBe(1_024);
    // An application inference profile says nothing about its model: the largest known minimum.
    expect(minCacheTokens('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123')).toBe(4_096);
  });
});

describe('chooseCachePoints', () => {
  const min = 1_024;

  it('over a long growing conversation: at most four points, none on a short segment, and last turn\'s newest point kept', () => {
    const next = random(7);
    const candidates: CacheCandidate[] = [
      { kind: 'fixed', tokens: 3_000 },
      { kind: 'fixed', tokens: 5_000 },
    ];
    let previous: boolean[] = [];
    for (let turn = 0; turn < 200; turn++) {
      candidates.push({ kind: 'rolling', tokens: Math.floor(next() * 2_500) });
      const chosen = chooseCachePoints(candidates, min);
      expect(chosen.filter(Boolean).length).toBeLessThanOrEqual(MAX_CACHE_POINTS);
      let since = 0;
      chosen.forEach((isPoint, i) => {
        since += candidates[i]!.tokens;
        if (!isPoint) return;
        expect(since).toBeGreaterThanOrEqual(min);
        since = 0;
      });
      // The newest point of the previous request is still a point: that is where this one reads.
      const lastBefore = previous.lastIndexOf(true);
      if (lastBefore >= 0) expect(chosen[lastBefore]).toBe(true);
      previous = chosen;
    }
  });

  it('keeps the fixed points and the two newest rolling anchors', () => {
    const chosen = chooseCachePoints(
      [
        { kind: 'fixed', tokens: 2_000 },
        { kind: 'fixed', tokens: 2_000 },
        { kind: 'rolling', tokens: 1_500 },
        { kind: 'rolling', tokens: 1_500 },
        { kind: 'rolling', tokens: 500 },
        { kind: 'rolling', tokens: 600 },
        { kind: 'rolling', tokens: 100 },
      ],
      min,
    );
    expect(chosen).toEqual([true, true, false, true, false, true, false]);
  });

  it('gives a skipped fixed point\'s room to the conversation', () => {
    const chosen = chooseCachePoints(
      [
        { kind: 'fixed', tokens: 300 },
        { kind: 'fixed', tokens: 3_000 },
        { kind: 'rolling', tokens: 1_100 },
        { kind: 'rolling', tokens: 1_100 },
        { kind: 'rolling', tokens: 1_100 },
      ],
      min,
    );
    expect(chosen).toEqual([false, true, true, true, true]);
  });
});

describe('the fake\'s Bedrock cache billing', () => {
  const long = (label: string) => `${label} ${'lorem ipsum dolor sit amet '.repeat(200)}`;
  const body = (...blocks: unknown[]) => ({ system: [{ text: long('system') }, { cachePoint: { type: 'default' } }], messages: [{ role: 'user', content: blocks }] });

  it('writes a prefix once, reads it within the TTL, writes it again after', () => {
    let now = 0;
    const cache = new BedrockPromptCache({ now: () => now });
    const first = cache.account('m', body({ text: 'question one' }));
    expect(first.cacheReadInputTokens).toBe(0);
    expect(first.cacheWriteInputTokens).toBeGreaterThan(1_024);
    now += 4 * 60_000;
    const second = cache.account('m', body({ text: 'question two' }));
    expect(second.cacheReadInputTokens).toBe(first.cacheWriteInputTokens);
    expect(second.cacheWriteInputTokens).toBe(0);
    // The read refreshed the entry: four more minutes is still within five of the last use.
    now += 4 * 60_000;
    expect(cache.account('m', body({ text: 'question three' })).cacheReadInputTokens).toBe(first.cacheWriteInputTokens);
    now += 6 * 60_000;
    const expired = cache.account('m', body({ text: 'question four' }));
    expect(expired.cacheReadInputTokens).toBe(0);
    expect(expired.cacheWriteInputTokens).toBe(first.cacheWriteInputTokens);
    // Another model has its own cache.
    expect(cache.account('other', body({ text: 'question five' })).cacheReadInputTokens).toBe(0);
  });

  it('reads the longest prefix written before and writes up to the last point', () => {
    const cache = new BedrockPromptCache({ now: () => 0 });
    const one = cache.account('m', body({ text: long('turn 1') }, { cachePoint: { type: 'default' } }));
    const two = cache.account('m', body({ text: long('turn 1') }, { cachePoint: { type: 'default' } }, { text: long('turn 2') }, { cachePoint: { type: 'default' } }, { text: 'tail' }));
    expect(two.cacheReadInputTokens).toBe(one.cacheReadInputTokens + one.cacheWriteInputTokens);
    expect(two.cacheWriteInputTokens).toBeGreaterThan(1_024);
    expect(two.inputTokens).toBeLessThan(10);
  });

  it('ignores (and counts) a point on a short segment and refuses a fifth point', () => {
    const cache = new BedrockPromptCache({ now: () => 0 });
    const account = cache.account('m', body({ text: 'short' }, { cachePoint: { type: 'default' } }));
    expect(account.belowMinimum).toBe(1);
    const point = { cachePoint: { type: 'default' } };
    expect(() => cache.account('m', body({ text: long('a') }, point, { text: long('b') }, point, { text: long('c') }, point, { text: long('d') }, point))).toThrow(
      PromptCacheRuleError,
    );
  });
});

describe('a stable prefix from both providers', () => {
  const toolA: ToolSpec = { name: 'read_file', description: 'Read a file', inputSchema: { type: 'object', required: ['path'], properties: { path: { type: 'string' } } } };
  const toolB: ToolSpec = { name: 'read_file', description: 'Read a file', inputSchema: { properties: { path: { type: 'string' } }, type: 'object', required: ['path'] } };

  function conversation(turns: number): Message[] {
    const messages: Message[] = [{ role: 'user', content: [{ type: 'text', text: long('context') }, { type: 'cachePoint' }, { type: 'text', text: 'The task.' }] }];
    for (let turn = 1; turn <= turns; turn++) {
      messages.push({ role: 'assistant', content: [{ type: 'text', text: `turn ${turn}` }, { type: 'toolUse', id: `t${turn}`, name: 'read_file', input: { path: `f${turn}.ts` } }] });
      messages.push({ role: 'user', content: [{ type: 'toolResult', toolUseId: `t${turn}`, content: long(`file ${turn}`) }] });
    }
    return messages;
  }
  const long = (label: string) => `${label}: ${'export const value = compute(input);\n'.repeat(150)}`;
  const request = (messages: Message[], tools: ToolSpec[]): ConverseRequest => ({ system: long('system'), cacheSystem: true, cacheConversation: true, messages, tools, maxTokens: 100 });

  it('Bedrock: tool schemas in canonical key order, and turn N\'s content a prefix of turn N+1\'s', () => {
    const model = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    expect(JSON.stringify(toConverseInput(model, request(conversation(1), [toolA]), true).toolConfig)).toBe(
      JSON.stringify(toConverseInput(model, request(conversation(1), [toolB]), true).toolConfig),
    );
    const withoutPoints = (n: number) => {
      const input = toConverseInput(model, request(conversation(n), [toolA]), true);
      const points = JSON.stringify(input).split('"cachePoint"').length - 1;
      expect(points).toBeLessThanOrEqual(MAX_CACHE_POINTS);
      return input.messages!.map((m) => JSON.stringify({ role: m.role, content: m.content!.filter((b) => !('cachePoint' in b && b.cachePoint)) }));
    };
    for (let n = 1; n < 12; n++) expect(withoutPoints(n + 1).slice(0, 2 * n + 1)).toEqual(withoutPoints(n));
  });

  it('OpenAI-compatible: the same bytes for everything already sent', () => {
    const spec = parseModelSpec('openai:qwen2.5-coder@http://127.0.0.1:11434/v1') as OpenAIModelSpec;
    const body = (n: number, tools: ToolSpec[]) => toChatCompletionsBody(spec, request(conversation(n), tools));
    expect(JSON.stringify(body(1, [toolA]).tools)).toBe(JSON.stringify(body(1, [toolB]).tools));
    for (let n = 1; n < 12; n++) {
      const before = (body(n, [toolA]).messages as unknown[]).map((m) => JSON.stringify(m));
      const after = (body(n + 1, [toolA]).messages as unknown[]).map((m) => JSON.stringify(m));
      expect(after.slice(0, before.length)).toEqual(before);
    }
  });
});
