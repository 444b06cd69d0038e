// The HTTP API's wire schemas: path and query parameters, request bodies and response shapes.
// Request bodies reuse the domain inputs; everything here also feeds the OpenAPI document, so the
// `meta({ id })` names become its component names.
import * as z from 'zod';
import {
  ApprovalDecisionInputSchema,
  ApprovalSchema,
  AutonomyLevelSchema,
  BudgetsSchema,
  CreateGoalInputSchema,
  CreateProjectInputSchema,
  DaySchema,
  FALLBACK_PER_GOAL_BUDGET_USD,
  EventEnvelopeSchema,
  FindingIdSchema,
  FindingKindSchema,
  FindingSchema,
  FindingStatusSchema,
  KNOWN_DETECTORS,
  SEVERITIES,
  GoalIdSchema,
  GoalSchema,
  InfrastructureUsageSchema,
  LIMITS,
  ModelPolicySchema,
  ProjectIdSchema,
  ProjectSchema,
  RiskSchema,
  StatusSchema,
  TaskSchema,
  UpdateProjectSettingsInputSchema,
  UsageCountersSchema,
} from '../domain/index';

/** The largest request body the API reads; API Gateway's own 10 MB cap is far above it. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Longest costs report, so one request cannot make the handler build an unbounded day table. */
export const MAX_COST_RANGE_DAYS = 366;

// ---- parameters

/**
 * A whole number sent as a query string. Strict digits only: `1e2`, ` 5`, `0x10` and `5.0` are
 * refused rather than coerced, so a typo is a 400 and not a surprising page size.
 */
function wholeNumberParam(name: string, min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,10}$/, { message: `${name} must be a whole number` })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

const LimitParam = wholeNumberParam('limit', 1, 100).optional().meta({ description: 'Page size, 1–100 (default 25).', example: '25' });

const CursorParam = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be the opaque value a previous page returned' })
  .optional()
  .meta({ description: 'The `cursor` of the previous page; omit for the first page.' });

export const ProjectPathSchema = z.strictObject({ projectId: ProjectIdSchema.meta({ description: 'Project id, `prj_<ULID>`.', example: 'prj_01J9Z3Q4X8M2N5P7R9T1V3W5Y7' }) });
export const GoalPathSchema = z.strictObject({ goalId: GoalIdSchema.meta({ description: 'Goal id, `goal_<ULID>`.', example: 'goal_01J9Z3R2B4C6D8E0F2G4H6J8K0' }) });
export const NoPathSchema = z.strictObject({});

export const NoQuerySchema = z.strictObject({});

export const ListProjectsQuerySchema = z.strictObject({
  limit: LimitParam,
  cursor: CursorParam,
});

export const ListGoalsQuerySchema = z.strictObject({
  status: StatusSchema.optional().meta({ description: 'Only goals in this status.' }),
  limit: LimitParam,
  cursor: CursorParam,
});

export const ListEventsQuerySchema = z.strictObject({
  after: wholeNumberParam('after', 0, 9_999_999_999)
    .optional()
    .meta({ description: 'Return events with a sequence number greater than this (default 0: from the start).', example: '0' }),
  limit: wholeNumberParam('limit', 1, 100).optional().meta({ description: 'Most events to return, 1–100 (default 100).', example: '100' }),
});

export const FindingPathSchema = z.strictObject({
  findingId: FindingIdSchema.meta({ description: 'Finding id, `fnd_…` as the findings API returns it.', example: 'fnd_cHJqXzAxSjlaM1E0WDhNMk41UDdSOVQxVjNXNVk3L3RvZG86MDEyMzQ1Njc4OWFiY2RlZg' }),
});

export const ListFindingsQuerySchema = z.strictObject({
  status: FindingStatusSchema.optional().meta({ description: 'Only findings in this status, best score first.' }),
  detector: z.enum(KNOWN_DETECTORS).optional().meta({ description: 'Only findings of this detector. Filters after reading, so a page may hold fewer than `limit`.' }),
  severity: z.enum(SEVERITIES).optional().meta({ description: 'Only findings of this severity (same caveat).' }),
  kind: FindingKindSchema.optional().meta({ description: 'Only problems (what detectors saw) or only proposals (what the analyst suggests) (same caveat).' }),
  limit: LimitParam,
  cursor: CursorParam,
});

/**
 * A UTC day that exists. The domain's DaySchema throws a RangeError (instead of failing) for
 * well-shaped impossible dates such as 2025-02-30, which would turn a typo into a 500; this check
 * fails cleanly first and only then defers to it.
 */
const QueryDaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'day must be yyyy-mm-dd' })
  .refine((day) => {
    const time = Date.parse(`${day}T00:00:00.000Z`);
    return !Number.isNaN(time) && new Date(time).toISOString().startsWith(day);
  }, { message: 'day does not exist' })
  .pipe(DaySchema);

export const CostsQuerySchema = z.strictObject({
  from: QueryDaySchema.optional().meta({ description: 'First UTC day, inclusive (default: 29 days before `to`).', example: '2025-06-01' }),
  to: QueryDaySchema.optional().meta({ description: 'Last UTC day, inclusive (default: today).', example: '2025-06-30' }),
});

// ---- request bodies (strict at the top level, so a misspelt field is a 400 instead of ignored)

/**
 * Autonomy, budgets and model policy have no default here: what the request leaves out comes from
 * the deployment's project defaults (withProjectDefaults), then from the domain's.
 */
export const CreateProjectBodySchema = CreateProjectInputSchema.extend({
  autonomyLevel: AutonomyLevelSchema.optional().meta({ description: "Default: the deployment's project defaults, else 2." }),
  budgets: BudgetsSchema.optional().meta({
    description: `Fields left out come from the deployment's project defaults; \`perGoalUsd\` is never left unset (${FALLBACK_PER_GOAL_BUDGET_USD} when neither gives one).`,
  }),
  modelPolicy: ModelPolicySchema.optional().meta({ description: "Default: the deployment's project defaults, else the deployment's default models." }),
})
  .strict()
  .meta({ id: 'CreateProjectRequest' });
export const UpdateProjectBodySchema = UpdateProjectSettingsInputSchema.strict().meta({ id: 'UpdateProjectRequest' });

/** The project comes from the path and the source is always `api` for goals created here. */
export const CreateGoalBodySchema = CreateGoalInputSchema.omit({ projectId: true, source: true }).strict().meta({ id: 'CreateGoalRequest' });
export type CreateGoalBody = z.output<typeof CreateGoalBodySchema>;

export const ApprovalBodySchema = ApprovalDecisionInputSchema.strict().meta({ id: 'ApprovalRequest' });
export type ApprovalBody = z.output<typeof ApprovalBodySchema>;

export const CancelGoalBodySchema = z
  .strictObject({ reason: z.string().trim().min(1).max(LIMITS.message).optional() })
  .meta({ id: 'CancelGoalRequest' });
export type CancelGoalBody = z.output<typeof CancelGoalBodySchema>;

// ---- responses

export const ProjectResponseSchema = ProjectSchema.meta({ id: 'Project' });

/** A goal as the API shows it: the approval's task token is a capability and never leaves the service. */
export const PublicGoalSchema = GoalSchema.extend({ approval: ApprovalSchema.omit({ taskToken: true, waitingTokens: true }) }).meta({ id: 'Goal' });
export type PublicGoal = z.infer<typeof PublicGoalSchema>;

export const TaskResponseSchema = TaskSchema.meta({ id: 'Task' });
export const EventResponseSchema = EventEnvelopeSchema.meta({ id: 'Event' });
export const FindingResponseSchema = FindingSchema.extend({
  id: z.string().meta({ description: 'The finding id for `/findings/{findingId}`: project and fingerprint, encoded.' }),
}).meta({ id: 'Finding' });
export type FindingResponse = z.infer<typeof FindingResponseSchema>;

/** Body of `PATCH /findings/{findingId}`: dismiss (it is not worth doing) or reopen. */
export const UpdateFindingBodySchema = z
  .strictObject({
    status: z.enum(['dismissed', 'open']).meta({ description: '`dismissed`: detection keeps it but never acts on it; `open`: undo a dismissal.' }),
    reason: z.string().max(1000).optional().meta({ description: 'Why, recorded on the event.' }),
  })
  .meta({ id: 'UpdateFindingRequest' });
export type UpdateFindingBody = z.infer<typeof UpdateFindingBodySchema>;

/** Body of `POST /findings/{findingId}/goal` (optional). */
export const FindingGoalBodySchema = z
  .strictObject({
    autonomyOverride: AutonomyLevelSchema.optional().meta({ description: "The goal's autonomy level instead of the project's." }),
  })
  .meta({ id: 'FindingGoalRequest' });
