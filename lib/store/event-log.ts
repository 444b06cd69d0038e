// The append-only event log: one gap-free, ordered stream per goal and per project, in the
// goal's / project's own partition, built from single-item conditional writes only.
//
// Layout (see keys.ts): events at SK = EVT#<10-digit seq>; one marker per event at
// SK = EVTID#<eventId> that remembers the stream head at the moment the eventId was first seen.
//
// Append protocol
//   1. Marker: read the head seq h0, then PutItem EVTID#<eventId> {fromSeq: h0} if absent. If it
//      exists (a retry, or a concurrent duplicate), use the stored marker's fromSeq instead.
//   2. Loop: read the head h (newest EVT# item, consistent read); look for our eventId among the
//      events in (fromSeq, h] — if it is there, the append already happened: return it. Otherwise
//      PutItem EVT#<h+1> with attribute_not_exists(PK). Losing that condition means another
//      writer took h+1: if that item carries our eventId it was our own earlier attempt (an SDK
//      retry of a put whose response was lost); else back off and go round again.
//
// Why no gap: a slot is only ever written as head+1, and slots are never deleted, so slot k+1
// exists only if slot k does.
//
// Why no duplicate, without transactions: every put for eventId E happens after E's marker
// exists, and the marker's fromSeq was the head before it existed, so every copy of E would sit
// above fromSeq. A writer puts slot s = h+1 only after reading head h and finding no E in
// (fromSeq, h]; since slots fill in order, every slot ≤ h was visible to that read. So if E were
// already at some slot < s, the writer would have found it; and two writers racing for the same
// slot with E cannot both win the condition on one key. Hence E occupies at most one slot.
//
// Crash between the writes: after the marker but before the event — no event, no gap; a retry
// finds the marker, scans (fromSeq, head], does not find E and appends it. After the event — a
// retry finds E in the scan and returns it instead of appending again. The marker never records
// the final seq (that would be a third write per event); the scan covers only events appended
// since the first attempt, so it is short.
//
// Publication hook: every event is written with `published: false` and sparse GSI1 keys
// (GSI1PK = OUTBOX). A publisher (later work) reads `listUnpublished`, puts the events on the bus,
// then `markPublished`, which sets `published: true` and drops the index keys. Publishing is thus
// at-least-once; consumers dedupe on eventId.
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { newUlid } from '../domain/ids';
import { EventEnvelopeSchema, NewEventSchema, type EventEnvelope, type NewEvent } from '../domain/events';
import { logger } from '../powertools';
import { now, type StoreConfig } from './config';
import { AppendContentionError, EventIdReusedError, EventStreamMismatchError, NotFoundError, StoreInputError } from './errors';
import { decodeItem, isConditionalCheckFailed, pageSize, withoutUndefined } from './items';
import { EVENT_SEQ_RANGE, eventKey, eventMarkerKey, eventSeqRange, goalStream, MAX_SEQ, OUTBOX_INDEX_PK, outboxIndexKeys, PREFIX, projectStream, streamPk, type EventStream } from './keys';
import { sleep } from '../domain/backoff';
import { backoffDelay, type RetryOptions } from './retry';

export { goalStream, projectStream, type EventStream };

export interface AppendResult {
  event: EventEnvelope;
  /** False when the eventId was already in the stream and nothing was written. */
  appended: boolean;
}

export interface ReadEventsResult {
  events: EventEnvelope[];
  /** The seq to pass as `afterSeq` for the next read. */
  lastSeq: number;
  hasMore: boolean;
}

export interface UnpublishedEvent {
  stream: EventStream;
  event: EventEnvelope;
}

const DEFAULT_APPEND_RETRY: RetryOptions = { maxAttempts: 40, baseDelayMs: 10, maxDelayMs: 200 };

export class EventLog {
  private readonly retry: RetryOptions;

  constructor(
    private readonly store: StoreConfig,
    retry: RetryOptions = {},
  ) {
    this.retry = { ...DEFAULT_APPEND_RETRY, ...retry };
  }

