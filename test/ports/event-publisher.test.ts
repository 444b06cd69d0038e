import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { BusEvent } from '../../lib/ports';
import { EventBridgePublisher, EventPublishError } from '../../lib/ports/aws/event-publisher';
import { EventTooLargeError } from '../../lib/ports/service-rules';

const eventBridge = mockClient(EventBridgeClient);
// Tests share a worker: the next file must meet the real client, not this mock.
afterAll(() => {
  eventBridge.restore();
});
const publisher = new EventBridgePublisher({ eventBusName: 'cahoots-acme', retryDelayMs: 1, maxAttempts: 3 });

function events(count: number, data: unknown = {}): BusEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    eventId: `e${i}`,
    type: 'Task.Succeeded',
    projectId: 'p1',
    goalId: 'g1',
    at: '2026-01-02T03:04:05.000Z',
    data,
  }));
}

const detailIds = (entries: PutEventsRequestEntry[] | undefined) =>
  (entries ?? []).map((entry) => (JSON.parse(entry.Detail ?? '{}') as BusEvent).eventId);

/** Answers each PutEvents call by refusing the entries whose event id is in `refuse` (and counts them down). */
function refuse(times: Record<string, number>) {
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    const results = input.Entries.map((entry) => {
      const id = (JSON.parse(entry.Detail ?? '{}') as BusEvent).eventId;
      if ((times[id] ?? 0) > 0) {
        times[id] = (times[id] ?? 0) - 1;
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' };
      }
      return { EventId: `aws-${id}` };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  });
}

afterEach(() => eventBridge.reset());

describe('EventBridgePublisher', () => {
  it('sends 25 events in 3 calls of 10, 10 and 5, in order, with the entry shape rules match on', async () => {
    refuse({});
    await publisher.publish(events(25));
    const calls = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries);
    expect(calls.map((entries) => entries?.length)).toEqual([10, 10, 5]);
    expect(calls.flatMap(detailIds)).toEqual(events(25).map((e) => e.eventId));
    const first = calls[0]?.[0];
    expect(first).toMatchObject({ EventBusName: 'cahoots-acme', Source: 'cahoots', DetailType: 'Task.Succeeded' });
    expect(first?.Time?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(JSON.parse(first?.Detail ?? '')).toEqual(events(1)[0]);
  });

  it('retries only the refused entries', async () => {
    refuse({ e3: 1, e7: 2 });
    await publisher.publish(events(10));
    const calls = eventBridge.commandCalls(PutEventsCommand).map((c) => detailIds(c.args[0].input.Entries));
    expect(calls).toEqual([events(10).map((e) => e.eventId), ['e3', 'e7'], ['e7']]);
  });

  it('gives up after the bounded attempts and names the events still refused', async () => {
    refuse({ e1: 99 });
    const error = await publisher.publish(events(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).failed.map((f) => f.eventId)).toEqual(['e1']);
    expect((error as Error).message).toContain('e1 (InternalFailure');
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('refuses an event over 256 KB before sending anything', async () => {
    refuse({});
    const big = [...events(2), { eventId: 'huge', type: 'Agent.Output', projectId: 'p1', data: 'x'.repeat(262_144) }];
    await expect(publisher.publish(big)).rejects.toBeInstanceOf(EventTooLargeError);
    await expect(publisher.publish(big)).rejects.toThrow(/huge/);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('splits a batch that would pass 256 KB in total', async () => {
    refuse({});
    await publisher.publish(events(4, 'y'.repeat(100_000)));
    expect(eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([2, 2]);
  });

  it('refuses events without an id or type', async () => {
    await expect(publisher.publish([{ eventId: '', type: 'X', projectId: 'p' }])).rejects.toThrow();
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
