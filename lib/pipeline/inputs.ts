// zod schemas of what the state machine hands each pipeline step. The state machine passes ids
// only (never payloads), so these stay small.
import * as z from 'zod';
import { GoalIdSchema, ProjectIdSchema, TaskIdSchema } from '../domain/ids';
import { AgentRoleSchema } from '../domain/settings';
import { InvalidStepInputError } from './errors';

export const GoalStepInputSchema = z.object({ goalId: GoalIdSchema, projectId: ProjectIdSchema });
export type GoalStepInput = z.infer<typeof GoalStepInputSchema>;

export const StartGoalInputSchema = GoalStepInputSchema.extend({ executionId: z.string().min(1).max(2048) });
export type StartGoalInput = z.infer<typeof StartGoalInputSchema>;

/** The `{Error, Cause}` object a Catch puts at ResultPath. */
export const CaughtErrorSchema = z.object({ Error: z.string().max(256), Cause: z.string().max(32_768).optional() });
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

const LambdaErrorCauseSchema = z.object({ errorMessage: z.string() });

/**
 * The words of a caught error. A failed Lambda task's Cause is the JSON Lambda reports
 * (`{"errorType","errorMessage","trace"}`); a person wants its message, not the stack.
 */
export function caughtErrorMessage(error: CaughtError): string | undefined {
  if (error.Cause === undefined) return undefined;
  try {
    const parsed = LambdaErrorCauseSchema.safeParse(JSON.parse(error.Cause));
    if (parsed.success) return parsed.data.errorMessage;
  } catch {
    // Not JSON: a Cause written by a person or by Step Functions itself.
  }
  return error.Cause;
}

export const RecordTaskFailureInputSchema = z.object({ goalId: GoalIdSchema, taskId: TaskIdSchema, error: CaughtErrorSchema });
export type RecordTaskFailureInput = z.infer<typeof RecordTaskFailureInputSchema>;

export const EndGoalInputSchema = GoalStepInputSchema.extend({
  outcome: z.enum(['FAILED', 'CANCELLED']),
  error: CaughtErrorSchema.optional(),
});
export type EndGoalInput = z.infer<typeof EndGoalInputSchema>;

export const APPROVAL_KINDS = ['plan', 'delivery', 'budget'] as const;
export const RequestApprovalInputSchema = z.object({
  taskToken: z.string().min(1).max(8192),
  goalId: GoalIdSchema,
  kind: z.enum(APPROVAL_KINDS),
  taskId: TaskIdSchema.optional(),
});
export type RequestApprovalInput = z.infer<typeof RequestApprovalInputSchema>;

/** A task as the state machine dispatches it: enough to address its role queue, nothing more. */
export const TaskRefSchema = z.object({ taskId: TaskIdSchema, role: AgentRoleSchema, queueUrl: z.string().min(1) });
export type TaskRef = z.infer<typeof TaskRefSchema>;

/** The message on a role queue: the task token to answer and the task to work. */
export const AgentMessageSchema = z.object({
  taskToken: z.string().min(1).max(8192),
  goalId: GoalIdSchema,
  taskId: TaskIdSchema,
  role: AgentRoleSchema,
  /** Present on a continuation: the run that checkpointed, and where its checkpoint is. */
  runId: z.string().min(1).max(64).optional(),
  checkpointKey: z.string().min(1).max(1024).optional(),
});
export type AgentMessage = z.infer<typeof AgentMessageSchema>;

/** Parses a step input, turning zod issues into one readable InvalidStepInputError. */
export function parseStepInput<S extends z.ZodType>(schema: S, input: unknown, step: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
  throw new InvalidStepInputError(`${step} received invalid input: ${issues}`);
}
