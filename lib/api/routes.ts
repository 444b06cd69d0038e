// The API's route table, defined once: method, path, schemas, success response, documented errors,
// the handler file under functions/api, and what each route touches. The Lambda handlers parse
// with it, the local router matches on it, the OpenAPI document is generated from it and the
// infra construct builds one function per route from it, granted only what `touches` lists.
// Pure data over zod schemas: infra imports this file, so it must not pull in the store or SDKs.
import type { z } from 'zod';
import type { SecretPurpose } from '../runtime-env';
import { GitHubWebhookBodySchema, WebhookResultSchema } from '../webhooks/github-payloads';
import {
  ApprovalBodySchema,
  CancelGoalBodySchema,
  CostReportSchema,
  CostsQuerySchema,
  CreateGoalBodySchema,
  CreateProjectBodySchema,
  DetectionStartedSchema,
  EventPageSchema,
  FindingGoalBodySchema,
  FindingPathSchema,
  FindingResponseSchema,
  FindingPageSchema,
  GoalDetailSchema,
  GoalPageSchema,
  GoalPathSchema,
  ListEventsQuerySchema,
  ListFindingsQuerySchema,
  ListGoalsQuerySchema,
  ListProjectsQuerySchema,
  NoPathSchema,
  NoQuerySchema,
  OpenApiDocumentSchema,
  ProjectPageSchema,
  ProjectPathSchema,
  ProjectResponseSchema,
  PublicGoalSchema,
  UpdateFindingBodySchema,
  UpdateProjectBodySchema,
} from './schemas';

export const HTTP_METHODS = ['GET', 'POST', 'PATCH'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Table access a route's function needs. */
export type TableAccess = 'none' | 'read' | 'readWrite';
/** Pipeline calls: StartExecution, StopExecution, SendTaskSuccess/Failure. */
/** `detect`: starts the DetectWork state machine; the others act on the goal pipeline. */
export type PipelineAction = 'start' | 'stop' | 'answer' | 'detect';

/**
 * How a caller proves who it is: `iam` (SigV4, checked by API Gateway) for every route people and
 * tools call, `github-signature` (HMAC over the body, checked by the handler) for the one route
 * GitHub calls, which cannot sign with AWS credentials.
 */
export type RouteAuth = 'iam' | 'github-signature';

export interface RouteBody<B extends z.ZodType = z.ZodType> {
  schema: B;
  /** False when an empty body is allowed and means `{}`. */
  required: boolean;
}

export interface RouteDefinition<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  operationId: string;
  method: HttpMethod;
  /** API Gateway resource syntax: `/goals/{goalId}`. */
  path: string;
  /** File under functions/api (without `.ts`) exporting this route's `handler`. */
  handler: string;
  tag: 'Projects' | 'Goals' | 'Approvals' | 'Findings' | 'Costs' | 'Webhooks' | 'Meta';
  /** Defaults to `iam`. */
  auth?: RouteAuth;
  /** A limit for this route alone, below the stage's (API Gateway method throttling). */
  throttle?: { rateLimit: number; burstLimit: number };
  summary: string;
  description: string;
  params: P;
  query: Q;
  body?: RouteBody<B>;
  response: { status: 200 | 201 | 202; description: string; schema: R };
  /** Error statuses this route can answer besides the ones every route has (400, 404, 500). */
  errors: readonly number[];
  /** Honours `Idempotency-Key`. */
  idempotent: boolean;
  /**
   * `schedules`: saves projects' detection schedules (EventBridge Scheduler's Create/Update/DeleteSchedule
   * in the cell's group, and iam:PassRole of the scheduler's role to the service).
   */
  touches: { table: TableAccess; pipeline: readonly PipelineAction[]; secrets?: readonly SecretPurpose[]; schedules?: boolean };
  /** Fills what a request leaves out from the deployment's project defaults (CAHOOTS_PROJECT_DEFAULTS). */
  readsProjectDefaults?: boolean;
}

function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(
  route: RouteDefinition<P, Q, B, R>,
): RouteDefinition<P, Q, B, R> {
  return route;
}

