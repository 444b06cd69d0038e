import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../lib/powertools';
import {
  DEFAULT_PRICES,
  DEFAULT_UNKNOWN_PRICE,
  InvalidPriceTableError,
  PriceBook,
  costOf,
  estimateTokens,
  estimateWorstCaseUsd,
  type ConverseRequest,
} from '../../lib/models/index';

afterEach(() => vi.restoreAllMocks());

const usage = { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 2000, cacheWriteTokens: 4000 };

describe('price lookup', () => {
  const book = new PriceBook();

  it('prices Claude 4.5+ global profiles at list price and geographic profiles 10% higher', () => {
    const global = book.lookup('bedrock:global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(global).toMatchObject({ known: true, key: 'bedrock:global.anthropic.claude-sonnet-4-5' });
    expect(global.price).toEqual({ input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 });
    // 1000×3 + 500×15 + 2000×0.3 + 4000×3.75 = 26 100 µ$
    expect(book.cost('bedrock:global.anthropic.claude-sonnet-4-5-20250929-v1:0', usage).costUsd).toBe(0.0261);

    const us = book.lookup('bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(us.key).toBe('bedrock:anthropic.claude-sonnet-4-5');
    expect(book.cost('bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0', usage).costUsd).toBe(0.02871);
  });

  it('matches model ids, region-prefixed profiles and ARNs of the common families', () => {
    const cases: [string, number, number][] = [
      ['bedrock:anthropic.claude-haiku-4-5-20251001-v1:0', 1.1, 5.5],
      ['bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0', 1, 5],
      ['bedrock:global.anthropic.claude-opus-4-6-v1', 5, 25],
      ['bedrock:eu.anthropic.claude-opus-4-5-20251101-v1:0', 5.5, 27.5],
      ['bedrock:anthropic.claude-opus-4-1-20250805-v1:0', 15, 75],
      ['bedrock:us.anthropic.claude-opus-4-20250514-v1:0', 15, 75],
      ['bedrock:global.anthropic.claude-sonnet-4-20250514-v1:0', 3, 15],
      ['bedrock:apac.anthropic.claude-3-7-sonnet-20250219-v1:0', 3, 15],
      ['bedrock:anthropic.claude-3-5-haiku-20241022-v1:0', 0.8, 4],
      ['bedrock:anthropic.claude-3-haiku-20240307-v1:0', 0.25, 1.25],
      ['bedrock:amazon.nova-micro-v1:0', 0.035, 0.14],
      ['bedrock:us.amazon.nova-lite-v1:0', 0.06, 0.24],
      ['bedrock:amazon.nova-pro-v1:0', 0.8, 3.2],
      ['bedrock:us.meta.llama3-3-70b-instruct-v1:0', 0.72, 0.72],
      ['bedrock:meta.llama3-1-8b-instruct-v1:0', 0.22, 0.22],
      ['bedrock:mistral.mistral-large-2407-v1:0', 2, 6],
      ['bedrock:arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0', 0.8, 3.2],
      ['bedrock:arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0', 0.8, 4],
    ];
    for (const [spec, input, output] of cases) {
      const found = book.lookup(spec);
      expect(found.known, spec).toBe(true);
      expect(found.price.input, spec).toBeCloseTo(input, 10);
      expect(found.price.output, spec).toBeCloseTo(output, 10);
    }
  });

  it('does not mistake a newer model for an older one with a shorter name', () => {
    // "claude-opus-4-8" must not fall into Opus 4's price by prefix.
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    expect(book.lookup('bedrock:anthropic.claude-opus-4-8-v1').known).toBe(false);
    expect(warn).toHaveBeenCalled();
  });

  it('prices replay and local OpenAI-compatible servers at exactly zero, and known', () => {
    for (const spec of ['replay:script.json', 'openai:llama3.1@http://localhost:11434/v1', 'openai:q@http://127.0.0.1:8080/v1']) {
      const found = book.lookup(spec);
      expect(found.known, spec).toBe(true);
      expect(book.cost(spec, usage).costUsd, spec).toBe(0);
    }
  });

  it('charges an unknown model the default price, flags it and warns once', () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const spec = 'openai:gpt-9@https://api.example.com/v1';
    const first = book.cost(spec, usage);
    const second = book.cost(spec, usage);
    expect(first.priceKnown).toBe(false);
    expect(first.costUsd).toBe(costOf(DEFAULT_UNKNOWN_PRICE, usage));
    expect(first.costUsd).toBeGreaterThan(0);
    expect(second).toEqual(first);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatchObject({ spec });
  });
});

describe('price overrides', () => {
  it('merges configured prices over the defaults, longest matching key first', () => {
    const book = new PriceBook({
      overrides: {
        'bedrock:anthropic.claude-sonnet-4-5': { input: 2, output: 10, cacheRead: 0.2, cacheWrite: 2.5 },
        'openai:': { input: 1, output: 2 },
        'openai:llama3.1@http://localhost:11434': { input: 0.01, output: 0.01 },
      },
      defaultPrice: { input: 50, output: 100 },
    });
    expect(book.lookup('bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0').price.input).toBe(2);
    // untouched defaults stay
    expect(book.lookup('bedrock:amazon.nova-micro-v1:0').price.input).toBe(0.035);
    // an override may price what the rules call free (a local GPU is not free to someone)
    expect(book.lookup('openai:llama3.1@http://localhost:11434/v1').price).toEqual({
      input: 0.01,
      output: 0.01,
      cacheRead: 0.01,
      cacheWrite: 0.0125,
    });
    expect(book.lookup('openai:gpt-4o@https://api.openai.com/v1')).toMatchObject({ known: true, key: 'openai:' });
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    expect(book.lookup('bedrock:cohere.command-r-v1:0')).toMatchObject({
      known: false,
      price: { input: 50, output: 100, cacheRead: 50, cacheWrite: 62.5 },
    });
  });

  it('rejects an invalid price table with the field named', () => {
    expect(() => new PriceBook({ overrides: { 'bedrock:x': { input: -1, output: 1 } } })).toThrow(InvalidPriceTableError);
    expect(() => new PriceBook({ overrides: { 'bedrock:x': { input: -1, output: 1 } } })).toThrow(/prices\.bedrock:x\.input/);
    expect(() => new PriceBook({ defaultPrice: { input: 1 } })).toThrow(/defaultPrice\.output/);
  });
});

describe('estimates for budget checks', () => {
  it('worst case charges every input token at the dearest input rate plus the full output allowance', () => {
    // Haiku 4.5 global: cache write 1.25 > input 1 → 10 000 × 1.25 + 4 000 × 5 = 32 500 µ$
    expect(estimateWorstCaseUsd('bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0', 10_000, 4_000)).toBe(0.0325);
    expect(estimateWorstCaseUsd('replay:x.json', 10_000, 4_000)).toBe(0);
  });

  it('estimates tokens on the high side of real tokenizers', () => {
    expect(estimateTokens('')).toBe(0);
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(20); // ≈ 200 real tokens
    expect(estimateTokens(prose)).toBeGreaterThanOrEqual(200);
    expect(estimateTokens('日本語')).toBeGreaterThanOrEqual(3);
    const request: ConverseRequest = {
      system: 'You are a developer.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: prose }] },
        { role: 'assistant', content: [{ type: 'toolUse', id: 't1', name: 'read_file', input: { path: 'src/a.ts' } }] },
        { role: 'user', content: [{ type: 'toolResult', toolUseId: 't1', content: 'export const a = 1;\n' }] },
      ],
      tools: [{ name: 'read_file', description: 'Read a file', inputSchema: { type: 'object' } }],
      maxTokens: 1000,
    };
    expect(estimateTokens(request)).toBeGreaterThan(estimateTokens(prose) + estimateTokens('You are a developer.'));
  });
});

describe('docs/models.md', () => {
  it('lists exactly the default price table', () => {
    const doc = readFileSync(new URL('../../docs/models.md', import.meta.url), 'utf8');
    const rows = new Map(
      [...doc.matchAll(/^\| `([^`]+)` \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$/gm)].map((m) => [
        m[1]!,
        { input: Number(m[2]), output: Number(m[3]), cacheRead: Number(m[4]), cacheWrite: Number(m[5]) },
      ]),
    );
    expect(Object.fromEntries(rows)).toEqual(DEFAULT_PRICES);
  });
});
