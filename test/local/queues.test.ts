import type { SQSEvent } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { logger } from '../../lib/powertools';
import { failedMessageIds, LocalQueueConsumer } from '../../lib/local/queue-consumer';
import {
  LocalQueues,
  localQueueUrl,
  MessageNotInFlightError,
  MessageTooLargeError,
  QueueDoesNotExistError,
  queueNameFromUrl,
} from '../../lib/local/queues';
import { LocalWorkQueue } from '../../lib/local/work-queue';

/** Polls until `check` holds; fails the test after `ms`. */
async function eventually(check: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

function setup(options: { visibility?: number; maxReceiveCount?: number } = {}) {
  const queues = new LocalQueues();
  queues.createQueue('developer-dlq');
  const url = queues.createQueue('developer', {
    visibilityTimeoutSeconds: options.visibility ?? 0.1,
    ...(options.maxReceiveCount ? { maxReceiveCount: options.maxReceiveCount, deadLetterQueue: 'developer-dlq' } : {}),
  });
  return { queues, url };
}

describe('LocalQueues', () => {
  it('hides a received message for the visibility timeout, then delivers it again with a higher receive count', async () => {
    const { queues, url } = setup();
    expect(url).toBe('local://queues/developer');
    const { messageId } = queues.send(url, '{"taskId":"t1"}');
    const [first] = await queues.receive(url);
    expect(first?.messageId).toBe(messageId);
    expect(first?.attributes.ApproximateReceiveCount).toBe('1');
    expect(await queues.receive(url)).toEqual([]);
    expect(queues.stats(url)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });

    // A long poll wakes up when the message becomes visible again.
    const [second] = await queues.receive(url, { waitTimeSeconds: 2 });
    expect(second?.messageId).toBe(messageId);
    expect(second?.attributes.ApproximateReceiveCount).toBe('2');
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);

    // The stale handle no longer deletes it (SQS semantics); the current one does.
    queues.delete(url, first?.receiptHandle ?? '');
    expect(queues.stats(url).inFlight).toBe(1);
    queues.delete(url, second?.receiptHandle ?? '');
    expect(queues.stats(url)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('moves a message to the dead-letter queue on the receive after maxReceiveCount', async () => {
    const { queues, url } = setup({ maxReceiveCount: 2, visibility: 0 });
    queues.send(url, 'poison');
    expect((await queues.receive(url))[0]?.attributes.ApproximateReceiveCount).toBe('1');
    expect((await queues.receive(url))[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(await queues.receive(url)).toEqual([]);
    const [dead] = await queues.receive('developer-dlq');
    expect(dead?.body).toBe('poison');
  });

  it('delays delivery by delaySeconds and lets changeVisibility release a message early', async () => {
    const queues = new LocalQueues();
    // Whole seconds per message, as SQS; a queue-level delay may be fractional locally, which keeps this fast.
    const url = queues.createQueue('slow', { visibilityTimeoutSeconds: 30, delaySeconds: 0.05 });
    queues.send(url, 'later');
    expect(queues.stats(url).delayed).toBe(1);
    expect(await queues.receive(url)).toEqual([]);
    const [message] = await queues.receive(url, { waitTimeSeconds: 2 });
    expect(message?.body).toBe('later');

    queues.changeVisibility(url, message?.receiptHandle ?? '', 0);
    const [again] = await queues.receive(url);
    expect(again?.attributes.ApproximateReceiveCount).toBe('2');
    expect(() => queues.changeVisibility(url, message?.receiptHandle ?? '', 5)).toThrow(MessageNotInFlightError);
  });

  it('refuses unknown queues, oversized bodies and bad delays', async () => {
    const { queues, url } = setup();
    expect(() => queues.send('local://queues/nope', 'x')).toThrow(QueueDoesNotExistError);
    expect(() => queues.send(url, 'x'.repeat(262_145))).toThrow(MessageTooLargeError);
    await expect(new LocalWorkQueue(queues).send(url, {}, { delaySeconds: 901 })).rejects.toThrow(/delaySeconds/);
  });

  it('resolves SQS-style URLs to the same local queue', () => {
    expect(queueNameFromUrl('https://sqs.eu-west-1.amazonaws.com/123456789012/developer')).toBe('developer');
    expect(queueNameFromUrl(localQueueUrl('qa'))).toBe('qa');
  });

  it('ends a long poll when its signal aborts', async () => {
    const { queues, url } = setup();
    const abort = new AbortController();
    const polling = queues.receive(url, { waitTimeSeconds: 20, signal: abort.signal });
    abort.abort();
    expect(await polling).toEqual([]);
  });
});

describe('LocalQueueConsumer', () => {
  it('deletes succeeded messages and redelivers the ones named in batchItemFailures', async () => {
    const { queues, url } = setup();
    const seen: string[] = [];
    const consumer = new LocalQueueConsumer({
      queues,
      queue: url,
      handler: async (event: SQSEvent) => {
        const record = event.Records[0];
        if (!record) return;
        const body = JSON.parse(record.body) as string;
        seen.push(`${body}#${record.attributes.ApproximateReceiveCount}`);
        expect(record.eventSourceARN).toMatch(/^arn:aws:sqs:.*:developer$/);
        // "flaky" fails on its first delivery only.
        if (body === 'flaky' && record.attributes.ApproximateReceiveCount === '1') {
          return { batchItemFailures: [{ itemIdentifier: record.messageId }] };
        }
        return { batchItemFailures: [] };
      },
    });
    consumer.start();
    await new LocalWorkQueue(queues).send(url, 'flaky');
    queues.send(url, '"steady"');
    await eventually(() => seen.length === 3);
    await consumer.stop();
    expect(seen.sort()).toEqual(['flaky#1', 'flaky#2', 'steady#1']);
    expect(queues.stats(url)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('treats a thrown error as a failed batch and dead-letters after maxReceiveCount', async () => {
    const { queues, url } = setup({ maxReceiveCount: 3, visibility: 0.02 });
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    let calls = 0;
    const consumer = new LocalQueueConsumer({
      queues,
      queue: url,
      handler: async () => {
        calls++;
        throw new Error('agent crashed');
      },
    });
    consumer.start();
    queues.send(url, 'poison');
    await eventually(() => queues.stats('developer-dlq').visible === 1);
    await consumer.stop();
    expect(calls).toBe(3);
    expect(logged).toHaveBeenCalledTimes(3);
    logged.mockRestore();
  });

  it('runs at most `concurrency` handlers at once and waits for them on stop', async () => {
    const { queues, url } = setup({ visibility: 5 });
    let running = 0;
    let peak = 0;
    let finished = 0;
    const consumer = new LocalQueueConsumer({
      queues,
      queue: url,
      concurrency: 3,
      handler: async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(20);
        running--;
        finished++;
      },
    });
    for (let i = 0; i < 10; i++) queues.send(url, String(i));
    consumer.start();
    await eventually(() => finished >= 4);
    await consumer.stop();
    // Stop waited for the handlers in flight: none is left running.
    expect(running).toBe(0);
    expect(consumer.inFlight).toBe(0);
    expect(peak).toBe(3);
    const remaining = queues.stats(url);
    expect(finished + remaining.visible).toBe(10);
  });
});

describe('failedMessageIds (Lambda partial batch response rules)', () => {
  const batch = [{ messageId: 'a' }, { messageId: 'b' }];
  it.each([
    [undefined, []],
    [null, []],
    [{}, []],
    [{ batchItemFailures: null }, []],
    [{ batchItemFailures: [{ itemIdentifier: 'b' }] }, ['b']],
    [{ batchItemFailures: [{ itemIdentifier: '' }] }, ['a', 'b']],
    [{ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, ['a', 'b']],
    [{ batchItemFailures: [{ id: 'a' }] }, ['a', 'b']],
    ['not json', ['a', 'b']],
  ])('%j fails %j', (response, expected) => {
    expect([...failedMessageIds(response, batch)].sort()).toEqual(expected);
  });
});
