// What a model call costs: list prices per model (USD per 1M tokens, cache reads and writes
// priced separately), configuration overrides, and the worst-case estimate budgets check first.
import * as z from 'zod';
import { CahootsError } from '../domain/errors';
import { logger } from '../powertools';
import { isLocalBaseUrl, parseModelSpec } from './spec';
import type { ConverseRequest, TokenUsage } from './types';

// The configuration shapes live in the domain, where the customer file's schema reads them too.
export { PriceOverridesSchema, PriceSchema, type PriceInput, type PriceOverrides } from '../domain/prices';
import { modelPriceOverrides, PriceOverridesSchema, PriceSchema, type PriceInput } from '../domain/prices';

/** USD per 1M tokens of each kind. */
export interface Price {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}


export class InvalidPriceTableError extends CahootsError {
  readonly code = 'InvalidPriceTable';
  readonly stepFunctionsError = 'Model.InvalidPriceTable';
  readonly permanent = true;
}

// Derived prices (×1.1, ×0.1 …) are rounded so the table reads 0.3, not 0.30000000000000004.
const tidy = (usdPerMillion: number) => Math.round(usdPerMillion * 1e6) / 1e6;
const p = (input: number, output: number, cacheRead = input, cacheWrite = input): Price => ({
  input: tidy(input),
  output: tidy(output),
  cacheRead: tidy(cacheRead),
  cacheWrite: tidy(cacheWrite),
});

// Anthropic bills cache writes at 1.25× and reads at 0.1× the input price.
const claude = (input: number, output: number): Price => p(input, output, input * 0.1, input * 1.25);
// From the 4.5 generation on, Bedrock's list price is the `global.` profile's; geographic
// profiles (us., eu., jp., …) and in-region calls cost 10% more.
const claudeGeo = (input: number, output: number): Price => claude(input * 1.1, output * 1.1);
// Nova: cache reads at a 75% discount, cache writes at the normal input price.
const nova = (input: number, output: number): Price => p(input, output, input * 0.25, input);

/**
 * On-demand list prices, USD per 1M tokens, us-east-1, as of July 2026. Keys are spec prefixes;
 * a spec also matches with its region prefix (`us.`, `eu.`, `apac.`, `jp.`, `au.`, `ca.`,
 * `us-gov.`, `global.`) removed. `global.` keys exist where those profiles are cheaper.
 * Prices change: check https://aws.amazon.com/bedrock/pricing/ and override in configuration.
 */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = Object.freeze({
  // Anthropic Claude 4.5 and later: global vs geographic / in-region
  'bedrock:global.anthropic.claude-opus-4-5': claude(5, 25),
  'bedrock:global.anthropic.claude-opus-4-6': claude(5, 25),
  'bedrock:global.anthropic.claude-opus-4-7': claude(5, 25),
  'bedrock:anthropic.claude-opus-4-5': claudeGeo(5, 25),
  'bedrock:anthropic.claude-opus-4-6': claudeGeo(5, 25),
  'bedrock:anthropic.claude-opus-4-7': claudeGeo(5, 25),
  'bedrock:global.anthropic.claude-sonnet-4-5': claude(3, 15),
  'bedrock:global.anthropic.claude-sonnet-4-6': claude(3, 15),
  'bedrock:anthropic.claude-sonnet-4-5': claudeGeo(3, 15),
  'bedrock:anthropic.claude-sonnet-4-6': claudeGeo(3, 15),
  'bedrock:global.anthropic.claude-haiku-4-5': claude(1, 5),
  'bedrock:anthropic.claude-haiku-4-5': claudeGeo(1, 5),
  // Anthropic Claude 4 / 4.1 (one price everywhere). Opus 4 and Sonnet 4 carry a date right
  // after the "4", so a future "4-8" is not mistaken for them.
  'bedrock:anthropic.claude-opus-4-1': claude(15, 75),
  'bedrock:anthropic.claude-opus-4-2025': claude(15, 75),
  'bedrock:anthropic.claude-sonnet-4-2025': claude(3, 15),
  // Anthropic Claude 3.x
  'bedrock:anthropic.claude-3-7-sonnet': claude(3, 15),
  'bedrock:anthropic.claude-3-5-sonnet': claude(6, 30), // extended-access price of the legacy model
  'bedrock:anthropic.claude-3-5-haiku': claude(0.8, 4),
  'bedrock:anthropic.claude-3-opus': claude(15, 75),
  'bedrock:anthropic.claude-3-sonnet': claude(3, 15),
  'bedrock:anthropic.claude-3-haiku': claude(0.25, 1.25),
  // Amazon Nova
  'bedrock:amazon.nova-micro': nova(0.035, 0.14),
  'bedrock:amazon.nova-lite': nova(0.06, 0.24),
  'bedrock:amazon.nova-pro': nova(0.8, 3.2),
  'bedrock:amazon.nova-premier': nova(2.5, 12.5),
  'bedrock:amazon.nova-2-lite': nova(0.3, 2.5),
  // Meta Llama (no prompt caching)
  'bedrock:meta.llama3-8b': p(0.3, 0.6),
  'bedrock:meta.llama3-70b': p(2.65, 3.5),
  'bedrock:meta.llama3-1-8b': p(0.22, 0.22),
  'bedrock:meta.llama3-1-70b': p(0.72, 0.72),
  'bedrock:meta.llama3-1-405b': p(2.4, 2.4),
  'bedrock:meta.llama3-2-1b': p(0.1, 0.1),
  'bedrock:meta.llama3-2-3b': p(0.15, 0.15),
  'bedrock:meta.llama3-2-11b': p(0.16, 0.16),
  'bedrock:meta.llama3-2-90b': p(0.72, 0.72),
  'bedrock:meta.llama3-3-70b': p(0.72, 0.72),
  'bedrock:meta.llama4-scout-17b': p(0.17, 0.66),
  'bedrock:meta.llama4-maverick-17b': p(0.24, 0.97),
  // Mistral (no prompt caching)
  'bedrock:mistral.mistral-7b': p(0.15, 0.2),
  'bedrock:mistral.mixtral-8x7b': p(0.45, 0.7),
  'bedrock:mistral.mistral-small-2402': p(1, 3),
  'bedrock:mistral.mistral-large-2402': p(4, 12),
  'bedrock:mistral.mistral-large-2407': p(2, 6),
  'bedrock:mistral.pixtral-large-2502': p(2, 6),
  // Scripted turns cost nothing. (Local OpenAI-compatible servers are free by rule, below.)
  'replay:': p(0, 0, 0, 0),
});

