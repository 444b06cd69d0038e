// WorkQueue over SQS SendMessage. Bodies are always JSON, so a consumer always JSON.parses them.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkQueue } from '../index';
import { sqsClient } from './clients';
import { assertDelaySeconds } from '../service-rules';
import type { CellPortFactory } from './cell-ports';

export interface SqsWorkQueueOptions {
  /** Defaults to the process-wide traced client. */
  client?: SQSClient;
}

export class SqsWorkQueue implements WorkQueue {
  private readonly client: () => SQSClient;

  constructor(options: SqsWorkQueueOptions = {}) {
    this.client = options.client ? () => options.client as SQSClient : sqsClient;
  }

  async send(queueUrl: string, body: unknown, options: { delaySeconds?: number } = {}): Promise<void> {
    if (options.delaySeconds !== undefined) assertDelaySeconds(options.delaySeconds);
    await this.client().send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(body ?? null),
        DelaySeconds: options.delaySeconds,
      }),
    );
  }
}

/** The queue port of a function that sends agent messages (the queue URLs come with each message). */
export const cellPort: CellPortFactory<'queue'> = () => new SqsWorkQueue();
