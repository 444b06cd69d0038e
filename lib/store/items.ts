// Shared mechanics for entity items: encoding with key attributes, schema-checked decoding,
// conditional create, version-checked partial updates and cursor paging. Repositories add the
// entity rules (immutable fields, status transitions) on top.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { TTL_ATTRIBUTE } from './table-definition';
import type { StoreConfig } from './config';
import { decodeCursor, encodeCursor, type CursorExpectation } from './cursor';
import { AlreadyExistsError, ConcurrencyConflictError, ImmutableFieldError, ItemDecodeError, NotFoundError, StoreInputError } from './errors';
import type { TableKey } from './keys';

/** Attributes that belong to the table layout, not to the entity. */
const LAYOUT_ATTRIBUTES = new Set(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'entity', TTL_ATTRIBUTE]);

export interface PageRequest {
  /** 1–100; default 25. */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when there may be more; pass it back to get the next page. */
  cursor?: string;
}

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export function pageSize(limit: number | undefined): number {
  const size = limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new StoreInputError(`page size must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return size;
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

/** Drops `undefined` deeply: DynamoDB has no undefined, and an absent optional field is the truth. */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
    return out as T;
  }
  return value;
}

export function decodeItem<T>(schema: z.ZodType<T>, entity: string, item: Record<string, unknown>): T {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!LAYOUT_ATTRIBUTES.has(k)) fields[k] = v;
  const parsed = schema.safeParse(fields);
  if (!parsed.success) {
    const id = `${String(item.PK)}/${String(item.SK)}`;
    throw new ItemDecodeError(entity, id, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

export interface EntityDescriptor<T> {
  /** Name used in errors and in the item's `entity` attribute. */
  entity: string;
  schema: z.ZodType<T>;
  keyOf: (value: T) => TableKey;
  /** Index keys derived from the value; recomputed on every update so listings follow status. */
  indexKeysOf?: (value: T) => Record<string, string | undefined>;
  /** Fields that may not change after create. */
  immutable: readonly string[];
  /** Human id for error messages. */
  idOf: (value: T) => string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Item access for one versioned entity type. */
export class VersionedItems<T extends { version: number }> {
  constructor(
    private readonly store: StoreConfig,
    private readonly d: EntityDescriptor<T>,
  ) {}

  private encode(value: T): Record<string, unknown> {
    return withoutUndefined({ ...value, ...this.d.indexKeysOf?.(value), ...this.d.keyOf(value), entity: this.d.entity });
  }

  /** Writes a new item; AlreadyExistsError if its key is taken. */
  async create(value: T): Promise<T> {
    const checked = this.d.schema.parse(value);
    try {
      await this.store.client.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: this.encode(checked),
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new AlreadyExistsError(this.d.entity, this.d.idOf(checked));
      throw error;
    }
    return checked;
  }

  /** Writes a new item unless one with the same key exists; returns whichever is stored. */
  async createIfAbsent(value: T): Promise<{ item: T; created: boolean }> {
    try {
      return { item: await this.create(value), created: true };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      const existing = await this.get(this.d.keyOf(value));
      if (!existing) throw error; // deleted in between; surface the original conflict
      return { item: existing, created: false };
    }
  }

  async get(key: TableKey): Promise<T | undefined> {
    const out = await this.store.client.send(new GetCommand({ TableName: this.store.tableName, Key: { PK: key.PK, SK: key.SK }, ConsistentRead: true }));
    return out.Item ? decodeItem(this.d.schema, this.d.entity, out.Item) : undefined;
  }

  async getOrThrow(key: TableKey, id: string): Promise<T> {
    const item = await this.get(key);
    if (!item) throw new NotFoundError(this.d.entity, id);
    return item;
  }

  /**
   * Writes the fields that differ between `current` (as read) and `next`, conditional on the
   * stored version still being `current.version`, and bumps the version. Only changed attributes
   * are written, so counters maintained with ADD (goal cost) are never overwritten by a stale copy.
   */
  async update(current: T, next: T): Promise<T> {
    const checked = this.d.schema.parse({ ...next, version: current.version });
    const id = this.d.idOf(current);
    const before = current as Record<string, unknown>;
    const after = checked as Record<string, unknown>;
    for (const field of this.d.immutable) {
      if (!same(before[field], after[field])) throw new ImmutableFieldError(this.d.entity, field);
    }
    const changed: Record<string, unknown> = {};
    for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (field !== 'version' && !same(before[field], after[field])) changed[field] = after[field];
    }
    const oldIndex = this.d.indexKeysOf?.(current) ?? {};
    for (const [k, v] of Object.entries(this.d.indexKeysOf?.(checked) ?? {})) if (oldIndex[k] !== v) changed[k] = v;

    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':expected': current.version, ':next': current.version + 1 };
    const sets = ['#version = :next'];
    const removes: string[] = [];
    Object.entries(changed).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      if (value === undefined) removes.push(`#f${i}`);
      else {
        values[`:v${i}`] = withoutUndefined(value);
        sets.push(`#f${i} = :v${i}`);
      }
    });
    try {
      const out = await this.store.client.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: this.d.keyOf(current),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(PK) AND #version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return decodeItem(this.d.schema, this.d.entity, out.Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // dynalite cannot return the failing item with the error, so one read tells the two cases apart.
      const stored = await this.get(this.d.keyOf(current));
      if (!stored) throw new NotFoundError(this.d.entity, id);
      throw new ConcurrencyConflictError(this.d.entity, id, current.version, stored.version);
    }
  }
}

export type QuerySpec = Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>;

/** One page of a Query, with the cursor checked against the listing it claims to continue. */
export async function queryPage<T>(
  store: StoreConfig,
  spec: QuerySpec,
  page: PageRequest,
  expect: CursorExpectation,
  decode: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const limit = pageSize(page.limit);
  const start = decodeCursor(page.cursor, expect);
  const out = await store.client.send(new QueryCommand({ ...spec, TableName: store.tableName, Limit: limit, ExclusiveStartKey: start }));
  const items = (out.Items ?? []).map(decode);
  const cursor = encodeCursor(out.LastEvaluatedKey);
  return cursor ? { items, cursor } : { items };
}

/** Every item of a Query (small partitions only: a goal's tasks, a usage range). */
export async function queryAll(store: StoreConfig, spec: QuerySpec): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await store.client.send(new QueryCommand({ ...spec, TableName: store.tableName, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Cursor expectation for a Query on the base table partition `pk`, SK starting with `skPrefix`. */
export function tableCursor(pk: string, skPrefix?: string): CursorExpectation {
  return { attributes: ['PK', 'SK'], equal: { PK: pk }, ...(skPrefix ? { prefix: { SK: skPrefix } } : {}) };
}

/** Cursor expectation for a Query on GSI1/GSI2 partition `pk`. */
export function indexCursor(index: 'GSI1' | 'GSI2', pk: string): CursorExpectation {
  return { attributes: ['PK', 'SK', `${index}PK`, `${index}SK`], equal: { [`${index}PK`]: pk } };
}
