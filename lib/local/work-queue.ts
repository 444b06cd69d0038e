// WorkQueue over the in-process queues: the same JSON body and delay rules as the SQS adapter.
import type { WorkQueue } from '../ports/index';
import { assertDelaySeconds } from '../ports/service-rules';
import type { LocalQueues } from './queues';

export class LocalWorkQueue implements WorkQueue {
  constructor(private readonly queues: LocalQueues) {}

  async send(queueUrl: string, body: unknown, options: { delaySeconds?: number } = {}): Promise<void> {
    if (options.delaySeconds !== undefined) assertDelaySeconds(options.delaySeconds);
    this.queues.send(queueUrl, JSON.stringify(body ?? null), { delaySeconds: options.delaySeconds });
  }
}
