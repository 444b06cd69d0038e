import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type BusEnvelope, LocalEventBus, LocalEventPublisher } from '../../lib/local/event-bus';
import { InvalidEventPatternError, matchesEventPattern, validateEventPattern } from '../../lib/local/event-pattern';
import { EventTooLargeError } from '../../lib/ports/service-rules';
import { logger } from '../../lib/powertools';

const envelope = {
  version: '0',
  id: 'x',
  source: 'cahoots',
  'detail-type': 'Task.Failed',
  account: '000000000000',
  region: 'us-east-1',
  time: '2026-01-01T00:00:00Z',
  resources: [],
  detail: {
    eventId: 'e1',
    type: 'Task.Failed',
    projectId: 'p1',
    goalId: 'g1',
    actor: 'agent:developer',
    tags: ['backend', 'urgent'],
    data: { attempt: 3, costUsd: 0.42, error: 'Agent.Stuck', steps: [{ tool: 'run', ok: false }] },
  },
};

function matches(pattern: unknown): boolean {
  validateEventPattern(pattern);
  return matchesEventPattern(pattern, envelope);
}

describe('event pattern matching', () => {
  it.each([
    ['exact value', { source: ['cahoots'] }, true],
    ['exact value, other', { source: ['aws.s3'] }, false],
    ['array is OR', { 'detail-type': ['Goal.Completed', 'Task.Failed'] }, true],
    ['all fields must match', { source: ['cahoots'], 'detail-type': ['Goal.Completed'] }, false],
    ['nested detail field', { detail: { data: { error: ['Agent.Stuck'] } } }, true],
    ['nested field missing', { detail: { data: { nothing: ['x'] } } }, false],
    ['any element of an event array', { detail: { tags: ['urgent'] } }, true],
    ['nested pattern in an array of objects', { detail: { data: { steps: { tool: ['run'] } } } }, true],
    ['a null value matches only null', { detail: { taskId: [null] } }, false],
  ])('%s', (_name, pattern, expected) => {
    expect(matches(pattern)).toBe(expected);
  });

  it.each([
    [{ source: 'cahoots' }, /must be lists/],
    [{ source: [] }, /not be empty/],
    [{ source: [{ prefix: 'c' }] }, /content filter .* is not supported locally/],
    [{ detail: { n: [['nested']] } }, /exact values/],
    [{}, /non-empty object/],
  ])('refuses %j', (pattern, message) => {
    expect(() => validateEventPattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => validateEventPattern(pattern)).toThrow(message);
  });

  it('a pattern made of an event’s own detail values always matches it, and a changed value does not', () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean());
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), scalar, { minKeys: 1 }), (detail) => {
        const event = { source: 'cahoots', detail };
        const pattern = { detail: Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, [v]])) };
        validateEventPattern(pattern);
        expect(matchesEventPattern(pattern, event)).toBe(true);
        const [key, value] = Object.entries(detail)[0] as [string, unknown];
        const other = typeof value === 'string' ? `${value}!` : typeof value === 'number' ? value + 1 : !value;
        expect(matchesEventPattern({ detail: { [key]: [other as string] } }, event)).toBe(false);
      }),
    );
  });
});

describe('LocalEventBus and LocalEventPublisher', () => {
  const event = (id: string, type: string) => ({ eventId: id, type, projectId: 'p1', goalId: 'g1', at: '2026-03-04T05:06:07.000Z' });

  it('delivers EventBridge envelopes to the targets of matching rules, after publish returns', async () => {
    const bus = new LocalEventBus();
    const failures: BusEnvelope[] = [];
    const everything: string[] = [];
    bus.putRule('task-failures', { source: ['cahoots'], 'detail-type': ['Task.Failed', 'Task.Cancelled'] }, (e) => {
      failures.push(e);
    });
    bus.putRule('archive', { source: ['cahoots'] }, (e) => {
      everything.push(e['detail-type']);
    });
    const publisher = new LocalEventPublisher(bus);
    await publisher.publish([event('e1', 'Task.Failed'), event('e2', 'Goal.Completed')]);
    expect(everything).toEqual([]);
    await bus.idle();
    expect(everything).toEqual(['Task.Failed', 'Goal.Completed']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      version: '0',
      source: 'cahoots',
      'detail-type': 'Task.Failed',
      time: '2026-03-04T05:06:07Z',
      detail: event('e1', 'Task.Failed'),
    });
  });

  it('logs a failing target instead of throwing at the publisher, and other targets still run', async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const bus = new LocalEventBus();
    const seen: string[] = [];
    bus.putRule('broken', { source: ['cahoots'] }, () => {
      throw new Error('notifier down');
    });
    bus.putRule('ok', { source: ['cahoots'] }, async (e) => {
      seen.push((e.detail as { eventId: string }).eventId);
    });
    await expect(new LocalEventPublisher(bus).publish([event('e1', 'Goal.Started')])).resolves.toBeUndefined();
    await bus.idle();
    expect(seen).toEqual(['e1']);
    expect(logged).toHaveBeenCalledWith('Event bus target failed', expect.objectContaining({ rule: 'broken' }));
    logged.mockRestore();
  });

  it('refuses an invalid rule pattern and an oversized event', async () => {
    const bus = new LocalEventBus();
    expect(() => bus.putRule('typo', { source: 'cahoots' }, () => undefined)).toThrow(InvalidEventPatternError);
    const huge = { ...event('big', 'Agent.Output'), data: 'x'.repeat(262_144) };
    await expect(new LocalEventPublisher(bus).publish([huge])).rejects.toBeInstanceOf(EventTooLargeError);
  });

  it('reports malformed detail per entry like PutEvents', () => {
    const bus = new LocalEventBus();
    const result = bus.putEvents([
      { Source: 'cahoots', DetailType: 'X', Detail: '[1]' },
      { Source: 'cahoots', DetailType: 'X', Detail: '{"ok":true}' },
    ]);
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries[0]).toMatchObject({ ErrorCode: 'MalformedDetail' });
  });
});
