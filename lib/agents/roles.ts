// The team's roles in one place: what each role is told (system prompt), which workspace tools
// it gets, and the zod schema its `finish` call must satisfy.
import { z } from 'zod';
import {
  LIMITS,
  PlanSchema,
  RepoRelativePathSchema,
  ReviewCommentSchema,
  ReviewVerdictSchema,
  TestResultsSchema,
  validatePlan,
  AGENT_ROLES,
  type AgentRole,
  type Plan,
} from '../domain/index';
import { UNTRUSTED_CONTENT_POLICY } from './redaction';

// ---------------------------------------------------------------- finish schemas

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

export const QaFailureSchema = z.object({
  test: z.string().trim().min(1).max(500).describe('Test name, or the acceptance criterion that is not met'),
  message: z.string().trim().min(1).max(LIMITS.message).describe('What went wrong, as the runner reported it'),
  file: RepoRelativePathSchema.optional(),
});
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

// ---------------------------------------------------------------- role context

/** What varies per project or run and shapes a role's prompt, tools and finish validation. */
export interface RoleSettings {
  /** Roles with at least one agent on the team (`staffedRoles(project.team)`); the planner may only plan these. */
  staffedRoles: readonly AgentRole[];
  /** The project's command allow-list; run_command is offered only when it is not empty. */
  allowedCommands: readonly string[];
  /** Let the reviewer run allow-listed commands (e.g. the tests). Default false. */
  reviewerMayRunCommands: boolean;
  /** Let QA create and edit test files (and only those). Default false: QA reads and runs. */
  qaMayWriteTests: boolean;
}

export const DEFAULT_ROLE_SETTINGS: RoleSettings = {
  staffedRoles: AGENT_ROLES,
  allowedCommands: [],
  reviewerMayRunCommands: false,
  qaMayWriteTests: false,
};

export type FinishValidation<T> = { ok: true; value: T } | { ok: false; issues: string[] };

export interface RoleDefinition<R extends AgentRole = AgentRole> {
  role: R;
  systemPrompt(settings: RoleSettings): string;
  /** Workspace tool names the role gets (before the finish tool). */
  toolNames(settings: RoleSettings): string[];
  finishDescription: string;
  /** JSON schema of the finish tool's input. */
  finishInputSchema(settings: RoleSettings): Record<string, unknown>;
  validateFinish(input: unknown, settings: RoleSettings): FinishValidation<FinishPayload<R>>;
}

/** Roles a plan may assign work to: staffed ones, never the planner itself. */
export function plannableRoles(settings: RoleSettings): AgentRole[] {
  return settings.staffedRoles.filter((role) => role !== 'planner');
}

// ---------------------------------------------------------------- JSON schema helpers

