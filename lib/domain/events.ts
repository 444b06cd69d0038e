// The event envelope every domain event shares and the list of event type names. The event log
// stores these; the bus publishes them (detail-type = `type`); consumers dedupe on `eventId`.
import * as z from 'zod';
import { IsoTimestampSchema } from './common';
import { EventIdSchema, GoalIdSchema, ProjectIdSchema, TaskIdSchema } from './ids';
import { AgentRoleSchema } from './settings';

/** The `source` of every Cahoots event on the bus; rules match on it (here so infra can name it too). */
export const EVENT_SOURCE = 'cahoots';

/** Every event type, in one place. Add new names here; nothing else lists them. */
export const EVENT_TYPES = [
  'Project.Created',
  'Project.SettingsChanged',
  'Goal.Created',
  'Goal.Started',
  'Goal.Planned',
  'Goal.AwaitingApproval',
  'Goal.Approved',
  'Goal.Rejected',
  'Goal.Blocked',
  'Goal.Cancelled',
  'Goal.Completed',
  'Goal.Failed',
  'Goal.Resumed',
  'Task.Created',
  'Task.Dispatched',
  'Task.Started',
  'Task.Succeeded',
  'Task.Failed',
  'Task.Blocked',
  'Task.Retried',
  'Task.Cancelled',
  'Task.Continued',
  'Review.Verdict',
  'Qa.Result',
  'Rework.Requested',
  'Merge.Conflict',
  'Model.Called',
  'Model.Fallback',
  'Agent.Stuck',
  'Agent.FinishRejected',
  'Budget.Exceeded',
  'Budget.Raised',
  'Delivery.Created',
  'Delivery.Merged',
  'Delivery.Closed',
  'Lesson.Learned',
  'Finding.Detected',
  'Finding.Dismissed',
  'Finding.Reopened',
  'Finding.Resolved',
  'Detection.Completed',
  'Detection.Failed',
  'Webhook.Ignored',
] as const;
export const EventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventTypeSchema>;

export const ACTOR_KINDS = ['user', 'agent', 'system', 'scheduler', 'webhook'] as const;

/** Who caused the event: a user (IAM principal / JWT subject), an agent run, or the system. */
export const ActorSchema = z.object({
  kind: z.enum(ACTOR_KINDS),
  id: z.string().min(1).max(200),
  role: AgentRoleSchema.optional(),
});
export type Actor = z.infer<typeof ActorSchema>;

/** Serialized `data` above this size is refused; a large payload belongs in S3 with a key here. */
export const MAX_EVENT_DATA_BYTES = 64 * 1024;

const EventDataSchema = z
  .record(z.string(), z.unknown())
  .refine((d) => Buffer.byteLength(JSON.stringify(d), 'utf8') <= MAX_EVENT_DATA_BYTES, {
    message: `event data must serialize to at most ${MAX_EVENT_DATA_BYTES} bytes`,
  });

export const EventEnvelopeSchema = z.object({
  eventId: EventIdSchema,
  type: EventTypeSchema,
  at: IsoTimestampSchema,
  actor: ActorSchema,
  /** Ties together everything one request or execution caused (usually the goal id). */
  correlationId: z.string().min(1).max(200),
  projectId: ProjectIdSchema,
  goalId: GoalIdSchema.optional(),
  taskId: TaskIdSchema.optional(),
  /** Position in its stream (goal or project), 1-based and gap-free. */
  seq: z.number().int().min(1),
  data: EventDataSchema,
});
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/**
 * What a writer hands the event log. `seq` is assigned by the log. Pass `eventId` when the
 * caller may retry the whole operation (mint it before the retry loop, or derive it from the
 * message being handled) — a repeated eventId is what makes the retry a no-op.
 */
export const NewEventSchema = EventEnvelopeSchema.omit({ seq: true, eventId: true, at: true, data: true }).extend({
  eventId: EventIdSchema.optional(),
  at: IsoTimestampSchema.optional(),
  data: EventDataSchema.default({}),
});
export type NewEvent = z.input<typeof NewEventSchema>;