export type FindingGoalBody = z.infer<typeof FindingGoalBodySchema>;

/** Answer of `POST /projects/{projectId}/detections`. */
export const DetectionStartedSchema = z
  .object({
    projectId: ProjectIdSchema,
    trigger: z.literal('manual'),
    executionId: z.string().meta({ description: 'The DetectWork execution (Step Functions ARN, or the local execution id).' }),
  })
  .meta({ id: 'DetectionStarted' });
export type DetectionStarted = z.infer<typeof DetectionStartedSchema>;
export const UsageCountersResponseSchema = UsageCountersSchema.meta({ id: 'UsageCounters' });
export const InfrastructureUsageResponseSchema = InfrastructureUsageSchema.meta({
  id: 'InfrastructureUsage',
  description: 'What was consumed besides model tokens, and its cost in USD at the configured infrastructure prices (docs/deploy.md).',
});

export const ProjectPageSchema = z
  .object({ items: z.array(ProjectResponseSchema), cursor: z.string().optional().meta({ description: 'Present when there may be more; pass it back as `cursor`.' }) })
  .meta({ id: 'ProjectPage' });

export const GoalPageSchema = z
  .object({ items: z.array(PublicGoalSchema), cursor: z.string().optional().meta({ description: 'Present when there may be more; pass it back as `cursor`.' }) })
  .meta({ id: 'GoalPage' });

export const FindingPageSchema = z.object({ items: z.array(FindingResponseSchema), cursor: z.string().optional() }).meta({ id: 'FindingPage' });

export const EventPageSchema = z
  .object({
    items: z.array(EventResponseSchema),
    lastSeq: z.number().int().min(0).meta({ description: 'Pass as `after` to read on from here.' }),
    hasMore: z.boolean(),
  })
  .meta({ id: 'EventPage' });

export const GoalDetailSchema = z
  .object({
    goal: PublicGoalSchema,
    plan: z.object({ summary: z.string(), risk: RiskSchema.optional() }).nullable().meta({ description: 'Null until the planner has produced a plan.' }),
    tasks: z.array(TaskResponseSchema),
    progress: z.partialRecord(StatusSchema, z.number().int().min(0)).meta({ description: 'How many tasks are in each status.' }),
    cost: z.object({
      usd: z.number().nonnegative().meta({ description: 'Model token spend so far; budgets limit this.' }),
      infrastructure: InfrastructureUsageResponseSchema,
      budgetUsd: z.number().nonnegative().optional().meta({ description: "The goal's limit: its override, else the project's per-goal budget." }),
      remainingUsd: z.number().optional(),
    }),
  })
  .meta({ id: 'GoalDetail' });
export type GoalDetail = z.infer<typeof GoalDetailSchema>;

export const CostReportSchema = z
  .object({
    projectId: ProjectIdSchema,
    from: DaySchema,
    to: DaySchema,
    currency: z.literal('USD'),
    total: UsageCountersResponseSchema,
    byDay: z.array(UsageCountersResponseSchema.extend({ day: DaySchema })).meta({ description: 'Every day of the range, oldest first; days without usage are zeros.' }),
    byModel: z.array(UsageCountersResponseSchema.extend({ model: z.string() })).meta({ description: 'Models used in the range, most expensive first.' }),
    infrastructure: z
      .object({
        total: InfrastructureUsageResponseSchema,
        byDay: z.array(InfrastructureUsageResponseSchema.extend({ day: DaySchema })).meta({ description: 'Every day of the range, oldest first; zeros where nothing ran.' }),
      })
      .meta({ description: 'What the goals of the range consumed besides tokens (Lambda, Step Functions, SQS, DynamoDB, EventBridge), priced.' }),
  })
  .meta({ id: 'CostReport' });
export type CostReport = z.infer<typeof CostReportSchema>;

export const OpenApiDocumentSchema = z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument', description: 'This document.' });

export const ErrorDetailSchema = z
  .object({
    path: z.string().optional().meta({ description: 'Where the problem is, e.g. `body.repo.url` or `query.limit`.' }),
    message: z.string(),
    code: z.string().optional(),
  })
  .meta({ id: 'ErrorDetail' });
export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;

export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable, machine-readable, e.g. `ValidationFailed` or `NotFound`.', example: 'NotFound' }),
      message: z.string().meta({ example: 'goal goal_01J9Z3R2B4C6D8E0F2G4H6J8K0 not found' }),
      details: z.array(ErrorDetailSchema).optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;
