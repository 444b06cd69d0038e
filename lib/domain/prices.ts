// Model prices as configuration writes them (customer file, CAHOOTS_PRICES): USD per million
// tokens. The price book that uses them is lib/models/pricing.ts.
import * as z from 'zod';

const perMillion = z.number().nonnegative().max(10_000);

/**
 * A price as written in configuration. Cache prices may be left out: a cache read then costs
 * the input price and a cache write 1.25× the input price, which never under-charges a model
 * that bills caching like Anthropic's (reads 0.1×, writes 1.25×).
 */
export const PriceSchema = z.object({
  input: perMillion,
  output: perMillion,
  cacheRead: perMillion.optional(),
  cacheWrite: perMillion.optional(),
});
export type PriceInput = z.infer<typeof PriceSchema>;

/**
 * Configured prices, merged over DEFAULT_PRICES. Keys are spec prefixes (see docs/models.md):
 * the longest key that prefixes the spec, or the spec with its region prefix removed, wins.
 */
export const PriceOverridesSchema = z.record(z.string().min(1).max(2048), PriceSchema);
export type PriceOverrides = z.infer<typeof PriceOverridesSchema>;
