// Counts the DynamoDB request units a piece of work consumes, as the table reports them: inside
// `meterCapacity(fn)` every call asks for ConsumedCapacity and adds it to that scope's counters.
// Scopes follow async context, so handlers running side by side in one process (the local
// runtime) each count their own calls. Outside a scope nothing is asked for or counted.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface CapacityCounters {
  readUnits: number;
  writeUnits: number;
}

const scope = new AsyncLocalStorage<CapacityCounters>();

const READS = new Set(['Get', 'GetItem', 'Query', 'Scan', 'BatchGet', 'BatchGetItem', 'TransactGet', 'TransactGetItems']);
const WRITES = new Set(['Put', 'PutItem', 'Update', 'UpdateItem', 'Delete', 'DeleteItem', 'BatchWrite', 'BatchWriteItem', 'TransactWrite', 'TransactWriteItems']);

/** Runs `fn`, adding the units its calls consume to `counters` (also when it throws). */
export function meterCapacity<T>(counters: CapacityCounters, fn: () => Promise<T>): Promise<T> {
  return scope.run(counters, fn);
}

/** Makes `client` (and any DocumentClient over it) report consumed capacity to the current scope. */
export function attachCapacityMeter(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const counters = scope.getStore();
      const operation = (context.commandName ?? '').replace(/Command$/, '');
      const kind = READS.has(operation) ? 'readUnits' : WRITES.has(operation) ? 'writeUnits' : undefined;
      if (!counters || !kind) return next(args);
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const response = await next(args);
      counters[kind] += unitsOf((response.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
      return response;
    },
    { step: 'initialize', name: 'cahootsCapacityMeter', override: true },
  );
}

function unitsOf(consumed: unknown): number {
  const entries = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return entries.reduce((sum: number, entry) => sum + (Number((entry as { CapacityUnits?: number }).CapacityUnits) || 0), 0);
}