export const createProjectRoute = defineRoute({
  operationId: 'createProject',
  method: 'POST',
  path: '/projects',
  handler: 'create-project',
  tag: 'Projects',
  summary: 'Create a project',
  description:
    "Registers a repository with its team, autonomy level, budgets and schedule. Omitted settings get their defaults: autonomy, budgets and model policy the deployment's project defaults first; a project always has a per-goal budget.",
  params: NoPathSchema,
  query: NoQuerySchema,
  body: { schema: CreateProjectBodySchema, required: true },
  response: { status: 201, description: 'The new project.', schema: ProjectResponseSchema },
  errors: [409, 413, 415, 422],
  idempotent: true,
  // In a cell the repository URL is checked with the git host credentials before it is stored.
  touches: { table: 'readWrite', pipeline: [], secrets: ['gitHostCredentials'], schedules: true },
  readsProjectDefaults: true,
});

export const listProjectsRoute = defineRoute({
  operationId: 'listProjects',
  method: 'GET',
  path: '/projects',
  handler: 'list-projects',
  tag: 'Projects',
  summary: 'List projects',
  description: 'Every project of this deployment, newest first, one page at a time. Pass the returned `cursor` for the next page.',
  params: NoPathSchema,
  query: ListProjectsQuerySchema,
  response: { status: 200, description: 'One page of projects.', schema: ProjectPageSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'read', pipeline: [] },
});

export const getProjectRoute = defineRoute({
  operationId: 'getProject',
  method: 'GET',
  path: '/projects/{projectId}',
  handler: 'get-project',
  tag: 'Projects',
  summary: 'Get a project',
  description: 'The project with all its settings and its current `version` (for `expectedVersion` on PATCH).',
  params: ProjectPathSchema,
  query: NoQuerySchema,
  response: { status: 200, description: 'The project.', schema: ProjectResponseSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'read', pipeline: [] },
});

export const updateProjectRoute = defineRoute({
  operationId: 'updateProject',
  method: 'PATCH',
  path: '/projects/{projectId}',
  handler: 'update-project',
  tag: 'Projects',
  summary: 'Change project settings',
  description:
    'A partial update: only the fields sent change, and `schedule` may itself be partial. A changed `schedule` is saved where it fires (EventBridge Scheduler in a cell): replaced when `enabled`, removed when not. With `expectedVersion` the change applies only if the project is still at that version (409 otherwise).',
  params: ProjectPathSchema,
  query: NoQuerySchema,
  body: { schema: UpdateProjectBodySchema, required: true },
  response: { status: 200, description: 'The project after the change.', schema: ProjectResponseSchema },
  errors: [409, 413, 415, 422],
  idempotent: false,
  touches: { table: 'readWrite', pipeline: [], schedules: true },
});

export const createGoalRoute = defineRoute({
  operationId: 'createGoal',
  method: 'POST',
  path: '/projects/{projectId}/goals',
  handler: 'create-goal',
  tag: 'Goals',
  summary: 'Give the team a goal',
  description:
    'Stores the goal as PENDING, records `Goal.Created` and starts its pipeline. Answers 202 at once: the work continues asynchronously; follow it at the `Location` (the goal) and its events.',
  params: ProjectPathSchema,
  query: NoQuerySchema,
  body: { schema: CreateGoalBodySchema, required: true },
  response: { status: 202, description: 'The goal, accepted; `Location` points at it.', schema: PublicGoalSchema },
  errors: [409, 413, 415, 422],
  idempotent: true,
  touches: { table: 'readWrite', pipeline: ['start'] },
});

export const listGoalsRoute = defineRoute({
  operationId: 'listGoals',
  method: 'GET',
  path: '/projects/{projectId}/goals',
  handler: 'list-goals',
  tag: 'Goals',
  summary: 'List goals of a project',
  description: 'Newest first, one page at a time; `status` narrows to one status. Pass the returned `cursor` for the next page.',
  params: ProjectPathSchema,
  query: ListGoalsQuerySchema,
  response: { status: 200, description: 'One page of goals.', schema: GoalPageSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'read', pipeline: [] },
});

