// In-process work queues with the SQS semantics the agents rely on: visibility timeout,
// ApproximateReceiveCount, redrive to a dead-letter queue after maxReceiveCount, per-message and
// per-queue delay, long polling. Local queue URLs look like `local://queues/<name>`.
import { createHash, randomUUID } from 'node:crypto';
import { logger } from '../powertools';
import { assertDelaySeconds, SQS_LIMITS, utf8ByteLength } from '../ports/service-rules';
import { LOCAL_ACCOUNT_ID, localRegion } from './lambda-context';
import { LocalRuntimeError } from './errors';

export const LOCAL_QUEUE_URL_PREFIX = 'local://queues/';

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export function localQueueUrl(name: string): string {
  return LOCAL_QUEUE_URL_PREFIX + name;
}

/**
 * The queue name in a queue reference: a local URL, an SQS URL (its last path segment, so a
 * configuration written for AWS still resolves locally) or a bare name.
 */
export function queueNameFromUrl(reference: string): string {
  if (reference.startsWith(LOCAL_QUEUE_URL_PREFIX)) return reference.slice(LOCAL_QUEUE_URL_PREFIX.length);
  if (/^https?:\/\//.test(reference)) return new URL(reference).pathname.split('/').filter(Boolean).pop() ?? '';
  return reference;
}

/** Named as the SQS integration of Step Functions reports service errors, so a Catch can target them. */
abstract class QueueServiceError extends LocalRuntimeError {
  override get stepFunctionsError(): string {
    return `SQS.${this.code}Exception`;
  }
}

export class QueueDoesNotExistError extends QueueServiceError {
  readonly code = 'QueueDoesNotExist';
  constructor(readonly queue: string) {
    super(`Local queue ${queue} does not exist`);
  }
}

export class QueueAlreadyExistsError extends QueueServiceError {
  readonly code = 'QueueAlreadyExists';
  constructor(readonly queue: string) {
    super(`Local queue ${queue} already exists with different options`);
  }
}

export class InvalidQueueOptionsError extends QueueServiceError {
  readonly code = 'InvalidQueueOptions';
}

export class MessageTooLargeError extends QueueServiceError {
  readonly code = 'MessageTooLarge';
  constructor(
    readonly queue: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`Message of ${bytes} bytes is larger than queue ${queue} accepts (${maxBytes}); store it as an artifact and send the key`);
  }
}

/** ChangeMessageVisibility on a message that is not in flight under that receipt handle. */
export class MessageNotInFlightError extends QueueServiceError {
  readonly code = 'MessageNotInFlight';
  constructor(readonly queue: string) {
    super(`The message is not in flight on queue ${queue} under that receipt handle`);
  }
}

export interface LocalQueueOptions {
  /** How long a received message stays hidden before it is delivered again. Fractions allowed locally. */
  visibilityTimeoutSeconds?: number;
  /** Queue-level delay for every new message. */
  delaySeconds?: number;
  /** Redrive: after this many receives, the next receive moves the message to `deadLetterQueue`. */
  maxReceiveCount?: number;
  /** Name or URL of an existing queue. */
  deadLetterQueue?: string;
  maximumMessageSizeBytes?: number;
}

interface ResolvedQueueOptions {
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  maxReceiveCount?: number;
  deadLetterQueue?: string;
  maximumMessageSizeBytes: number;
}

/** A received message, with the attributes SQS reports and Lambda puts in the event record. */
export interface LocalReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  attributes: {
    ApproximateReceiveCount: string;
    SentTimestamp: string;
    ApproximateFirstReceiveTimestamp: string;
    SenderId: string;
  };
}

export interface ReceiveOptions {
  /** 1–10. */
  maxMessages?: number;
  /** Overrides the queue's visibility timeout for these messages. */
  visibilityTimeoutSeconds?: number;
  /** Long polling: wait up to this long (0–20 s) for a message when none is visible. */
  waitTimeSeconds?: number;
  /** Ends a long poll early with no messages. */
  signal?: AbortSignal;
}

