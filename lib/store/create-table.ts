// Creates the single table for the local runtime and tests from the same names infra uses
// (table-definition.ts): on-demand, PK/SK plus GSI1/GSI2 projecting everything. TTL cannot be
// switched on here — dynalite has no UpdateTimeToLive — so code that relies on expiry checks
// `expiresAt` itself.
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { sleep } from '../domain/backoff';
import { logger } from '../powertools';
import { StoreConfigError } from './errors';
import { GSIS, TABLE_KEYS } from './table-definition';

export function createTableInput(tableName: string): CreateTableCommandInput {
  const keyNames = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, ...GSIS.flatMap((g) => [g.partitionKey, g.sortKey])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyNames.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: GSIS.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

/** Creates the table unless it exists, then waits until it is ACTIVE. */
export async function createTable(client: DynamoDBClient, tableName: string, options: { timeoutMs?: number } = {}): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    logger.info('created table', { tableName });
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === undefined || i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new StoreConfigError(`table ${tableName} did not become ACTIVE in time`);
    await sleep(50);
  }
}