export const getGoalRoute = defineRoute({
  operationId: 'getGoal',
  method: 'GET',
  path: '/goals/{goalId}',
  handler: 'get-goal',
  tag: 'Goals',
  summary: 'Get a goal with its plan, tasks and cost',
  description: 'The goal, the plan summary and risk once planned, every task with its status and outputs, task counts by status, and spend against budget.',
  params: GoalPathSchema,
  query: NoQuerySchema,
  response: { status: 200, description: 'The goal in detail.', schema: GoalDetailSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'read', pipeline: [] },
});

export const listGoalEventsRoute = defineRoute({
  operationId: 'listGoalEvents',
  method: 'GET',
  path: '/goals/{goalId}/events',
  handler: 'list-goal-events',
  tag: 'Goals',
  summary: "Read a goal's event log",
  description: 'Events in order with a sequence number greater than `after`. Poll with `after=<lastSeq>` to follow a goal.',
  params: GoalPathSchema,
  query: ListEventsQuerySchema,
  response: { status: 200, description: 'Events after the given sequence number.', schema: EventPageSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'read', pipeline: [] },
});

export const decideApprovalRoute = defineRoute({
  operationId: 'decideApproval',
  method: 'POST',
  path: '/goals/{goalId}/approvals',
  handler: 'decide-approval',
  tag: 'Approvals',
  summary: 'Approve or reject what a goal waits on',
  description:
    'Answers the pending approval (plan, delivery or budget). Approve resumes the pipeline (for a budget gate, `budgetUsd` sets the new per-goal limit); reject ends the goal. 409 when nothing awaits approval or the pipeline stopped waiting.',
  params: GoalPathSchema,
  query: NoQuerySchema,
  body: { schema: ApprovalBodySchema, required: true },
  response: { status: 200, description: 'The goal after the decision.', schema: PublicGoalSchema },
  errors: [409, 413, 415, 422],
  idempotent: false,
  touches: { table: 'readWrite', pipeline: ['answer'] },
});

export const cancelGoalRoute = defineRoute({
  operationId: 'cancelGoal',
  method: 'POST',
  path: '/goals/{goalId}/cancel',
  handler: 'cancel-goal',
  tag: 'Goals',
  summary: 'Cancel a goal',
  description: 'Stops the pipeline and marks the goal CANCELLED. The body is optional. 409 when the goal has already ended.',
  params: GoalPathSchema,
  query: NoQuerySchema,
  body: { schema: CancelGoalBodySchema, required: false },
  response: { status: 200, description: 'The cancelled goal.', schema: PublicGoalSchema },
  errors: [409, 413, 415],
  idempotent: false,
  touches: { table: 'readWrite', pipeline: ['stop'] },
});

export const listFindingsRoute = defineRoute({
  operationId: 'listFindings',
  method: 'GET',
  path: '/projects/{projectId}/findings',
  handler: 'list-findings',
  tag: 'Findings',
  summary: 'List detected work',
  description:
    'Findings of work detection. With `status`, best score first; without, every finding by fingerprint. `detector` and `severity` filter further.',
  params: ProjectPathSchema,
  query: ListFindingsQuerySchema,
  response: { status: 200, description: 'One page of findings.', schema: FindingPageSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'read', pipeline: [] },
});

export const startDetectionRoute = defineRoute({
  operationId: 'startDetection',
  method: 'POST',
  path: '/projects/{projectId}/detections',
  handler: 'start-detection',
  tag: 'Findings',
  summary: 'Run work detection now',
  description:
    "Starts a DetectWork run for the project, as its schedule would: the enabled detectors on the default branch, findings merged, goals per the autonomy level. Answers at once (202); the findings appear in `GET /projects/{projectId}/findings` when the run ends, and the project's event log records it (`Detection.Completed`).",
  params: ProjectPathSchema,
  query: NoQuerySchema,
  response: { status: 202, description: 'The run started.', schema: DetectionStartedSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'read', pipeline: ['detect'] },
});

export const updateFindingRoute = defineRoute({
  operationId: 'updateFinding',
  method: 'PATCH',
  path: '/findings/{findingId}',
  handler: 'update-finding',
  tag: 'Findings',
  summary: 'Dismiss or reopen a finding',
  description:
    'Dismissing keeps the finding on file, so detection does not file it again, but no goal is ever made from it; reopening undoes that. 409 when the finding cannot move there (a finding in progress cannot be dismissed; cancel its goal).',
  params: FindingPathSchema,
  query: NoQuerySchema,
  body: { schema: UpdateFindingBodySchema, required: true },
  response: { status: 200, description: 'The finding after the change.', schema: FindingResponseSchema },
  errors: [409, 413, 415],
  idempotent: false,
  touches: { table: 'readWrite', pipeline: [] },
});