export interface QueueStats {
  /** ApproximateNumberOfMessages. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible. */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed. */
  delayed: number;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

interface Queue {
  name: string;
  options: ResolvedQueueOptions;
  messages: Map<string, StoredMessage>;
  byReceiptHandle: Map<string, string>;
  waiters: Set<() => void>;
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function resolveOptions(options: LocalQueueOptions): ResolvedQueueOptions {
  const resolved: ResolvedQueueOptions = {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
    delaySeconds: options.delaySeconds ?? 0,
    maximumMessageSizeBytes: options.maximumMessageSizeBytes ?? SQS_LIMITS.defaultMaxMessageBytes,
  };
  if (!(resolved.visibilityTimeoutSeconds >= 0 && resolved.visibilityTimeoutSeconds <= 43_200)) {
    throw new InvalidQueueOptionsError('visibilityTimeoutSeconds must be between 0 and 43200');
  }
  if (!(resolved.delaySeconds >= 0 && resolved.delaySeconds <= SQS_LIMITS.maxDelaySeconds)) {
    throw new InvalidQueueOptionsError('delaySeconds must be between 0 and 900');
  }
  if ((options.maxReceiveCount === undefined) !== (options.deadLetterQueue === undefined)) {
    throw new InvalidQueueOptionsError('maxReceiveCount and deadLetterQueue go together');
  }
  if (options.maxReceiveCount !== undefined) {
    if (!Number.isInteger(options.maxReceiveCount) || options.maxReceiveCount < 1 || options.maxReceiveCount > 1000) {
      throw new InvalidQueueOptionsError('maxReceiveCount must be a whole number from 1 to 1000');
    }
    resolved.maxReceiveCount = options.maxReceiveCount;
    resolved.deadLetterQueue = queueNameFromUrl(options.deadLetterQueue as string);
  }
  return resolved;
}

/** All local queues of one runtime. */
export class LocalQueues {
  private readonly queues = new Map<string, Queue>();

  /** Creates a queue (idempotent for the same options) and returns its local URL. */
  createQueue(name: string, options: LocalQueueOptions = {}): string {
    if (!QUEUE_NAME.test(name)) throw new InvalidQueueOptionsError(`Invalid queue name ${JSON.stringify(name)}`);
    const resolved = resolveOptions(options);
    if (resolved.deadLetterQueue !== undefined) {
      if (resolved.deadLetterQueue === name) throw new InvalidQueueOptionsError('A queue cannot be its own dead-letter queue');
      this.queue(resolved.deadLetterQueue);
    }
    const existing = this.queues.get(name);
    if (existing) {
      if (JSON.stringify(existing.options) !== JSON.stringify(resolved)) throw new QueueAlreadyExistsError(name);
      return localQueueUrl(name);
    }
    this.queues.set(name, { name, options: resolved, messages: new Map(), byReceiptHandle: new Map(), waiters: new Set() });
    return localQueueUrl(name);
  }

  hasQueue(reference: string): boolean {
    return this.queues.has(queueNameFromUrl(reference));
  }

  /** The ARN Lambda event records carry as eventSourceARN. */
  queueArn(reference: string): string {
    return `arn:aws:sqs:${localRegion()}:${LOCAL_ACCOUNT_ID}:${this.queue(reference).name}`;
  }

  send(reference: string, body: string, options: { delaySeconds?: number } = {}): { messageId: string; md5OfBody: string } {
    const queue = this.queue(reference);
    if (options.delaySeconds !== undefined) assertDelaySeconds(options.delaySeconds);
    const bytes = utf8ByteLength(body);
    if (bytes > queue.options.maximumMessageSizeBytes) {
      throw new MessageTooLargeError(queue.name, bytes, queue.options.maximumMessageSizeBytes);
    }
    const now = Date.now();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      sentTimestamp: now,
      receiveCount: 0,
      visibleAt: now + (options.delaySeconds ?? queue.options.delaySeconds) * 1000,
    };
    queue.messages.set(message.messageId, message);
    this.wake(queue);
    return { messageId: message.messageId, md5OfBody: message.md5OfBody };
  }

  async receive(reference: string, options: ReceiveOptions = {}): Promise<LocalReceivedMessage[]> {
    const queue = this.queue(reference);
    const maxMessages = options.maxMessages ?? 1;
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 10) {
      throw new InvalidQueueOptionsError('maxMessages must be a whole number from 1 to 10');
    }
    const waitTimeSeconds = options.waitTimeSeconds ?? 0;
    if (!(waitTimeSeconds >= 0 && waitTimeSeconds <= 20)) throw new InvalidQueueOptionsError('waitTimeSeconds must be between 0 and 20');
    const deadline = Date.now() + waitTimeSeconds * 1000;
    for (;;) {
      const taken = this.take(queue, maxMessages, options.visibilityTimeoutSeconds);
      if (taken.length > 0 || options.signal?.aborted) return taken;
      const now = Date.now();
      if (now >= deadline) return [];
      // Sleep until something is sent, a hidden message reappears, the wait ends, or we are aborted.
      const nextVisible = Math.min(...[...queue.messages.values()].map((m) => m.visibleAt).filter((t) => t > now));
      await this.waitForChange(queue, Math.min(deadline, nextVisible) - now, options.signal);
    }
  }

