// What a goal costs besides tokens: the AWS resources its pipeline steps, agent workers and
// commands consumed, counted as they run and priced from a documented unit-price table
// (docs/deploy.md, "Infrastructure cost per goal"), overridable in the customer file's `prices`.
import * as z from 'zod';
import type { InfrastructurePriceOverrides } from './prices';

/** USD per unit. */
export interface InfrastructurePrices {
  /** Lambda compute, arm64, per GB-second (memory in GB × billed duration in seconds). */
  lambdaGbSecond: number;
  /** Lambda, per invocation. */
  lambdaRequest: number;
  /** Step Functions Standard workflows, per state transition. */
  stateTransition: number;
  /** SQS standard queue, per request (64 KB chunk). */
  sqsRequest: number;
  /** DynamoDB on-demand, per read request unit. */
  dynamoReadUnit: number;
  /** DynamoDB on-demand, per write request unit. */
  dynamoWriteUnit: number;
  /** EventBridge, per custom event published to the bus. */
  busEvent: number;
}

/**
 * List prices, us-east-1, as published in December 2026 (the same as since the DynamoDB on-demand
 * price cut of November 2024). Sources: aws.amazon.com/lambda/pricing (arm64 first tier),
 * /step-functions/pricing, /sqs/pricing, /dynamodb/pricing/on-demand, /eventbridge/pricing.
 * Free tiers are ignored: a goal's cost is what it adds once they are used up.
 */
export const DEFAULT_INFRASTRUCTURE_PRICES: Readonly<InfrastructurePrices> = Object.freeze({
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1_000_000,
  stateTransition: 25 / 1_000_000,
  sqsRequest: 0.4 / 1_000_000,
  dynamoReadUnit: 0.125 / 1_000_000,
  dynamoWriteUnit: 0.625 / 1_000_000,
  busEvent: 1 / 1_000_000,
});

/**
 * Memory of each kind of function in a cell, MB. infra sizes the functions with these, and the
 * local runtime prices its in-process invocations with them, so a local run shows what the same
 * goal costs in a cell. In Lambda the function's own AWS_LAMBDA_FUNCTION_MEMORY_SIZE wins.
 */
export const FUNCTION_MEMORY_MB = Object.freeze({
  agentWorker: 2048,
  pipelineStep: 512,
  /** Deliver pushes and merges with git: more memory, and with it more CPU. */
  deliverStep: 2048,
  sandbox: 3008,
});

const quantity = z.number().nonnegative();

/** What a goal consumed, by resource; `usd` is the priced total at the prices in force when counted. */
export const InfrastructureUsageSchema = z.object({
  lambdaGbSeconds: quantity.meta({ description: 'Agent workers and pipeline steps: memory (GB) × duration (s).' }),
  lambdaRequests: quantity.meta({ description: 'Invocations of agent workers and pipeline steps.' }),
  sandboxGbSeconds: quantity.meta({ description: "The sandbox function running agents' commands: memory (GB) × duration (s)." }),
  sandboxRequests: quantity.meta({ description: 'Commands run in the sandbox function.' }),
  stateTransitions: quantity.meta({ description: 'Step Functions state transitions, estimated per step from the definition.' }),
  sqsRequests: quantity.meta({ description: 'Role queue requests: send, receive and delete of each dispatch.' }),
  dynamoReadUnits: quantity.meta({ description: 'DynamoDB read request units, as the table reports them.' }),
  dynamoWriteUnits: quantity.meta({ description: 'DynamoDB write request units, as the table reports them.' }),
  busEvents: quantity.meta({ description: 'Domain events published to the EventBridge bus.' }),
  usd: quantity.meta({ description: 'The infrastructure cost of the above, USD.' }),
});
export type InfrastructureUsage = z.infer<typeof InfrastructureUsageSchema>;
export type InfrastructureQuantities = Omit<InfrastructureUsage, 'usd'>;

export const INFRASTRUCTURE_COUNTERS = Object.keys(InfrastructureUsageSchema.shape) as Array<keyof InfrastructureUsage>;

export function emptyInfrastructureUsage(): InfrastructureUsage {
  return { lambdaGbSeconds: 0, lambdaRequests: 0, sandboxGbSeconds: 0, sandboxRequests: 0, stateTransitions: 0, sqsRequests: 0, dynamoReadUnits: 0, dynamoWriteUnits: 0, busEvents: 0, usd: 0 };
}

export function addInfrastructureUsage(a: InfrastructureUsage, b: Partial<InfrastructureUsage>): InfrastructureUsage {
  const sum = { ...a };
  for (const key of INFRASTRUCTURE_COUNTERS) sum[key] += b[key] ?? 0;
  return sum;
}

/** The default prices with configured ones over them. */
export function infrastructurePrices(overrides: InfrastructurePriceOverrides = {}): InfrastructurePrices {
  const prices = { ...DEFAULT_INFRASTRUCTURE_PRICES };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof InfrastructurePrices, number | undefined]>) {
    if (value !== undefined) prices[key] = value;
  }
  return prices;
}

/** USD of each resource for the given quantities at the given prices. */
export function infrastructureCostBreakdown(quantities: Partial<InfrastructureQuantities>, prices: InfrastructurePrices) {
  const q = { ...emptyInfrastructureUsage(), ...quantities };
  return {
    lambda: q.lambdaGbSeconds * prices.lambdaGbSecond + q.lambdaRequests * prices.lambdaRequest,
    sandbox: q.sandboxGbSeconds * prices.lambdaGbSecond + q.sandboxRequests * prices.lambdaRequest,
    stepFunctions: q.stateTransitions * prices.stateTransition,
    sqs: q.sqsRequests * prices.sqsRequest,
    dynamodb: q.dynamoReadUnits * prices.dynamoReadUnit + q.dynamoWriteUnits * prices.dynamoWriteUnit,
    eventBridge: q.busEvents * prices.busEvent,
  };
}

/** USD of the given quantities at the given prices, rounded to a nano-dollar. */
export function priceInfrastructure(quantities: Partial<InfrastructureQuantities>, prices: InfrastructurePrices): number {
  const usd = Object.values(infrastructureCostBreakdown(quantities, prices)).reduce((sum, part) => sum + part, 0);
  return Math.round(usd * 1e9) / 1e9;
}

/** GB-seconds of `durationMs` at `memoryMb`, billed per whole millisecond as Lambda bills. */
export function gbSeconds(memoryMb: number, durationMs: number): number {
  return (memoryMb / 1024) * (Math.ceil(Math.max(0, durationMs)) / 1000);
}

/** For reports: dollars to the nano-dollar (a goal's infrastructure costs fractions of a cent), quantities to six places. */
export function roundedInfrastructure(usage: InfrastructureUsage): InfrastructureUsage {
  const out = { ...usage };
  for (const key of INFRASTRUCTURE_COUNTERS) out[key] = Math.round(usage[key] * 1e6) / 1e6;
  out.usd = Math.round(usage.usd * 1e9) / 1e9;
  return out;
}