/**
 * What an unknown model is charged: Claude Opus 4.1's price, the dearest common model, so a
 * budget check errs towards stopping early rather than overspending.
 */
export const DEFAULT_UNKNOWN_PRICE: Price = Object.freeze(claude(15, 75));

// `global.` is stripped too, so a global profile of a model without a global-specific key
// still finds its price; a `global.` key, being longer, wins where one exists.
const REGION_PREFIX = /^(?:global|us|us-gov|eu|apac|ap|jp|au|ca)\./;

export interface PriceLookup {
  price: Price;
  /** False when no table entry or rule priced the model and the default price was used. */
  known: boolean;
  /** The table key that matched, `local` for a local OpenAI-compatible server, or null. */
  key: string | null;
}

export interface PriceBookOptions {
  /** Merged over DEFAULT_PRICES; zod-validated here. */
  overrides?: unknown;
  /** Charged for models with no price; defaults to DEFAULT_UNKNOWN_PRICE. */
  defaultPrice?: unknown;
}

// One warning per unknown model per process: enough to notice, not enough to flood the logs.
const warnedUnknown = new Set<string>();

export class PriceBook {
  private readonly table: Map<string, Price>;
  private readonly defaultPrice: Price;

  constructor(options: PriceBookOptions = {}) {
    const overrides = parseOrThrow(PriceOverridesSchema, options.overrides ?? {}, 'prices');
    this.table = new Map(Object.entries(DEFAULT_PRICES));
    for (const [key, price] of Object.entries(modelPriceOverrides(overrides))) this.table.set(key, complete(price));
    this.defaultPrice =
      options.defaultPrice === undefined
        ? DEFAULT_UNKNOWN_PRICE
        : complete(parseOrThrow(PriceSchema, options.defaultPrice, 'defaultPrice'));
  }

