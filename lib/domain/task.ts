// A task: one unit of work for one agent role inside a goal, with its attempts, model tier and
// the outputs the agent reported. Also turns a validated plan into stored tasks.
import * as z from 'zod';
import {
  BranchNameSchema,
  CommitShaSchema,
  FailureCauseSchema,
  IsoTimestampSchema,
  LIMITS,
  RepoRelativePathSchema,
  TitleSchema,
  VersionSchema,
} from './common';
import { AgentRunIdSchema, GoalIdSchema, ProjectIdSchema, TaskIdSchema, taskIdFor } from './ids';
import { PlanTaskKeySchema, TaskKindSchema, type Plan } from './plan';
import { AgentRoleSchema } from './settings';
import { StatusSchema } from './status';

export const REVIEW_VERDICTS = ['approved', 'changes-requested', 'rejected'] as const;
export const ReviewVerdictSchema = z.enum(REVIEW_VERDICTS);
export type ReviewVerdict = z.infer<typeof ReviewVerdictSchema>;

export const ReviewCommentSchema = z.object({
  file: RepoRelativePathSchema.optional(),
  line: z.number().int().min(1).optional(),
  severity: z.enum(['info', 'minor', 'major', 'blocker']),
  body: z.string().min(1).max(LIMITS.message),
});

export const TestResultsSchema = z.object({
  command: z.string().max(500).optional(),
  passed: z.number().int().min(0),
  failed: z.number().int().min(0),
  skipped: z.number().int().min(0),
  durationMs: z.number().int().min(0).optional(),
  summary: z.string().max(LIMITS.summary).optional(),
});
export type TestResults = z.infer<typeof TestResultsSchema>;

/** One failing test or unmet acceptance criterion, as QA reports it. */
export const TestFailureSchema = z.object({
  test: z.string().trim().min(1).max(500).describe('Test name, or the acceptance criterion that is not met'),
  message: z.string().trim().min(1).max(LIMITS.message).describe('What went wrong, as the runner reported it'),
  file: RepoRelativePathSchema.optional(),
});
export type TestFailure = z.infer<typeof TestFailureSchema>;

export const TaskOutputsSchema = z.object({
  summary: z.string().max(LIMITS.summary).optional(),
  branch: BranchNameSchema.optional(),
  commits: z.array(CommitShaSchema).max(200).optional(),
  filesChanged: z.array(RepoRelativePathSchema).max(1000).optional(),
  testResults: TestResultsSchema.optional(),
  /** QA: each failing test or unmet criterion it reported. */
  failures: z.array(TestFailureSchema).max(100).optional(),
  review: z
    .object({
      verdict: ReviewVerdictSchema,
      comments: z.array(ReviewCommentSchema).max(100),
    })
    .optional(),
});
export type TaskOutputs = z.infer<typeof TaskOutputsSchema>;

/**
 * Why a rework task exists: one quality-gate agent's findings, kept as data. It reaches the
 * developer's prompt as an untrusted block (it quotes model output and repository text), never
 * pasted into the task's spec.
 */
export const ReworkFeedbackSchema = z.object({
  from: z.enum(['reviewer', 'qa']),
  /** The gate task that reported it. */
  taskId: TaskIdSchema.optional(),
  summary: z.string().max(LIMITS.summary),
  verdict: ReviewVerdictSchema.optional(),
  comments: z.array(ReviewCommentSchema).max(100).optional(),
  testResults: TestResultsSchema.optional(),
  failures: z.array(TestFailureSchema).max(100).optional(),
});
export type ReworkFeedback = z.infer<typeof ReworkFeedbackSchema>;

/** How far up a role's model list (cheap → strong) a task has escalated. */
export const ModelTierSchema = z.number().int().min(0).max(7);