/** A zod schema as the JSON schema a model sees: the input shape (defaults optional), no $schema key. */
export function modelJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`);
}

function validateWith<T>(schema: z.ZodType<T>, input: unknown): FinishValidation<T> {
  const parsed = schema.safeParse(input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issues: issuesOf(parsed.error) };
}

// ---------------------------------------------------------------- prompts

const READ_ONLY_TOOLS = ['list_files', 'read_file', 'search_files'];
const WRITE_TOOLS = ['write_file', 'edit_file'];

function commandsLine(settings: RoleSettings, canRun: boolean): string {
  if (!canRun || settings.allowedCommands.length === 0) return 'You cannot run commands in this task.';
  return (
    `run_command runs a program without a shell; argv must start with one of: ${settings.allowedCommands.map((c) => `"${c}"`).join(', ')}. ` +
    'Commands have no network access and no credentials.'
  );
}

function commonRules(role: string, settings: RoleSettings, canRun: boolean): string {
  return [
    `You are the ${role} of Cahoots, an AI software team working on a real git repository.`,
    'You act only through tool calls; plain text replies do nothing. When your work is done, call the finish tool exactly once with your result: the run ends there.',
    '',
    'Working rules:',
    '- Paths are relative to the root of the task\'s working copy. You cannot leave it or touch .git.',
    `- ${commandsLine(settings, canRun)}`,
    '- Read before you conclude or change anything, and follow the conventions of the project context and the surrounding code.',
    '- When a tool returns an error, read it and change your approach. Repeating an identical call that gives an identical result stops the run.',
    '- Keep text between tool calls short. Do not ask questions: nobody will answer until you finish.',
    '',
    UNTRUSTED_CONTENT_POLICY,
  ].join('\n');
}

const canDeveloperRun = (s: RoleSettings) => s.allowedCommands.length > 0;

const developerDuties = [
  'Your job is to implement the task in the working copy:',
  '1. Find and read the relevant code (search_files, read_file) before changing it.',
  '2. Make the change: edit_file for exact replacements in existing files, write_file for new files or complete rewrites.',
  '3. Add or update tests that prove the acceptance criteria.',
  '4. Run the project\'s tests with run_command and fix the failures your change caused. If a failure is unrelated to your change, say so in notes instead of changing unrelated code.',
  '5. Call finish with a summary of what changed and why, the files you changed, and notes for the reviewer.',
  'Keep the change minimal and focused: no unrelated refactoring or reformatting. Do not commit; the pipeline commits your working copy.',
].join('\n');

// ---------------------------------------------------------------- role definitions

const changeReportRole = <R extends 'developer' | 'ux'>(role: R, specialty: string): RoleDefinition<R> => ({
  role,
  systemPrompt: (settings) =>
    [commonRules(role === 'ux' ? 'UX engineer' : 'developer', settings, canDeveloperRun(settings)), '', developerDuties, specialty]
      .filter(Boolean)
      .join('\n'),
  toolNames: (settings) => [...READ_ONLY_TOOLS, ...WRITE_TOOLS, ...(canDeveloperRun(settings) ? ['run_command'] : [])],
  finishDescription:
    'Report that the change is complete. Call this only after your change is made and the tests were run. Input: summary, filesChanged, notes.',
  finishInputSchema: () => modelJsonSchema(ChangeReportSchema),
  validateFinish: (input) => validateWith(ChangeReportSchema, input) as FinishValidation<FinishPayload<R>>,
});

const plannerRole: RoleDefinition<'planner'> = {
  role: 'planner',
  systemPrompt: (settings) => {
    const roles = plannableRoles(settings);
    return [
      commonRules('planner (project manager)', settings, false),
      '',
      'Your job is to turn the goal into a plan of small tasks that the team can execute, in parallel where possible. Explore the repository with the read-only tools first; you cannot change files.',
      'Plan rules:',
      `- Each task has exactly one role, from those staffed on this project: ${roles.join(', ') || '(none)'}. Never assign a task to the planner.`,
      '- A task is one concern that one agent can finish in one sitting, typically a few files. Split larger work.',
      '- kind is one of feature, fix, test, refactor, docs. Testing work that writes code belongs to a developer task.',
      '- spec says precisely what to do: the files, functions and behaviour involved, and constraints to respect.',
      '- acceptanceCriteria are checkable statements: a command that must pass, a behaviour that can be observed.',
      '- dependsOn lists only the tasks whose output a task truly needs; independent tasks run in parallel. No cycles.',
      '- Review and the final QA run happen automatically after all tasks (the quality gate); do not plan reviewer tasks.',
      '- risk is low (local change, well covered by tests), medium (shared code or behaviour users see) or high (security, authentication, payments, data migrations or deletion, wide refactors).',
      'Give task ids short names such as t1, t2. Call finish with the plan: summary, risk and tasks.',
    ].join('\n');
  },
  toolNames: () => [...READ_ONLY_TOOLS],
  finishDescription:
    'Submit the plan: {summary, risk, tasks[{id, role, kind, title, spec, acceptanceCriteria, dependsOn}]}. It is checked for unknown roles, duplicate ids, unknown dependencies and cycles.',
  finishInputSchema: (settings) => {
    const schema = modelJsonSchema(PlanSchema);
    // Offer only the staffed roles, so the model is steered before validation has to refuse.
    const role = (schema as { properties?: { tasks?: { items?: { properties?: { role?: { enum?: unknown } } } } } }).properties?.tasks?.items
      ?.properties?.role;
    if (role) role.enum = plannableRoles(settings);
    return schema;
  },
  validateFinish: (input, settings) => {
    const result = validatePlan(input, { roles: plannableRoles(settings) });
    return result.ok ? { ok: true, value: result.plan } : { ok: false, issues: result.issues.map((issue) => issue.message) };
  },
};

const qaRole: RoleDefinition<'qa'> = {
  role: 'qa',
  systemPrompt: (settings) =>
    [
      commonRules('QA engineer', settings, settings.allowedCommands.length > 0),
      '',
      'Your job is to verify that the work meets its acceptance criteria:',
      '- Run the project\'s tests, and any focused command the allow-list permits, with run_command.',
      '- Read the code and the tests to see which acceptance criteria are actually covered.',
      settings.qaMayWriteTests
        ? '- You may create or edit test files only (under test/, tests/ or __tests__/, or named *.test.* or *.spec.*). Add tests for criteria nothing covers, then run them. Never change the code under test.'
        : '- You cannot change files. When a criterion has no test, report it as a failure saying what should be tested.',
      'Report honestly. testResults holds the counts the test runner printed for commands you ran. passed is true only when every test passed and every acceptance criterion is demonstrably met. List every failing test or unmet criterion in failures with the runner\'s message and the file when known. A result you did not verify is not a pass.',
    ].join('\n'),
  toolNames: (settings) => [
    ...READ_ONLY_TOOLS,
    ...(settings.qaMayWriteTests ? WRITE_TOOLS : []),
    ...(settings.allowedCommands.length > 0 ? ['run_command'] : []),
  ],
  finishDescription: 'Report the verification: {summary, testResults {command, passed, failed, skipped, durationMs, summary}, passed, failures[{test, message, file}]}.',
  finishInputSchema: () => modelJsonSchema(QaReportSchema),
  validateFinish: (input) => validateWith(QaReportSchema, input),
};

const reviewerRole: RoleDefinition<'reviewer'> = {
  role: 'reviewer',
  systemPrompt: (settings) => {
    const canRun = settings.reviewerMayRunCommands && settings.allowedCommands.length > 0;
    return [
      commonRules('code reviewer', settings, canRun),
      '',
      `Your job is to review the change made for this goal as a senior engineer would before merging. You can read files but never change them${canRun ? '; you may run allow-listed commands such as the tests' : ''}.`,
      'Check: correctness against the spec and acceptance criteria; tests that cover the change; security (input validation, injection, secrets, permissions); error handling; readability and consistency with the codebase.',
      'Verdict: approved (ready to merge; at most optional nits), changes-requested (specific fixes are needed), rejected (the approach is wrong or unsafe; say what should be done instead).',
      'Every comment names the file and line when it is about code, has a severity (blocker, major, minor, info), and says concretely what is wrong and how to fix it. Do not comment on what is fine.',
    ].join('\n');
  },
  toolNames: (settings) => [
    ...READ_ONLY_TOOLS,
    ...(settings.reviewerMayRunCommands && settings.allowedCommands.length > 0 ? ['run_command'] : []),
  ],
  finishDescription: 'Submit the review: {verdict, summary, comments[{file, line, severity, body}]}.',
  finishInputSchema: () => modelJsonSchema(ReviewReportSchema),
  validateFinish: (input) => validateWith(ReviewReportSchema, input),
};

export const ROLE_DEFINITIONS: { [R in AgentRole]: RoleDefinition<R> } = {
  planner: plannerRole,
  developer: changeReportRole('developer', ''),
  ux: changeReportRole(
    'ux',
    [
      'You specialise in user interfaces: components, styling, copy and interaction.',
      '- Reuse the project\'s design system (existing components, tokens, spacing, typography) instead of inventing new styles.',
      '- Make every change accessible: semantic HTML, labels for form controls, text alternatives for images, keyboard operation with visible focus, sufficient colour contrast, ARIA only where native semantics fall short.',
      '- Keep interface copy clear, short and consistent with the product\'s existing wording.',
    ].join('\n'),
  ),
  qa: qaRole,
  reviewer: reviewerRole,
};

export function roleDefinition<R extends AgentRole>(role: R): RoleDefinition<R> {
  return ROLE_DEFINITIONS[role] as RoleDefinition<R>;
}

/** Validates a finish payload for a role, e.g. when a payload arrives from somewhere other than the loop. */
export function validateFinishPayload<R extends AgentRole>(
  role: R,
  input: unknown,
  settings: Partial<RoleSettings> = {},
): FinishValidation<FinishPayload<R>> {
  return roleDefinition(role).validateFinish(input, { ...DEFAULT_ROLE_SETTINGS, ...settings });
}
