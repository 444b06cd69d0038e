// Records detection's events on the project's log (the audit trail) and publishes them on the bus,
// at least once through the outbox like goal events. Each event's id derives from the run and what
// happened, so a retried step appends nothing twice.
import type { Actor, EventType } from '../domain/events';
import { ulidFor } from '../domain/ids';
import { logger } from '../powertools';
import type { Runtime } from '../runtime';
import { projectStream } from '../store/index';

export const DETECTION_ACTOR: Actor = { kind: 'system', id: 'detection' };
const IDEMPOTENT_EVENT_EPOCH_MS = Date.UTC(2026, 0, 1);

export async function recordProjectEvent(
  runtime: Runtime,
  input: { projectId: string; type: EventType; idempotencyKey: string; correlationId: string; data: Record<string, unknown>; actor?: Actor; goalId?: string },
): Promise<void> {
  const stream = projectStream(input.projectId);
  const { event, appended } = await runtime.store.events.append(stream, {
    type: input.type,
    actor: input.actor ?? DETECTION_ACTOR,
    correlationId: input.correlationId,
    projectId: input.projectId,
    ...(input.goalId ? { goalId: input.goalId } : {}),
    eventId: ulidFor(`${input.projectId}:${input.idempotencyKey}`, IDEMPOTENT_EVENT_EPOCH_MS),
    data: input.data,
  });
  if (!appended) return;
  try {
    await runtime.ports.events.publish([event]);
    await runtime.store.events.markPublished(stream, event.seq);
  } catch (error) {
    logger.warn('event publication deferred to the outbox sweep', { eventId: event.eventId, type: event.type, error: error as Error });
  }
}
