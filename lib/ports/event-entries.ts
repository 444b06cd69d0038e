// How a domain event becomes an EventBridge entry, shared by the AWS publisher and the local bus so
// rules see the same `source`, `detail-type` and `detail` in both places. No SDK import here.
import * as z from 'zod';
import type { BusEvent } from './index';
import { EVENTBRIDGE_LIMITS, eventBridgeEntrySize, EventTooLargeError } from './service-rules';
import { PortError } from './errors';
import { EVENT_SOURCE } from '../domain/events';

export { EVENT_SOURCE };

const BusEventSchema = z.looseObject({
  eventId: z.string().min(1),
  type: z.string().min(1).max(128),
  projectId: z.string().min(1),
  goalId: z.string().min(1).optional(),
  at: z.string().optional(),
});

/** One PutEvents entry plus the event id it carries, so failures can be reported by id. */
export interface EventEntry {
  eventId: string;
  Source: string;
  DetailType: string;
  Detail: string;
  Time?: Date;
  size: number;
}

/**
 * Validates the events and turns them into entries: DetailType is the event type, Detail the whole
 * event as JSON, Time the event's `at` when it is a timestamp (so archive replays keep the timeline).
 * Throws EventTooLargeError before anything is sent if one entry exceeds EventBridge's limit.
 */
export function toEventEntries(events: readonly BusEvent[], source: string = EVENT_SOURCE): EventEntry[] {
  return events.map((raw) => {
    const event = BusEventSchema.parse(raw);
    const at = event.at ? new Date(event.at) : undefined;
    const entry: EventEntry = {
      eventId: event.eventId,
      Source: source,
      DetailType: event.type,
      Detail: JSON.stringify(raw),
      size: 0,
    };
    if (at && !Number.isNaN(at.getTime())) entry.Time = at;
    entry.size = eventBridgeEntrySize(entry);
    if (entry.size > EVENTBRIDGE_LIMITS.maxEntryBytes) throw new EventTooLargeError(entry.eventId, entry.size);
    return entry;
  });
}

/** Groups entries into PutEvents calls: at most 10 entries and 256 KB per call, order kept. */
export function batchEventEntries(entries: readonly EventEntry[]): EventEntry[][] {
  const batches: EventEntry[][] = [];
  let current: EventEntry[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    const full =
      current.length === EVENTBRIDGE_LIMITS.entriesPerCall ||
      currentBytes + entry.size > EVENTBRIDGE_LIMITS.maxRequestBytes;
    if (full && current.length > 0) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += entry.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface FailedEvent {
  eventId: string;
  errorCode: string;
  errorMessage?: string;
}

/** Some events were still refused after the retries; the rest of the call's events were published. */
export class EventPublishError extends PortError {
  readonly code = 'EventPublish';
  /** EventBridge refused entries it may accept on a later call (throttling, an internal failure). */
  override readonly permanent = false;
  constructor(readonly failed: readonly FailedEvent[]) {
    super(
      `EventBridge refused ${failed.length} event(s): ` +
        failed.map((f) => `${f.eventId} (${f.errorCode}${f.errorMessage ? `: ${f.errorMessage}` : ''})`).join(', '),
    );
  }
}
