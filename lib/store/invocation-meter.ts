// What one invocation (a pipeline step, an agent worker message) consumes, counted where it
// happens: DynamoDB request units as the table reports them (every call inside `meterInvocationUsage`
// asks for ConsumedCapacity), bus events published, sandbox command time. Meters follow async
// context, so handlers running side by side in one process (the local runtime) each count their
// own. Outside a meter nothing is asked for or counted. lib/pipeline/infrastructure-usage.ts prices
// and records the counts.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface InvocationMeter {
  readUnits: number;
  writeUnits: number;
  busEvents: number;
  sandboxMs: number;
  sandboxRequests: number;
}

const scope = new AsyncLocalStorage<InvocationMeter>();

const READS = new Set(['Get', 'GetItem', 'Query', 'Scan', 'BatchGet', 'BatchGetItem', 'TransactGet', 'TransactGetItems']);
const WRITES = new Set(['Put', 'PutItem', 'Update', 'UpdateItem', 'Delete', 'DeleteItem', 'BatchWrite', 'BatchWriteItem', 'TransactWrite', 'TransactWriteItems']);

export function newInvocationMeter(): InvocationMeter {
  return { readUnits: 0, writeUnits: 0, busEvents: 0, sandboxMs: 0, sandboxRequests: 0 };
}

/** Runs `fn`, counting what it consumes into `meter` (also when it throws). */
export function meterInvocationUsage<T>(meter: InvocationMeter, fn: () => Promise<T>): Promise<T> {
  return scope.run(meter, fn);
}

/** The meter of the invocation the caller runs in, if any. */
export function currentInvocationMeter(): InvocationMeter | undefined {
  return scope.getStore();
}

/** Makes `client` (and any DocumentClient over it) report consumed capacity to the current meter. */
export function attachCapacityMeter(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const meter = scope.getStore();
      const operation = (context.commandName ?? '').replace(/Command$/, '');
      const kind = READS.has(operation) ? 'readUnits' : WRITES.has(operation) ? 'writeUnits' : undefined;
      if (!meter || !kind) return next(args);
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const response = await next(args);
      meter[kind] += unitsOf((response.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
      return response;
    },
    { step: 'initialize', name: 'cahootsCapacityMeter', override: true },
  );
}

function unitsOf(consumed: unknown): number {
  const entries = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return entries.reduce((sum: number, entry) => sum + (Number((entry as { CapacityUnits?: number }).CapacityUnits) || 0), 0);
}
