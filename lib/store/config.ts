// How repositories reach the table: an injected DocumentClient + table name, and the default
// one built once per process from the environment (endpoint left to the SDK, so
// AWS_ENDPOINT_URL_DYNAMODB points it at dynalite locally).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { traceAwsClient } from '../tracing';
import { attachCapacityMeter } from './invocation-meter';
import { StoreConfigError } from './errors';

export interface StoreConfig {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Injected time source, for tests; defaults to the wall clock. */
  clock?: () => Date;
}

/** Environment variable carrying the table name into Lambdas and the local runtime. */
import { TABLE_NAME_ENV } from '../runtime-env';

export { TABLE_NAME_ENV };

const TRANSLATE: TranslateConfig = {
  // Optional fields are left out of items rather than rejected by the marshaller.
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
};

/** Wraps a low-level client the way every repository expects (tests and the local runtime use this). */
export function documentClientFor(client: DynamoDBClient): DynamoDBDocumentClient {
  // Request units are counted per goal (lib/pipeline/infrastructure-usage.ts).
  attachCapacityMeter(client);
  return DynamoDBDocumentClient.from(client, TRANSLATE);
}

// One client per process, created at module scope so warm Lambda invocations reuse connections.
const defaultClient = documentClientFor(traceAwsClient(new DynamoDBClient({})));

export function defaultStoreConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const tableName = env[TABLE_NAME_ENV];
  if (!tableName) throw new StoreConfigError(`${TABLE_NAME_ENV} is not set; the store does not know which table to use`);
  return { client: defaultClient, tableName };
}

export function now(config: StoreConfig): Date {
  return config.clock ? config.clock() : new Date();
}
