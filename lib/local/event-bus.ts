// The in-process event bus: EventBridge-style rules (validated event patterns) with target callbacks
// that receive the same envelope an EventBridge → Lambda target gets. Delivery is asynchronous and a
// failing target is logged, never thrown at the publisher, as with EventBridge.
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { logger } from '../powertools';
import type { BusEvent, EventPublisher } from '../ports/index';
import { EVENT_SOURCE, EventPublishError, toEventEntries } from '../ports/event-entries';
import { EVENTBRIDGE_LIMITS, eventBridgeEntrySize } from '../ports/service-rules';
import { createLambdaContext, LOCAL_ACCOUNT_ID, localRegion } from './lambda-context';
import { type EventPattern, matchesEventPattern, validateEventPattern } from './event-pattern';

export type BusEnvelope = EventBridgeEvent<string, unknown>;

/** A rule target: any function with a Lambda handler's shape. */
export type BusTarget = (event: BusEnvelope, context: Context) => unknown;

/** A PutEvents entry as the local bus accepts it. */
export interface LocalPutEventsEntry {
  Source: string;
  DetailType: string;
  /** JSON text of an object, as in EventBridge. */
  Detail: string;
  Time?: Date;
  Resources?: string[];
}

export type LocalPutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

interface Rule {
  name: string;
  pattern: EventPattern;
  targets: BusTarget[];
}

export class LocalEventBus {
  readonly name: string;
  private readonly rules = new Map<string, Rule>();
  private readonly deliveries = new Set<Promise<void>>();

  constructor(options: { name?: string } = {}) {
    this.name = options.name ?? 'cahoots-local';
  }

  /** Adds or replaces a rule. The pattern is validated here, as PutRule would. */
  putRule(name: string, pattern: unknown, targets: BusTarget | BusTarget[]): void {
    validateEventPattern(pattern);
    this.rules.set(name, { name, pattern, targets: Array.isArray(targets) ? targets : [targets] });
  }

  removeRule(name: string): boolean {
    return this.rules.delete(name);
  }

  /** Accepts entries and schedules delivery to matching rules' targets; returns before any target runs. */
  putEvents(entries: readonly LocalPutEventsEntry[]): { FailedEntryCount: number; Entries: LocalPutEventsResultEntry[] } {
    const results = entries.map((entry): LocalPutEventsResultEntry => {
      const refusal = this.refusal(entry);
      if (refusal) return refusal;
      const envelope: BusEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: LOCAL_ACCOUNT_ID,
        time: (entry.Time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: localRegion(),
        resources: entry.Resources ?? [],
        detail: JSON.parse(entry.Detail) as unknown,
      };
      this.dispatch(envelope);
      return { EventId: envelope.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Resolves when every delivery scheduled so far (and any they cause) has finished. */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  private refusal(entry: LocalPutEventsEntry): LocalPutEventsResultEntry | undefined {
    if (eventBridgeEntrySize(entry) > EVENTBRIDGE_LIMITS.maxEntryBytes) {
      return { ErrorCode: 'EntrySizeExceeded', ErrorMessage: 'Entry is larger than 256 KB' };
    }
    try {
      const detail = JSON.parse(entry.Detail) as unknown;
      if (typeof detail === 'object' && detail !== null && !Array.isArray(detail)) return undefined;
    } catch {
      // fall through: not JSON
    }
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not a JSON object' };
  }

  private dispatch(envelope: BusEnvelope): void {
    for (const rule of this.rules.values()) {
      if (!matchesEventPattern(rule.pattern, envelope)) continue;
      for (const target of rule.targets) {
        // Each target gets its own copy, so one target cannot change what another sees.
        const event = structuredClone(envelope);
        const delivery = new Promise<void>((resolve) => setImmediate(resolve))
          .then(() => target(event, createLambdaContext({ functionName: `rule-${rule.name}` })))
          .then(
            () => undefined,
            (error: unknown) => {
              logger.error('Event bus target failed', {
                rule: rule.name,
                eventId: envelope.id,
                detailType: envelope['detail-type'],
                error,
              });
            },
          )
          .finally(() => this.deliveries.delete(delivery));
        this.deliveries.add(delivery);
      }
    }
  }
}

/** EventPublisher over the local bus: the same entries (source, detail-type, detail) as in AWS. */
export class LocalEventPublisher implements EventPublisher {
  constructor(
    private readonly bus: LocalEventBus,
    private readonly source: string = EVENT_SOURCE,
  ) {}

  async publish(events: readonly BusEvent[]): Promise<void> {
    if (events.length === 0) return;
    const entries = toEventEntries(events, this.source);
    const result = this.bus.putEvents(entries);
    const failed = result.Entries.flatMap((entry, index) =>
      'ErrorCode' in entry ? [{ eventId: entries[index]?.eventId ?? '?', errorCode: entry.ErrorCode, errorMessage: entry.ErrorMessage }] : [],
    );
    if (failed.length > 0) throw new EventPublishError(failed);
  }
}
