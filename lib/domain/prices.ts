// Prices as configuration writes them (customer file, CAHOOTS_PRICES): models in USD per million
// tokens, and under the reserved key `infrastructure` the AWS unit prices a goal's infrastructure
// cost is computed with. The model price book is lib/models/pricing.ts; the infrastructure one is
// lib/domain/infrastructure-cost.ts.
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

const unitPrice = z.number().nonnegative().max(1_000);

/**
 * AWS unit prices in USD, each optional, merged over DEFAULT_INFRASTRUCTURE_PRICES
 * (lib/domain/infrastructure-cost.ts, documented in docs/deploy.md).
 */
export const InfrastructurePriceOverridesSchema = z.strictObject({
  lambdaGbSecond: unitPrice.optional(),
  lambdaRequest: unitPrice.optional(),
  stateTransition: unitPrice.optional(),
  sqsRequest: unitPrice.optional(),
  dynamoReadUnit: unitPrice.optional(),
  dynamoWriteUnit: unitPrice.optional(),
  busEvent: unitPrice.optional(),
});
export type InfrastructurePriceOverrides = z.infer<typeof InfrastructurePriceOverridesSchema>;

/** The reserved key of PriceOverrides that holds infrastructure prices rather than a model's. */
export const INFRASTRUCTURE_PRICES_KEY = 'infrastructure';

/**
 * Configured prices, merged over DEFAULT_PRICES. Keys are spec prefixes (see docs/models.md):
 * the longest key that prefixes the spec, or the spec with its region prefix removed, wins.
 * `infrastructure` is reserved for the AWS unit prices.
 */
export const PriceOverridesSchema = z
  .object({ [INFRASTRUCTURE_PRICES_KEY]: InfrastructurePriceOverridesSchema.optional() })
  .catchall(PriceSchema);
export type PriceOverrides = z.infer<typeof PriceOverridesSchema>;

/** The model entries of a price configuration, without the infrastructure prices. */
export function modelPriceOverrides(overrides: PriceOverrides): Record<string, PriceInput> {
  const models: Record<string, PriceInput> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (key !== INFRASTRUCTURE_PRICES_KEY && value) models[key] = value as PriceInput;
  }
  return models;
}