  /**
   * Appends an event to a goal or project stream and returns it with its seq. Appending an
   * eventId that is already in the stream returns the stored event with `appended: false`.
   */
  async append(stream: EventStream, input: NewEvent): Promise<AppendResult> {
    const fields = NewEventSchema.parse(input);
    checkStream(stream, fields);
    const eventId = fields.eventId ?? newUlid();
    const at = fields.at ?? now(this.store).toISOString();
    const pk = streamPk(stream);

    const marker = await this.ensureMarker(stream, eventId, fields.type);
    let scannedThrough = marker.fromSeq;
    // A marker created just now was stamped with a head read a moment ago; the first attempt can
    // use that read (nothing of this eventId can be above it yet) instead of reading again.
    let knownHead = marker.created ? marker.fromSeq : undefined;
    const maxAttempts = this.retry.maxAttempts ?? DEFAULT_APPEND_RETRY.maxAttempts!;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const head = knownHead ?? (await this.headSeq(stream));
      knownHead = undefined;
      const existing = await this.findInRange(stream, eventId, scannedThrough, head);
      if (existing) return { event: existing, appended: false };
      scannedThrough = head;
      if (head >= MAX_SEQ) throw new StoreInputError(`event stream ${pk} is full`);

      const event = EventEnvelopeSchema.parse({ ...fields, eventId, at, seq: head + 1 });
      try {
        await this.store.client.send(
          new PutCommand({
            TableName: this.store.tableName,
            Item: withoutUndefined({
              ...event,
              ...eventKey(stream, event.seq),
              ...outboxIndexKeys(stream, event.seq, event.at),
              entity: 'event',
              published: false,
            }),
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
        return { event, appended: true };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      const taken = await this.eventAt(stream, head + 1);
      if (taken?.eventId === eventId) return { event: taken, appended: false };
      logger.debug('event append lost the race for a slot', { stream: pk, seq: head + 1, attempt });
      await sleep(backoffDelay(attempt, this.retry));
    }
    throw new AppendContentionError(pk, maxAttempts);
  }

  /** Events with seq > afterSeq, in order, at most `limit` (1–100). */
  async readEvents(stream: EventStream, afterSeq = 0, limit = 100): Promise<ReadEventsResult> {
    const size = pageSize(limit);
    if (!Number.isInteger(afterSeq) || afterSeq < 0) throw new StoreInputError('afterSeq must be a non-negative integer');
    if (afterSeq >= MAX_SEQ) return { events: [], lastSeq: afterSeq, hasMore: false };
    const out = await this.store.client.send(
      new QueryCommand({
        TableName: this.store.tableName,
        KeyConditionExpression: EVENT_SEQ_RANGE,
        ExpressionAttributeValues: eventSeqRange(stream, afterSeq + 1, MAX_SEQ),
        ConsistentRead: true,
        Limit: size,
      }),
    );
    const events = (out.Items ?? []).map((item) => decodeItem(EventEnvelopeSchema, 'event', item));
    const last = events.at(-1);
    return { events, lastSeq: last ? last.seq : afterSeq, hasMore: out.LastEvaluatedKey !== undefined };
  }

  /** The seq of the newest event, 0 for an empty stream. */
  async headSeq(stream: EventStream): Promise<number> {
    const out = await this.store.client.send(
      new QueryCommand({
        TableName: this.store.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :evt)',
        ExpressionAttributeValues: { ':pk': streamPk(stream), ':evt': PREFIX.event },
        ProjectionExpression: 'seq',
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 1,
      }),
    );
    const seq = out.Items?.[0]?.seq;
    return typeof seq === 'number' ? seq : 0;
  }

  /** The stored event with this eventId, if it was appended to the stream. */
  async findByEventId(stream: EventStream, eventId: string): Promise<EventEnvelope | undefined> {
    const marker = await this.store.client.send(
      new GetCommand({ TableName: this.store.tableName, Key: eventMarkerKey(stream, eventId), ConsistentRead: true }),
    );
    if (!marker.Item) return undefined;
    return this.findInRange(stream, eventId, Number(marker.Item.fromSeq), await this.headSeq(stream));
  }

  /**
   * Outbox hook for the publisher: events not yet marked published, oldest first. Reads a GSI,
   * so in AWS an event may show up a moment after its append.
   */
  async listUnpublished(limit = 100): Promise<UnpublishedEvent[]> {
    const out = await this.store.client.send(
      new QueryCommand({
        TableName: this.store.tableName,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': OUTBOX_INDEX_PK },
        Limit: pageSize(limit),
      }),
    );
    return (out.Items ?? []).map((item) => ({ stream: streamOf(String(item.PK)), event: decodeItem(EventEnvelopeSchema, 'event', item) }));
  }

  /** Marks an event published and takes it out of the outbox index. Repeating it is harmless. */
  async markPublished(stream: EventStream, seq: number): Promise<void> {
    try {
      await this.store.client.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: eventKey(stream, seq),
          UpdateExpression: 'SET published = :true REMOVE GSI1PK, GSI1SK',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':true': true },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError('event', `${streamPk(stream)}/${seq}`);
      throw error;
    }
  }

  /** Returns the marker's fromSeq, creating the marker if this eventId is new to the stream. */
  private async ensureMarker(stream: EventStream, eventId: string, type: string): Promise<{ fromSeq: number; created: boolean }> {
    const key = eventMarkerKey(stream, eventId);
    const head = await this.headSeq(stream);
    try {
      await this.store.client.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: { ...key, entity: 'eventMarker', eventId, type, fromSeq: head },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return { fromSeq: head, created: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const out = await this.store.client.send(new GetCommand({ TableName: this.store.tableName, Key: key, ConsistentRead: true }));
    const marker = out.Item;
    if (!marker) throw new AppendContentionError(streamPk(stream), 1); // markers are never deleted
    if (marker.type !== type) throw new EventIdReusedError(eventId, `stored as ${String(marker.type)}, appended as ${type}`);
    return { fromSeq: Number(marker.fromSeq), created: false };
  }

  private async findInRange(stream: EventStream, eventId: string, afterSeq: number, throughSeq: number): Promise<EventEnvelope | undefined> {
    if (throughSeq <= afterSeq) return undefined;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.store.client.send(
        new QueryCommand({
          TableName: this.store.tableName,
          KeyConditionExpression: EVENT_SEQ_RANGE,
          ExpressionAttributeValues: eventSeqRange(stream, afterSeq + 1, throughSeq),
          ProjectionExpression: 'eventId, seq',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      const hit = out.Items?.find((item) => item.eventId === eventId);
      if (hit) return this.eventAt(stream, Number(hit.seq));
      start = out.LastEvaluatedKey;
    } while (start);
    return undefined;
  }

  private async eventAt(stream: EventStream, seq: number): Promise<EventEnvelope | undefined> {
    const out = await this.store.client.send(new GetCommand({ TableName: this.store.tableName, Key: eventKey(stream, seq), ConsistentRead: true }));
    return out.Item ? decodeItem(EventEnvelopeSchema, 'event', out.Item) : undefined;
  }
}

function checkStream(stream: EventStream, event: { projectId: string; goalId?: string }): void {
  if (stream.kind === 'goal' && event.goalId !== stream.goalId) {
    throw new EventStreamMismatchError(`event for goal ${event.goalId ?? '(none)'} appended to the stream of goal ${stream.goalId}`);
  }
  if (stream.kind === 'project' && event.projectId !== stream.projectId) {
    throw new EventStreamMismatchError(`event for project ${event.projectId} appended to the stream of project ${stream.projectId}`);
  }
}

function streamOf(pk: string): EventStream {
  const [kind, id] = pk.split('#', 2) as [string, string];
  return kind === 'GOAL' ? goalStream(id) : projectStream(id);
}
