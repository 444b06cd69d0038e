// Idempotency records for creating calls (`Idempotency-Key`) and other at-most-once work: the
// first caller takes the key, later callers with the same request get the stored response.
//
// Why not Powertools' idempotency utility: it runs the same claim / complete / replay cycle and
// would work on dynalite too (when a failed conditional put brings no item back, it reads the
// record). But its records are keyed by a hash of the event, in a table of their own or, sharing
// a table, under one static partition key for every record. Ours live in the single table next
// to every other entity, one partition per key (`IDEMPOTENCY#<scope>#<key>`), under the table's
// TTL attribute; the scope is the API operation, so one client key never collides across routes;
// and a key reused for a different request is refused as IdempotencyKeyReused, which the API
// answers with its own 409 body. That costs this one small repository, not a dependency.
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { now, type StoreConfig } from './config';
import { IdempotencyInProgressError, IdempotencyKeyReusedError, NotFoundError } from './errors';
import { isConditionalCheckFailed } from './items';
import { idempotencyKey } from './keys';
import { TTL_ATTRIBUTE } from './table-definition';

const ScopeSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, { message: 'scope must be 1-64 of letters, digits, . _ : -' });
const KeySchema = z.string().regex(/^[\x21-\x7e]{1,255}$/, { message: 'idempotency key must be 1-255 printable ASCII characters' });

export interface IdempotencyOptions {
  /** How long a completed response is replayed. Default 24 h. */
  ttlSeconds?: number;
  /** How long an in-progress claim blocks others before it is presumed dead. Default 5 min. */
  lockSeconds?: number;
}

export type IdempotencyBegin = { state: 'new' } | { state: 'completed'; response: unknown };

const StoredSchema = z.object({
  requestHash: z.string(),
  status: z.enum(['in-progress', 'completed']),
  response: z.unknown().optional(),
  [TTL_ATTRIBUTE]: z.number(),
});

export class IdempotencyRepository {
  constructor(
    private readonly store: StoreConfig,
    private readonly options: IdempotencyOptions = {},
  ) {}

  /**
   * Claims `key` for a request whose body hashes to `requestHash`. Returns `new` when the caller
   * should do the work (and later `complete` or `release`), `completed` with the stored response
   * for a replay. IdempotencyKeyReusedError if the key was used for a different request,
   * IdempotencyInProgressError while another caller holds it.
   *
   * Expiry is checked here rather than trusted to TTL: DynamoDB deletes expired items lazily
   * (within days) and dynalite never does.
   */
  async begin(scope: string, key: string, requestHash: string): Promise<IdempotencyBegin> {
    ScopeSchema.parse(scope);
    KeySchema.parse(key);
    const nowSeconds = Math.floor(now(this.store).getTime() / 1000);
    try {
      await this.store.client.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: {
            ...idempotencyKey(scope, key),
            entity: 'idempotency',
            requestHash,
            status: 'in-progress',
            [TTL_ATTRIBUTE]: nowSeconds + (this.options.lockSeconds ?? 300),
          },
          ConditionExpression: 'attribute_not_exists(PK) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return { state: 'new' };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const out = await this.store.client.send(new GetCommand({ TableName: this.store.tableName, Key: idempotencyKey(scope, key), ConsistentRead: true }));
    const stored = StoredSchema.safeParse(out.Item);
    // Gone (or expired and replaced) between the two calls: the caller may simply try again.
    if (!stored.success) throw new IdempotencyInProgressError(key);
    if (stored.data.requestHash !== requestHash) throw new IdempotencyKeyReusedError(key);
    if (stored.data.status === 'completed') return { state: 'completed', response: stored.data.response };
    throw new IdempotencyInProgressError(key);
  }

  /** Stores the response for replays; the record then lives `ttlSeconds`. */
  async complete(scope: string, key: string, response: unknown): Promise<void> {
    const nowSeconds = Math.floor(now(this.store).getTime() / 1000);
    try {
      await this.store.client.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: idempotencyKey(scope, key),
          UpdateExpression: 'SET #status = :completed, #response = :response, #ttl = :ttl',
          ConditionExpression: 'attribute_exists(PK) AND #status = :inProgress',
          ExpressionAttributeNames: { '#status': 'status', '#response': 'response', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':completed': 'completed',
            ':inProgress': 'in-progress',
            ':response': response ?? null,
            ':ttl': nowSeconds + (this.options.ttlSeconds ?? 86_400),
          },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError('idempotency claim', `${scope}/${key}`);
      throw error;
    }
  }

  /** Gives the key back after a failure so the client's retry does the work again. */
  async release(scope: string, key: string): Promise<void> {
    try {
      await this.store.client.send(
        new DeleteCommand({
          TableName: this.store.tableName,
          Key: idempotencyKey(scope, key),
          ConditionExpression: '#status = :inProgress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inProgress': 'in-progress' },
        }),
      );
    } catch (error) {
      // Already completed or gone: there is nothing of ours left to release.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