export const createFindingGoalRoute = defineRoute({
  operationId: 'createFindingGoal',
  method: 'POST',
  path: '/findings/{findingId}/goal',
  handler: 'create-finding-goal',
  tag: 'Findings',
  summary: 'Turn a finding into a goal',
  description:
    "Creates a goal from an open finding (source `detection`, its fingerprint as `sourceRef`), starts its pipeline and marks the finding `in-progress`. The project's autonomy level applies unless `autonomyOverride` says otherwise. 409 when the finding is not open.",
  params: FindingPathSchema,
  query: NoQuerySchema,
  body: { schema: FindingGoalBodySchema, required: false },
  response: { status: 202, description: 'The goal, accepted; `Location` points at it.', schema: PublicGoalSchema },
  errors: [409, 413, 415],
  idempotent: true,
  touches: { table: 'readWrite', pipeline: ['start'] },
});

export const getCostsRoute = defineRoute({
  operationId: 'getCosts',
  method: 'GET',
  path: '/projects/{projectId}/costs',
  handler: 'get-costs',
  tag: 'Costs',
  summary: 'Spend of a project over a period',
  description: `Model usage and dollars from the usage counters: totals, every day of the range, and by model. At most 366 days.`,
  params: ProjectPathSchema,
  query: CostsQuerySchema,
  response: { status: 200, description: 'The cost report.', schema: CostReportSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'read', pipeline: [] },
});

export const githubWebhookRoute = defineRoute({
  operationId: 'receiveGitHubWebhook',
  method: 'POST',
  path: '/webhooks/github',
  handler: 'github-webhook',
  tag: 'Webhooks',
  summary: 'Receive a GitHub webhook delivery',
  description:
    'The one route without IAM authorization: GitHub signs each delivery with the webhook secret (`X-Hub-Signature-256`), checked before anything is read (401 otherwise). An issue labelled with the project\'s `issueLabel`, or an issue comment `/cahoots <instructions>` by someone with write access, becomes a goal; a Cahoots pull request closed (merged or not) is recorded as the goal\'s outcome. Repeated deliveries (same `X-GitHub-Delivery`) get the first answer and change nothing.',
  auth: 'github-signature',
  throttle: { rateLimit: 10, burstLimit: 20 },
  params: NoPathSchema,
  query: NoQuerySchema,
  body: { schema: GitHubWebhookBodySchema, required: true },
  response: { status: 202, description: 'The delivery was accepted; `outcome` says what it led to.', schema: WebhookResultSchema },
  errors: [401, 409, 413, 415, 503],
  idempotent: false,
  touches: { table: 'readWrite', pipeline: ['start'], secrets: ['githubWebhookSecret', 'gitHostCredentials'] },
});

export const getOpenApiRoute = defineRoute({
  operationId: 'getOpenApi',
  method: 'GET',
  path: '/openapi.json',
  handler: 'get-openapi',
  tag: 'Meta',
  summary: 'This API as an OpenAPI 3 document',
  description: 'Generated from the same schemas the handlers validate with.',
  params: NoPathSchema,
  query: NoQuerySchema,
  response: { status: 200, description: 'The OpenAPI document.', schema: OpenApiDocumentSchema },
  errors: [],
  idempotent: false,
  touches: { table: 'none', pipeline: [] },
});

/** Every route, in the order the OpenAPI document and docs/api.md list them. */
export const API_ROUTES: readonly RouteDefinition[] = [
  createProjectRoute,
  listProjectsRoute,
  getProjectRoute,
  updateProjectRoute,
  createGoalRoute,
  listGoalsRoute,
  getGoalRoute,
  listGoalEventsRoute,
  decideApprovalRoute,
  cancelGoalRoute,
  listFindingsRoute,
  startDetectionRoute,
  updateFindingRoute,
  createFindingGoalRoute,
  getCostsRoute,
  githubWebhookRoute,
  getOpenApiRoute,
];
