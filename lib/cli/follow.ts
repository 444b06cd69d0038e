// Reads a goal's event log forward from a sequence number, page by page, the way any API client
// follows a goal: GET /goals/{id}/events?after=<lastSeq> until nothing more is waiting.
import type { EventEnvelope } from '../domain/events';
import type { CahootsApiClient } from './api-client';

export class EventFollower {
  private cursor: number;
  readonly seen: EventEnvelope[] = [];

  constructor(
    private readonly client: CahootsApiClient,
    readonly goalId: string,
    after = 0,
    /** Keep every event read in `seen` (for the end-of-run summary). */
    private readonly keep = false,
  ) {
    this.cursor = after;
  }

  get lastSeq(): number {
    return this.cursor;
  }

  /** Every event appended since the last call. */
  async next(): Promise<EventEnvelope[]> {
    const fresh: EventEnvelope[] = [];
    for (;;) {
      const page = await this.client.listEvents(this.goalId, this.cursor, 100);
      fresh.push(...page.items);
      this.cursor = page.lastSeq;
      if (!page.hasMore || page.items.length === 0) break;
    }
    if (this.keep) this.seen.push(...fresh);
    return fresh;
  }
}