  /** Deletes the message received under this handle. A stale or unknown handle is ignored, like SQS. */
  delete(reference: string, receiptHandle: string): void {
    const queue = this.queue(reference);
    const messageId = queue.byReceiptHandle.get(receiptHandle);
    if (messageId === undefined) {
      logger.debug('Local queue delete ignored: receipt handle is not current', { queue: queue.name });
      return;
    }
    queue.byReceiptHandle.delete(receiptHandle);
    queue.messages.delete(messageId);
  }

  changeVisibility(reference: string, receiptHandle: string, visibilityTimeoutSeconds: number): void {
    const queue = this.queue(reference);
    if (!(visibilityTimeoutSeconds >= 0 && visibilityTimeoutSeconds <= 43_200)) {
      throw new InvalidQueueOptionsError('visibilityTimeoutSeconds must be between 0 and 43200');
    }
    const messageId = queue.byReceiptHandle.get(receiptHandle);
    const message = messageId === undefined ? undefined : queue.messages.get(messageId);
    if (!message || message.visibleAt <= Date.now()) throw new MessageNotInFlightError(queue.name);
    message.visibleAt = Date.now() + visibilityTimeoutSeconds * 1000;
    this.wake(queue);
  }

  stats(reference: string): QueueStats {
    const queue = this.queue(reference);
    const now = Date.now();
    const stats: QueueStats = { visible: 0, inFlight: 0, delayed: 0 };
    for (const message of queue.messages.values()) {
      if (message.visibleAt <= now) stats.visible++;
      else if (message.receiveCount > 0) stats.inFlight++;
      else stats.delayed++;
    }
    return stats;
  }

  purge(reference: string): void {
    const queue = this.queue(reference);
    queue.messages.clear();
    queue.byReceiptHandle.clear();
  }

  private queue(reference: string): Queue {
    const name = queueNameFromUrl(reference);
    const queue = this.queues.get(name);
    if (!queue) throw new QueueDoesNotExistError(reference);
    return queue;
  }

  private take(queue: Queue, maxMessages: number, visibilityOverride: number | undefined): LocalReceivedMessage[] {
    const now = Date.now();
    const taken: LocalReceivedMessage[] = [];
    for (const message of queue.messages.values()) {
      if (taken.length >= maxMessages) break;
      if (message.visibleAt > now) continue;
      const { maxReceiveCount, deadLetterQueue } = queue.options;
      // SQS redrives on the receive after the last allowed one, so a handler sees a message exactly maxReceiveCount times.
      if (maxReceiveCount !== undefined && deadLetterQueue !== undefined && message.receiveCount >= maxReceiveCount) {
        this.redrive(queue, message, deadLetterQueue);
        continue;
      }
      if (message.receiptHandle) queue.byReceiptHandle.delete(message.receiptHandle);
      message.receiveCount++;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + (visibilityOverride ?? queue.options.visibilityTimeoutSeconds) * 1000;
      message.receiptHandle = `${message.messageId}#${randomUUID()}`;
      queue.byReceiptHandle.set(message.receiptHandle, message.messageId);
      taken.push({
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        md5OfBody: message.md5OfBody,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentTimestamp),
          ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
          SenderId: LOCAL_ACCOUNT_ID,
        },
      });
    }
    return taken;
  }

  private redrive(queue: Queue, message: StoredMessage, deadLetterQueue: string): void {
    queue.messages.delete(message.messageId);
    if (message.receiptHandle) queue.byReceiptHandle.delete(message.receiptHandle);
    const target = this.queue(deadLetterQueue);
    target.messages.set(message.messageId, {
      messageId: message.messageId,
      body: message.body,
      md5OfBody: message.md5OfBody,
      sentTimestamp: message.sentTimestamp,
      receiveCount: 0,
      visibleAt: Date.now(),
    });
    logger.warn('Message moved to the dead-letter queue', {
      queue: queue.name,
      deadLetterQueue,
      messageId: message.messageId,
      receiveCount: message.receiveCount,
    });
    this.wake(target);
  }

  private wake(queue: Queue): void {
    for (const waiter of [...queue.waiters]) waiter();
  }

  private waitForChange(queue: Queue, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        queue.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      queue.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
