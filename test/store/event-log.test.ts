import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../lib/domain/events';
import { newUlid } from '../../lib/domain/ids';
import { createStore, EventIdReusedError, EventStreamMismatchError, goalStream, projectStream, type Store } from '../../lib/store/index';
import { eventMarkerKey } from '../../lib/store/keys';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { projectWithGoal } from './fixtures';

let db: LocalDynamo;
let store: Store;

beforeAll(async () => {
  db = await startDynalite();
  store = createStore(db.store);
});
afterAll(() => db.stop());

function taskEvent(projectId: string, goalId: string, extra: Partial<NewEvent> = {}): NewEvent {
  return {
    type: 'Task.Started',
    actor: { kind: 'agent', id: 'run_x', role: 'developer' },
    correlationId: goalId,
    projectId,
    goalId,
    data: {},
    ...extra,
  };
}

async function allEvents(stream: ReturnType<typeof goalStream>) {
  const events = [];
  let after = 0;
  for (;;) {
    const page = await store.events.readEvents(stream, after, 7);
    events.push(...page.events);
    if (page.events.length === 0) return events;
    after = page.lastSeq;
  }
}

describe('event log', () => {
  it('16 concurrent appenders produce one contiguous sequence 1..16 with every event once', async () => {
    const { project, goal } = await projectWithGoal(store);
    const stream = goalStream(goal.id);
    const ids = Array.from({ length: 16 }, () => newUlid());
    const results = await Promise.all(ids.map((eventId, i) => store.events.append(stream, taskEvent(project.id, goal.id, { eventId, data: { writer: i } }))));

    expect(results.every((r) => r.appended)).toBe(true);
    const events = await allEvents(stream);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(new Set(events.map((e) => e.eventId))).toEqual(new Set(ids));
    expect(await store.events.headSeq(stream)).toBe(16);
  });

  it('a retried append with the same eventId is a no-op that returns the stored event', async () => {
    const { project, goal } = await projectWithGoal(store);
    const stream = goalStream(goal.id);
    const first = await store.events.append(stream, taskEvent(project.id, goal.id, { data: { n: 1 } }));
    await store.events.append(stream, taskEvent(project.id, goal.id, { type: 'Model.Called' }));
    const retry = await store.events.append(stream, taskEvent(project.id, goal.id, { eventId: first.event.eventId, data: { n: 1 } }));

    expect(retry.appended).toBe(false);
    expect(retry.event).toEqual(first.event);
    expect((await allEvents(stream)).map((e) => e.eventId)).toEqual([first.event.eventId, expect.any(String)]);
  });

  it('duplicates racing each other (same eventIds delivered twice at once) still store each event once, gap-free', async () => {
    const { project, goal } = await projectWithGoal(store);
    const stream = goalStream(goal.id);
    const ids = Array.from({ length: 8 }, () => newUlid());
    const results = await Promise.all([...ids, ...ids].map((eventId) => store.events.append(stream, taskEvent(project.id, goal.id, { eventId }))));

    const events = await allEvents(stream);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(events.map((e) => e.eventId))).toEqual(new Set(ids));
    expect(results.filter((r) => r.appended)).toHaveLength(8);
    // Both calls for an eventId report the same stored event.
    for (const id of ids) expect(new Set(results.filter((r) => r.event.eventId === id).map((r) => r.event.seq)).size).toBe(1);
  });

  it('a writer that crashed after its marker and before its event leaves no gap; the retry appends exactly once', async () => {
    const { project, goal } = await projectWithGoal(store);
    const stream = goalStream(goal.id);
    await store.events.append(stream, taskEvent(project.id, goal.id));
    const eventId = newUlid();
    // The crashed writer's only trace: its marker, taken at head 1.
    await db.client.send(
      new PutCommand({ TableName: db.tableName, Item: { ...eventMarkerKey(stream, eventId), entity: 'eventMarker', eventId, type: 'Task.Started', fromSeq: 1 } }),
    );
    await store.events.append(stream, taskEvent(project.id, goal.id));

    const retry = await store.events.append(stream, taskEvent(project.id, goal.id, { eventId }));
    expect(retry).toMatchObject({ appended: true, event: { seq: 3, eventId } });
    const again = await store.events.append(stream, taskEvent(project.id, goal.id, { eventId }));
    expect(again).toMatchObject({ appended: false, event: { seq: 3 } });
    expect((await allEvents(stream)).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('a put whose response was lost is neither repeated by a retry nor by an SDK-level resend', async () => {
    const { project, goal } = await projectWithGoal(store);
    const stream = goalStream(goal.id);
    await store.events.append(stream, taskEvent(project.id, goal.id));
    // A client that delivers the first event put and then behaves as if the connection dropped:
    // once by resending the same put (what the SDK does on a timeout), once by failing outright.
    const flaky = (mode: 'resend' | 'drop') => {
      let armed = true;
      const send = async (command: unknown) => {
        const result = await db.client.send(command as PutCommand);
        if (armed && command instanceof PutCommand && String(command.input.Item?.SK).startsWith('EVT#')) {
          armed = false;
          if (mode === 'resend') return db.client.send(command);
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        }
        return result;
      };
      return createStore({ client: { send } as unknown as DynamoDBDocumentClient, tableName: db.tableName });
    };

    const resent = await flaky('resend').events.append(stream, taskEvent(project.id, goal.id));
    expect(resent.event.seq).toBe(2);

    const eventId = newUlid();
    await expect(flaky('drop').events.append(stream, taskEvent(project.id, goal.id, { eventId }))).rejects.toThrow('socket hang up');
    await store.events.append(stream, taskEvent(project.id, goal.id));
    const retried = await store.events.append(stream, taskEvent(project.id, goal.id, { eventId }));
    expect(retried).toMatchObject({ appended: false, event: { seq: 3, eventId } });
    expect((await allEvents(stream)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('refuses to reuse an eventId for a different kind of event', async () => {
    const { project, goal } = await projectWithGoal(store);
    const stream = goalStream(goal.id);
    const { event } = await store.events.append(stream, taskEvent(project.id, goal.id));
    await expect(store.events.append(stream, taskEvent(project.id, goal.id, { eventId: event.eventId, type: 'Task.Failed' }))).rejects.toBeInstanceOf(
      EventIdReusedError,
    );
  });

  it('keeps goal and project streams apart and refuses an event addressed to another stream', async () => {
    const { project, goal } = await projectWithGoal(store);
    const { goal: other } = await projectWithGoal(store);
    await store.events.append(projectStream(project.id), { type: 'Finding.Detected', actor: { kind: 'scheduler', id: 'detect' }, correlationId: 'scan-1', projectId: project.id });
    await store.events.append(goalStream(goal.id), taskEvent(project.id, goal.id));

    expect((await store.events.readEvents(projectStream(project.id))).events.map((e) => e.type)).toEqual(['Finding.Detected']);
    expect((await store.events.readEvents(goalStream(goal.id))).events.map((e) => e.type)).toEqual(['Task.Started']);
    await expect(store.events.append(goalStream(other.id), taskEvent(project.id, goal.id))).rejects.toBeInstanceOf(EventStreamMismatchError);
  });

  it('reads after a sequence number, in order, a page at a time', async () => {
    const { project, goal } = await projectWithGoal(store);
    const stream = goalStream(goal.id);
    for (let i = 0; i < 10; i++) await store.events.append(stream, taskEvent(project.id, goal.id, { data: { i } }));

    const page = await store.events.readEvents(stream, 4, 3);
    expect(page.events.map((e) => e.seq)).toEqual([5, 6, 7]);
    expect(page.lastSeq).toBe(7);
    expect(page.hasMore).toBe(true);
    const tail = await store.events.readEvents(stream, 7, 50);
    expect(tail.events.map((e) => e.data.i)).toEqual([7, 8, 9]);
    expect(tail.hasMore).toBe(false);
    expect((await store.events.readEvents(stream, 10)).events).toEqual([]);
  });

  it('leaves appended events in the outbox until the publisher marks them published', async () => {
    const { project, goal } = await projectWithGoal(store);
    const stream = goalStream(goal.id);
    const { event } = await store.events.append(stream, taskEvent(project.id, goal.id));
    const pending = await store.events.listUnpublished(100);
    expect(pending.find((p) => p.event.eventId === event.eventId)).toEqual({ stream, event });

    await store.events.markPublished(stream, event.seq);
    await store.events.markPublished(stream, event.seq);
    expect((await store.events.listUnpublished(100)).some((p) => p.event.eventId === event.eventId)).toBe(false);
    expect(await store.events.findByEventId(stream, event.eventId)).toEqual(event);
  });
});
