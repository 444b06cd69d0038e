// Records domain events: append to the goal's log (the audit trail), then publish on the bus.
// Publication is at-least-once through the store's outbox: an event whose publish fails stays
// unpublished and `publishPendingEvents` sends it later. Consumers dedupe on eventId.
import type { Actor, EventEnvelope, EventType } from '../domain/events';
import { ulidFor } from '../domain/ids';
import { logger } from '../powertools';
import type { Runtime } from '../runtime';
import { currentInvocationMeter, goalStream, projectStream, type EventStream } from '../store/index';

export interface GoalEventInput {
  type: EventType;
  goal: { id: string; projectId: string };
  taskId?: string;
  actor?: Actor;
  data?: Record<string, unknown>;
  /**
   * Makes the append idempotent: a step that may run twice (redelivery, Lambda retry) passes a
   * key unique to what happened, e.g. `<runId>:started`, and the repeat writes nothing.
   */
  idempotencyKey?: string;
}

export const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'pipeline' };

// Idempotency keys hash into the ULID's random part; the time part is fixed so that a repeat
// derives exactly the same id whenever it runs.
const IDEMPOTENT_EVENT_EPOCH_MS = Date.UTC(2026, 0, 1);

/** The event id a goal event recorded under `idempotencyKey` gets, the same on every repeat. */
export function idempotentEventId(goalId: string, idempotencyKey: string): string {
  return ulidFor(`${goalId}:${idempotencyKey}`, IDEMPOTENT_EVENT_EPOCH_MS);
}

/** Whether the goal's log already holds the event recorded under `idempotencyKey`. */
export async function hasRecorded(runtime: Runtime, goal: { id: string }, idempotencyKey: string): Promise<boolean> {
  return (await runtime.store.events.findByEventId(goalStream(goal.id), idempotentEventId(goal.id, idempotencyKey))) !== undefined;
}

export async function recordGoalEvent(runtime: Runtime, input: GoalEventInput): Promise<EventEnvelope> {
  const stream = goalStream(input.goal.id);
  const { event, appended } = await runtime.store.events.append(stream, {
    type: input.type,
    actor: input.actor ?? SYSTEM_ACTOR,
    correlationId: input.goal.id,
    projectId: input.goal.projectId,
    goalId: input.goal.id,
    ...(input.taskId ? { taskId: input.taskId } : {}),
    ...(input.idempotencyKey ? { eventId: idempotentEventId(input.goal.id, input.idempotencyKey) } : {}),
    data: input.data ?? {},
  });
  if (appended) await publish(runtime, stream, event);
  return event;
}

async function publish(runtime: Runtime, stream: EventStream, event: EventEnvelope): Promise<void> {
  try {
    await runtime.ports.events.publish([event]);
    const meter = currentInvocationMeter();
    if (meter) meter.busEvents += 1;
    await runtime.store.events.markPublished(stream, event.seq);
  } catch (error) {
    // The event is safe in the log; the outbox sweep publishes it later.
    logger.warn('event publication deferred to the outbox sweep', { eventId: event.eventId, type: event.type, error: error as Error });
  }
}

/** Publishes events whose publication failed earlier. Returns how many were published. */
export async function publishPendingEvents(runtime: Runtime, limit = 100): Promise<number> {
  const pending = await runtime.store.events.listUnpublished(limit);
  let published = 0;
  for (const { stream, event } of pending) {
    await runtime.ports.events.publish([event]);
    const meter = currentInvocationMeter();
    if (meter) meter.busEvents += 1;
    await runtime.store.events.markPublished(stream, event.seq);
    published++;
  }
  return published;
}

export { projectStream };