  lookup(spec: string): PriceLookup {
    const candidates = priceCandidates(spec);
    let best: string | null = null;
    for (const key of this.table.keys()) {
      if (candidates.some((c) => c.startsWith(key)) && (best === null || key.length > best.length)) best = key;
    }
    if (best !== null) return { price: this.table.get(best)!, known: true, key: best };
    if (isLocalOpenAI(spec)) return { price: p(0, 0, 0, 0), known: true, key: 'local' };
    if (!warnedUnknown.has(spec)) {
      warnedUnknown.add(spec);
      logger.warn('No price known for model; charging the default price', {
        spec,
        defaultPrice: this.defaultPrice,
      });
    }
    return { price: this.defaultPrice, known: false, key: null };
  }

  cost(spec: string, usage: TokenUsage): { costUsd: number; priceKnown: boolean } {
    const { price, known } = this.lookup(spec);
    return { costUsd: costOf(price, usage), priceKnown: known };
  }

  /**
   * The most a call can cost: every input token at the dearer of the input and cache-write
   * price, plus the full output allowance.
   */
  worstCaseUsd(spec: string, inputTokens: number, maxOutputTokens: number): number {
    const { price } = this.lookup(spec);
    return roundUsd(
      (inputTokens * Math.max(price.input, price.cacheWrite, price.cacheRead) + maxOutputTokens * price.output) /
        1_000_000,
    );
  }
}

export function createPriceBook(options: PriceBookOptions = {}): PriceBook {
  return new PriceBook(options);
}

/** USD for the given usage at the given price, rounded to a nano-dollar. */
export function costOf(price: Price, usage: TokenUsage): number {
  return roundUsd(
    (usage.inputTokens * price.input +
      usage.outputTokens * price.output +
      usage.cacheReadTokens * price.cacheRead +
      usage.cacheWriteTokens * price.cacheWrite) /
      1_000_000,
  );
}

let defaultBook: PriceBook | undefined;

/** Worst-case USD of a call, for the budget check before it. Uses the default price table unless a book is given. */
export function estimateWorstCaseUsd(
  spec: string,
  inputTokens: number,
  maxOutputTokens: number,
  book: PriceBook = (defaultBook ??= new PriceBook()),
): number {
  return book.worstCaseUsd(spec, inputTokens, maxOutputTokens);
}

/**
 * A rough, deliberately high token count: one token per 3 UTF-8 bytes. English prose runs about
 * 4 characters a token and code about 3, so budgets see slightly more than will be billed.
 */
export function estimateTokens(input: string | ConverseRequest): number {
  if (typeof input === 'string') return Math.ceil(Buffer.byteLength(input, 'utf8') / 3);
  let tokens = estimateTokens(input.system) + 4;
  for (const tool of input.tools ?? []) {
    tokens += estimateTokens(tool.name + tool.description + JSON.stringify(tool.inputSchema)) + 8;
  }
  for (const message of input.messages) {
    tokens += 4;
    for (const block of message.content) {
      if (block.type === 'text') tokens += estimateTokens(block.text);
      else if (block.type === 'toolUse') tokens += estimateTokens(block.name + JSON.stringify(block.input)) + 4;
      else if (block.type === 'toolResult') tokens += estimateTokens(block.content) + 4;
    }
  }
  return tokens;
}

function priceCandidates(spec: string): string[] {
  const out = [spec];
  if (!spec.startsWith('bedrock:')) return out;
  let id = spec.slice('bedrock:'.length);
  // An ARN's resource part is the model or system inference-profile id; an application
  // inference profile's opaque id only matches an override keyed by the full spec.
  const slash = id.startsWith('arn:') ? id.lastIndexOf('/') : -1;
  if (slash >= 0) id = id.slice(slash + 1);
  out.push(`bedrock:${id}`);
  if (REGION_PREFIX.test(id)) out.push(`bedrock:${id.replace(REGION_PREFIX, '')}`);
  return out;
}

function isLocalOpenAI(spec: string): boolean {
  try {
    const parsed = parseModelSpec(spec);
    return parsed.provider === 'openai' && isLocalBaseUrl(parsed.baseUrl);
  } catch {
    return false;
  }
}

function complete(price: PriceInput): Price {
  return {
    input: price.input,
    output: price.output,
    cacheRead: price.cacheRead ?? price.input,
    cacheWrite: price.cacheWrite ?? tidy(price.input * 1.25),
  };
}

function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what;
  throw new InvalidPriceTableError(`invalid ${where}: ${issue?.message ?? 'invalid value'}`);
}