export const TaskSchema = z.object({
  id: TaskIdSchema,
  goalId: GoalIdSchema,
  projectId: ProjectIdSchema,
  /** The planner's name for the task; rework and conflict tasks get their own. */
  planKey: PlanTaskKeySchema,
  role: AgentRoleSchema,
  kind: TaskKindSchema,
  title: TitleSchema,
  spec: z.string().min(1).max(LIMITS.spec),
  acceptanceCriteria: z.array(z.string().min(1).max(LIMITS.criterion)).max(30),
  dependsOn: z.array(TaskIdSchema).max(50),
  status: StatusSchema,
  /** Agent attempts started so far (a claim increments it). */
  attempts: z.number().int().min(0).max(20),
  modelTier: ModelTierSchema,
  /** The run that holds the task while it is RUNNING; a second claim by another run is refused. */
  runId: AgentRunIdSchema.optional(),
  /**
   * Digest of the task token the holding run answers. A dispatch with another token means the
   * state machine gave up on the holder (heartbeat timeout) and retried, so the new run takes over.
   */
  dispatch: z.string().min(1).max(64).optional(),
  /** For rework tasks: the task whose output is being reworked. */
  reworkOf: TaskIdSchema.optional(),
  /** For rework tasks: what the reviewer and QA asked for, one entry per gate agent. */
  feedback: z.array(ReworkFeedbackSchema).min(1).max(2).optional(),
  outputs: TaskOutputsSchema.optional(),
  failureCause: FailureCauseSchema.optional(),
  createdAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
  startedAt: IsoTimestampSchema.optional(),
  completedAt: IsoTimestampSchema.optional(),
  version: VersionSchema,
});
export type Task = z.infer<typeof TaskSchema>;

/**
 * Stored tasks for a validated plan. Ids are deterministic per (goal, plan key, revision) so a
 * retried materialisation writes the same items; `revision` distinguishes a re-plan of a goal.
 */
export function tasksFromPlan(
  plan: Plan,
  goal: { id: string; projectId: string },
  options: { now?: string; revision?: number } = {},
): Task[] {
  const now = options.now ?? new Date().toISOString();
  const idOf = new Map(plan.tasks.map((t) => [t.id, taskIdFor(goal.id, t.id, options.revision ?? 0)]));
  return plan.tasks.map((t) =>
    TaskSchema.parse({
      id: idOf.get(t.id),
      goalId: goal.id,
      projectId: goal.projectId,
      planKey: t.id,
      role: t.role,
      kind: t.kind,
      title: t.title,
      spec: t.spec,
      acceptanceCriteria: t.acceptanceCriteria,
      dependsOn: t.dependsOn.map((d) => idOf.get(d)),
      status: 'PENDING',
      attempts: 0,
      modelTier: 0,
      createdAt: now,
      updatedAt: now,
      version: 1,
    }),
  );
}

/** What a pipeline step decides about a task it adds to a goal; the rest is filled in here. */
export interface NewTaskFields {
  planKey: string;
  role: Task['role'];
  kind: Task['kind'];
  title: string;
  spec: string;
  acceptanceCriteria: string[];
  dependsOn?: string[];
  reworkOf?: string;
  feedback?: ReworkFeedback[];
}

/**
 * A new PENDING task of `goal` whose id derives from its plan key, so a step that adds it twice
 * (a retry) writes the same item. Titles and specs are clipped to their limits.
 */
export function newGoalTask(goal: { id: string; projectId: string }, fields: NewTaskFields, now: string = new Date().toISOString()): Task {
  return TaskSchema.parse({
    id: taskIdFor(goal.id, fields.planKey),
    goalId: goal.id,
    projectId: goal.projectId,
    planKey: fields.planKey,
    role: fields.role,
    kind: fields.kind,
    title: fields.title.slice(0, LIMITS.title),
    spec: fields.spec.slice(0, LIMITS.spec),
    acceptanceCriteria: fields.acceptanceCriteria.slice(0, 30).map((c) => c.slice(0, LIMITS.criterion)),
    dependsOn: fields.dependsOn ?? [],
    status: 'PENDING',
    attempts: 0,
    modelTier: 0,
    ...(fields.reworkOf ? { reworkOf: fields.reworkOf } : {}),
    ...(fields.feedback?.length ? { feedback: fields.feedback } : {}),
    createdAt: now,
    updatedAt: now,
    version: 1,
  } satisfies Task);
}
