// EventPublisher over EventBridge PutEvents: batches of at most 10 entries, and when EventBridge
// accepts a call but refuses some entries, only those entries are sent again, a bounded number of times.
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { fullJitterDelay, sleep } from '../../domain/backoff';
import { logger } from '../../powertools';
import type { BusEvent, EventPublisher } from '../index';
import { eventBridgeClient } from './clients';
import {
  batchEventEntries,
  EVENT_SOURCE,
  type EventEntry,
  EventPublishError,
  type FailedEvent,
  toEventEntries,
} from '../event-entries';
import { type CellPortFactory, unconfigured } from './cell-ports';
import { AWS_PORTS_ENV } from './config';

export { EventPublishError, type FailedEvent } from '../event-entries';

export interface EventBridgePublisherOptions {
  eventBusName: string;
  source?: string;
  /** Total tries per entry, the first included. */
  maxAttempts?: number;
  /** Ceiling of the pause before the first retry (full jitter); doubled on each further retry, up to 5 s. */
  retryDelayMs?: number;
  /** Defaults to the process-wide traced client. */
  client?: EventBridgeClient;
}

const MAX_RETRY_DELAY_MS = 5_000;

export class EventBridgePublisher implements EventPublisher {
  private readonly eventBusName: string;
  private readonly source: string;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly client: () => EventBridgeClient;

  constructor(options: EventBridgePublisherOptions) {
    this.eventBusName = options.eventBusName;
    this.source = options.source ?? EVENT_SOURCE;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.client = options.client ? () => options.client as EventBridgeClient : eventBridgeClient;
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Every entry is checked before the first call, so an oversized event publishes nothing.
    const entries = toEventEntries(events, this.source);
    const failed: FailedEvent[] = [];
    for (const batch of batchEventEntries(entries)) {
      failed.push(...(await this.publishBatch(batch)));
    }
    if (failed.length > 0) throw new EventPublishError(failed);
  }

  /** Sends one batch, retrying the refused entries; returns those still refused at the end. */
  private async publishBatch(batch: EventEntry[]): Promise<FailedEvent[]> {
    let pending = batch;
    let refused: FailedEvent[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(fullJitterDelay(attempt - 1, { baseDelayMs: this.retryDelayMs, maxDelayMs: MAX_RETRY_DELAY_MS }));
      const response = await this.client().send(
        new PutEventsCommand({ Entries: pending.map((entry) => this.requestEntry(entry)) }),
      );
      if (!response.FailedEntryCount) return [];
      // Result entries line up with request entries; a failed one carries an ErrorCode.
      const results = response.Entries ?? [];
      const retry: EventEntry[] = [];
      refused = [];
      pending.forEach((entry, index) => {
        const result = results[index];
        if (result?.ErrorCode || !result?.EventId) {
          retry.push(entry);
          refused.push({
            eventId: entry.eventId,
            errorCode: result?.ErrorCode ?? 'Unknown',
            errorMessage: result?.ErrorMessage,
          });
        }
      });
      logger.warn('EventBridge refused some entries', { attempt, refused });
      pending = retry;
    }
    return refused;
  }

  private requestEntry(entry: EventEntry): PutEventsRequestEntry {
    return {
      EventBusName: this.eventBusName,
      Source: entry.Source,
      DetailType: entry.DetailType,
      Detail: entry.Detail,
      Time: entry.Time,
    };
  }
}

/** The events port of a function that appends domain events (EVENT_BUS_NAME). */
export const cellPort: CellPortFactory<'events'> = ({ config }) =>
  config.eventBusName
    ? new EventBridgePublisher({ eventBusName: config.eventBusName })
    : unconfigured('events', AWS_PORTS_ENV.eventBusName);
