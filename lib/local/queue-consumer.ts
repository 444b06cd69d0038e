// The local stand-in for Lambda's SQS event source mapping: polls a local queue and calls the SAME
// handler a Lambda would get, `(event: SQSEvent, context) => SQSBatchResponse | void`, honouring
// partial batch failures and a concurrency cap (the reserved-concurrency analogue).
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sleep } from '../domain/backoff';
import { logger } from '../powertools';
import { createLambdaContext, localRegion } from './lambda-context';
import type { LocalQueues, LocalReceivedMessage } from './queues';

/** The handler signature of an SQS-triggered Lambda with ReportBatchItemFailures. */
export type SqsHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | void> | SQSBatchResponse | void;

export interface QueueConsumerOptions {
  queues: LocalQueues;
  /** Queue name or URL. */
  queue: string;
  handler: SqsHandler;
  /** Messages per invocation, 1–10. The agent queues use 1. */
  batchSize?: number;
  /** Handlers running at once for this queue at most. */
  concurrency?: number;
  /** For the Lambda context and logs; defaults to `<queue>-consumer`. */
  functionName?: string;
  /** The function timeout the context reports. Not enforced: an in-process handler cannot be killed. */
  timeoutSeconds?: number;
}

// What Lambda accepts back: nothing, or batchItemFailures naming messages of the batch.
const BatchResponseSchema = z.union([
  z.undefined(),
  z.null(),
  z.looseObject({
    batchItemFailures: z
      .array(z.looseObject({ itemIdentifier: z.string().min(1) }))
      .nullish(),
  }),
]);

/** Which messages of a batch failed, by Lambda's rules for a partial batch response. */
export function failedMessageIds(response: unknown, batch: readonly { messageId: string }[]): Set<string> {
  const all = new Set(batch.map((m) => m.messageId));
  const parsed = BatchResponseSchema.safeParse(response);
  // An unreadable response, or one naming a message not in the batch, fails the whole batch.
  if (!parsed.success) return all;
  const failures = parsed.data?.batchItemFailures ?? [];
  const failed = new Set<string>();
  for (const failure of failures) {
    if (!all.has(failure.itemIdentifier)) return all;
    failed.add(failure.itemIdentifier);
  }
  return failed;
}

export class LocalQueueConsumer {
  private readonly options: Required<Omit<QueueConsumerOptions, 'functionName' | 'timeoutSeconds'>> & {
    functionName: string;
    timeoutSeconds: number;
  };
  private abort: AbortController | undefined;
  private loops: Promise<void>[] = [];
  private running = 0;

  constructor(options: QueueConsumerOptions) {
    const batchSize = options.batchSize ?? 1;
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) throw new RangeError('batchSize must be 1–10');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be at least 1');
    this.options = {
      ...options,
      batchSize,
      concurrency,
      functionName: options.functionName ?? `${options.queue.split('/').pop()}-consumer`,
      timeoutSeconds: options.timeoutSeconds ?? 900,
    };
  }

  /** Handlers currently running. */
  get inFlight(): number {
    return this.running;
  }

  get started(): boolean {
    return this.abort !== undefined;
  }

  start(): void {
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    // One polling loop per concurrency slot: a loop runs one batch at a time, so the cap holds.
    this.loops = Array.from({ length: this.options.concurrency }, () => this.poll(abort.signal));
  }

  /** Stops polling and waits for the handlers already running to finish. */
  async stop(): Promise<void> {
    if (!this.abort) return;
    this.abort.abort();
    await Promise.all(this.loops);
    this.abort = undefined;
    this.loops = [];
  }

  private async poll(signal: AbortSignal): Promise<void> {
    const { queues, queue, batchSize } = this.options;
    while (!signal.aborted) {
      let batch: LocalReceivedMessage[];
      try {
        batch = await queues.receive(queue, { maxMessages: batchSize, waitTimeSeconds: 20, signal });
      } catch (error) {
        logger.error('Local queue poll failed; retrying in 1 s', { queue, error });
        await sleep(1000);
        continue;
      }
      if (batch.length > 0) await this.invoke(batch);
    }
  }

  private async invoke(batch: LocalReceivedMessage[]): Promise<void> {
    const { queues, queue, handler, functionName, timeoutSeconds } = this.options;
    const eventSourceARN = queues.queueArn(queue);
    const event: SQSEvent = { Records: batch.map((message) => toRecord(message, eventSourceARN)) };
    const context = createLambdaContext({ functionName, timeoutMs: timeoutSeconds * 1000 });
    let failed: Set<string>;
    this.running++;
    try {
      failed = failedMessageIds(await handler(event, context), batch);
    } catch (error) {
      // A thrown error fails the whole batch; the messages come back after their visibility timeout.
      logger.error('Queue handler failed; the batch will be delivered again', { queue, functionName, error });
      failed = new Set(batch.map((m) => m.messageId));
    } finally {
      this.running--;
    }
    for (const message of batch) {
      if (!failed.has(message.messageId)) queues.delete(queue, message.receiptHandle);
    }
  }
}

function toRecord(message: LocalReceivedMessage, eventSourceARN: string): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: { ...message.attributes },
    messageAttributes: {},
    md5OfBody: message.md5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion: localRegion(),
  };
}
