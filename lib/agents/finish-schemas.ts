// The zod schema each role's `finish` call must satisfy, the JSON schema the model is shown for it,
// and the typed payload a valid finish produces.
import * as z from 'zod';
import {
  LIMITS,
  RepoRelativePathSchema,
  ReviewCommentSchema,
  ReviewVerdictSchema,
  TestFailureSchema,
  TestResultsSchema,
  planSchemaFor,
  validatePlan,
  type AgentRole,
  type Plan,
} from '../domain/index';
import { plannableRoles, type RoleSettings } from './permissions';

const SummarySchema = z.string().trim().min(1).max(LIMITS.summary);

/** What a developer or UX agent reports when its change is done. */
export const ChangeReportSchema = z.object({
  summary: SummarySchema.describe('What you changed and why, for the reviewer and the next tasks'),
  filesChanged: z.array(RepoRelativePathSchema).max(1000).optional().describe('Paths you created, changed or deleted'),
  notes: z
    .string()
    .max(LIMITS.summary)
    .optional()
    .describe('Trade-offs, follow-ups, test failures unrelated to your change, anything left undone'),
});
export type ChangeReport = z.infer<typeof ChangeReportSchema>;

/** One failing test or unmet criterion in a QA report (the domain's shape, described for the model). */
export const QaFailureSchema = TestFailureSchema;
export type QaFailure = z.infer<typeof QaFailureSchema>;

/** What QA reports. The refinements catch the two dishonest shapes: passed with failures, failed without any. */
export const QaReportSchema = z
  .object({
    summary: SummarySchema,
    testResults: TestResultsSchema.describe('Counts exactly as the test runner printed them'),
    passed: z.boolean().describe('True only if every test passed and every acceptance criterion is verified'),
    failures: z.array(QaFailureSchema).max(100).optional(),
  })
  .superRefine((report, ctx) => {
    if (report.passed && report.testResults.failed > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['passed'],
        message: `passed is true but testResults.failed is ${report.testResults.failed}; report passed: false and list the failures`,
      });
    }
    if (report.passed && (report.failures?.length ?? 0) > 0) {
      ctx.addIssue({ code: 'custom', path: ['passed'], message: 'passed is true but failures are listed; set passed to false' });
    }
    if (!report.passed && report.testResults.failed === 0 && (report.failures?.length ?? 0) === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['failures'],
        message: 'passed is false but no failure is reported; list each failing test or unmet criterion in failures',
      });
    }
  });
export type QaReport = z.infer<typeof QaReportSchema>;

/** What the reviewer reports; a verdict other than approved must say what to change. */
export const ReviewReportSchema = z
  .object({
    verdict: ReviewVerdictSchema.describe('approved | changes-requested | rejected'),
    summary: SummarySchema,
    comments: z.array(ReviewCommentSchema).max(100).describe('Concrete comments, tied to a file and line when about code'),
  })
  .superRefine((review, ctx) => {
    if (review.verdict !== 'approved' && review.comments.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['comments'],
        message: `a ${review.verdict} verdict needs at least one comment saying what must change`,
      });
    }
  });
export type ReviewReport = z.infer<typeof ReviewReportSchema>;

/** The validated finish payload of each role. */
export interface FinishPayloads {
  planner: Plan;
  developer: ChangeReport;
  ux: ChangeReport;
  qa: QaReport;
  reviewer: ReviewReport;
}
export type FinishPayload<R extends AgentRole> = FinishPayloads[R];

export type FinishValidation<T> = { ok: true; value: T } | { ok: false; issues: string[] };

/** What the finish tool's description tells each role to submit. */
export const FINISH_DESCRIPTIONS: { readonly [R in AgentRole]: string } = {
  planner:
    'Submit the plan: {summary, risk, tasks[{id, role, kind, title, spec, acceptanceCriteria, dependsOn}]}. It is checked for unknown roles, duplicate ids, unknown dependencies and cycles.',
  developer:
    'Report that the change is complete. Call this only after your change is made and the tests were run. Input: summary, filesChanged, notes.',
  ux: 'Report that the change is complete. Call this only after your change is made and the tests were run. Input: summary, filesChanged, notes.',
  qa: 'Report the verification: {summary, testResults {command, passed, failed, skipped, durationMs, summary}, passed, failures[{test, message, file}]}.',
  reviewer: 'Submit the review: {verdict, summary, comments[{file, line, severity, body}]}.',
};

/** A zod schema as the JSON schema a model sees: the input shape (defaults optional), no $schema key. */
export function modelJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

const CHANGE_REPORT_JSON = modelJsonSchema(ChangeReportSchema);
const FIXED_FINISH_JSON: { readonly [R in Exclude<AgentRole, 'planner'>]: Record<string, unknown> } = {
  developer: CHANGE_REPORT_JSON,
  ux: CHANGE_REPORT_JSON,
  qa: modelJsonSchema(QaReportSchema),
  reviewer: modelJsonSchema(ReviewReportSchema),
};

/**
 * The finish tool's input schema for a role. The planner's offers only the roles it may plan for,
 * so the model is steered before validation has to refuse; the others do not depend on settings.
 */
export function finishInputSchema(role: AgentRole, settings: Pick<RoleSettings, 'staffedRoles'>): Record<string, unknown> {
  return role === 'planner' ? modelJsonSchema(planSchemaFor(plannableRoles(settings))) : structuredClone(FIXED_FINISH_JSON[role]);
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`);
}

function validateWith<T>(schema: z.ZodType<T>, input: unknown): FinishValidation<T> {
  const parsed = schema.safeParse(input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issues: issuesOf(parsed.error) };
}

const validators: { readonly [R in AgentRole]: (input: unknown, settings: Pick<RoleSettings, 'staffedRoles'>) => FinishValidation<FinishPayload<R>> } = {
  // The plan is checked as a graph too (ids, dependencies, cycles, staffed roles), and its issues
  // name the task they are about.
  planner: (input, settings) => {
    const result = validatePlan(input, { roles: plannableRoles(settings) });
    return result.ok ? { ok: true, value: result.plan } : { ok: false, issues: result.issues.map((issue) => issue.message) };
  },
  developer: (input) => validateWith(ChangeReportSchema, input),
  ux: (input) => validateWith(ChangeReportSchema, input),
  qa: (input) => validateWith(QaReportSchema, input),
  reviewer: (input) => validateWith(ReviewReportSchema, input),
};

/** Validates a role's finish input with the role's schema. */
export function validateFinish<R extends AgentRole>(role: R, input: unknown, settings: Pick<RoleSettings, 'staffedRoles'>): FinishValidation<FinishPayload<R>> {
  return validators[role](input, settings);
}
