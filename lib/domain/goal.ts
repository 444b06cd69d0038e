// A goal: one piece of work the team was given or found, from intake to delivery, with its
// approval state and the cost it has run up. Also the API input that creates one.
import * as z from 'zod';
import { BranchNameSchema, CommitShaSchema, FailureCauseSchema, IsoTimestampSchema, LIMITS, TitleSchema, UsdSchema, VersionSchema } from './common';
import { GoalIdSchema, ProjectIdSchema } from './ids';
import { RiskSchema } from './plan';
import { AutonomyLevelSchema, PrioritySchema, type Budgets } from './settings';
import { StatusSchema } from './status';

export const GOAL_SOURCES = ['api', 'detection', 'webhook'] as const;
export const GoalSourceSchema = z.enum(GOAL_SOURCES);
export type GoalSource = z.infer<typeof GoalSourceSchema>;

export const APPROVAL_STATES = ['not-required', 'pending', 'approved', 'rejected', 'timed-out'] as const;
export const APPROVAL_STAGES = ['plan', 'delivery', 'budget'] as const;

/** The limits a goal's spend is held to: its own, and its project's day and month. */
export const BUDGET_SCOPES = ['goal', 'project-daily', 'project-monthly'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

/** The project setting each project-wide scope reads; the goal's own limit lives on the goal. */
export const PROJECT_BUDGET_FIELD = {
  'project-daily': 'perProjectDailyUsd',
  'project-monthly': 'perProjectMonthlyUsd',
} as const satisfies Record<Exclude<BudgetScope, 'goal'>, keyof Budgets>;

/** One limit and what has been spent against it (today, this month, or by the goal). */
export const BudgetStandingSchema = z.object({
  scope: z.enum(BUDGET_SCOPES),
  limitUsd: UsdSchema,
  spentUsd: UsdSchema,
});
export type BudgetStanding = z.infer<typeof BudgetStandingSchema>;

/**
 * Where the goal stands with its human gate. `taskToken` is the Step Functions token the
 * approval call answers; it is kept here (not in the event log) because only the API needs it.
 */
export const ApprovalSchema = z.object({
  state: z.enum(APPROVAL_STATES),
  stage: z.enum(APPROVAL_STAGES).optional(),
  requestedAt: IsoTimestampSchema.optional(),
  decidedAt: IsoTimestampSchema.optional(),
  decidedBy: z.string().min(1).max(200).optional(),
  comment: z.string().max(LIMITS.message).optional(),
  taskToken: z.string().min(1).max(8192).optional(),
  /**
   * Further tokens waiting on the same gate, e.g. parallel tasks that all ran out of budget; one
   * decision answers them all.
   */
  waitingTokens: z.array(z.string().min(1).max(8192)).max(50).optional(),
  /**
   * Budget gates: the limit that stopped the goal. Approving with `budgetUsd` raises this limit,
   * so a gate reached on the project's daily budget lifts that budget, not the goal's.
   */
  budget: BudgetStandingSchema.optional(),
});
export type Approval = z.infer<typeof ApprovalSchema>;

export const LabelSchema = z
  .string()
  .min(1)
  .max(LIMITS.label)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:/-]*$/, { message: 'label may contain letters, digits, space . _ : / -' });

export const DELIVERY_KINDS = ['branch', 'pull-request'] as const;

/** Where a goal's work went: the published branch, and the pull request when one was opened. */
export const GoalDeliverySchema = z.object({
  kind: z.enum(DELIVERY_KINDS),
  branch: BranchNameSchema,
  /** The commit the branch was published at. */
  sha: CommitShaSchema,
  /** Commits on the branch that the default branch lacks. */
  commits: z.number().int().min(0),
  url: z.url().max(2048).optional(),
  number: z.number().int().min(1).optional(),
  deliveredAt: IsoTimestampSchema,
});
export type GoalDelivery = z.infer<typeof GoalDeliverySchema>;

export const GoalSchema = z.object({
  id: GoalIdSchema,
  projectId: ProjectIdSchema,
  title: TitleSchema,
  description: z.string().max(LIMITS.description),
  source: GoalSourceSchema,
  /** What produced the goal: a finding fingerprint, an issue URL, a webhook delivery id. */
  sourceRef: z.string().min(1).max(1000).optional(),
  priority: PrioritySchema,
  status: StatusSchema,
  labels: z.array(LabelSchema).max(20),
  autonomyOverride: AutonomyLevelSchema.optional(),
  budgetOverrideUsd: UsdSchema.optional(),
  /** The goal branch, `cahoots/<goalId>`, that task branches merge into. */
  branch: BranchNameSchema,
  planSummary: z.string().max(LIMITS.summary).optional(),
  risk: RiskSchema.optional(),
  /** Spend so far. Maintained by an atomic ADD in the store, never by read-modify-write. */
  costUsd: z.number().nonnegative(),
  reworkRounds: z.number().int().min(0).max(100),
  failureCause: FailureCauseSchema.optional(),
  /** Set by Deliver; a later delivery of the same goal (rework) replaces it. */
  delivery: GoalDeliverySchema.optional(),
  approval: ApprovalSchema,
  /** The pipeline execution (Step Functions ARN or local execution id) running this goal. */
  executionId: z.string().min(1).max(2048).optional(),
  createdAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
  startedAt: IsoTimestampSchema.optional(),
  completedAt: IsoTimestampSchema.optional(),
  version: VersionSchema,
});
export type Goal = z.infer<typeof GoalSchema>;

export const CreateGoalInputSchema = z.object({
  projectId: ProjectIdSchema,
  title: TitleSchema,
  description: z.string().max(LIMITS.description).default(''),
  source: GoalSourceSchema.default('api'),
  sourceRef: z.string().min(1).max(1000).optional(),
  priority: PrioritySchema.default('MEDIUM'),
  labels: z.array(LabelSchema).max(20).default([]),
  autonomyOverride: AutonomyLevelSchema.optional(),
  budgetOverrideUsd: UsdSchema.optional(),
});
export type CreateGoalInput = z.input<typeof CreateGoalInputSchema>;
export type CreateGoalRequest = z.output<typeof CreateGoalInputSchema>;

/** Body of `POST /goals/{id}/approvals`. */
export const ApprovalDecisionInputSchema = z.object({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(LIMITS.message).optional(),
  /**
   * Budget gates only: the new value of the limit that stopped the goal (the goal's budget, or the
   * project's daily or monthly budget); it must exceed what has been spent against that limit.
   */
  budgetUsd: UsdSchema.optional(),
});
export type ApprovalDecisionInput = z.infer<typeof ApprovalDecisionInputSchema>;

export function goalBranch(goalId: string): string {
  return `cahoots/${goalId}`;
}
