// The single table's shape, in one place: the CDK stack (infra) and the local runtime (dynalite)
// both build the table from these names, so local and cloud keys cannot drift.

export const TABLE_KEYS = { partitionKey: 'PK', sortKey: 'SK' } as const;

/** Items expire when this epoch-seconds attribute passes (idempotency records, old findings). */
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * Global secondary indexes.
 * - GSI1 "by status": goals of a project by status (GSI1PK = PROJECT#<id>#GOALSTATUS#<status>,
 *   GSI1SK = <createdAt>#<goalId>), and any other "things of X in state Y" listing.
 * - GSI2 "by owner": every goal of a project regardless of status, newest first by GSI2SK, and
 *   tasks of a goal by status when needed.
 * Both project ALL attributes so a listing never needs a second read.
 */
export const GSIS = [
  { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
  { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
] as const;

export type GsiName = (typeof GSIS)[number]['indexName'];
