// A project: one repository the team works on, with its team, autonomy, budgets, model policy,
// detection schedule and sandbox allow-list. Also the API inputs that create and change it.
import * as z from 'zod';
import { BranchNameSchema, IsoTimestampSchema, NameSchema, RepoRelativePathSchema, VersionSchema } from './common';
import { SetupCommandsSchema } from './commands';
import { KNOWN_DETECTORS } from './finding';
import { ProjectIdSchema } from './ids';
import { isKnownTimeZone, ScheduleExpressionSchema } from './schedule-expression';
import { AGENT_ROLES, AutonomyLevelSchema, BudgetsSchema, ModelPolicySchema, TeamCompositionSchema, type AgentRole } from './settings';

const GitUrlSchema = z
  .string()
  .max(2048)
  .regex(/^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)\S+$/, {
    message: 'repo url must be https://, ssh://, git://, file:// or user@host:path',
  })
  // A password or token in the URL would be stored with the project and written to disk by git;
  // credentials belong in the secrets store (docs/workspace.md).
  .refine((url) => !/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(url), {
    message: 'repo url must not contain a password or token; store the credential as a secret instead',
  });

/**
 * REST API base URL of the GitHub that hosts `url`: https://api.github.com (the default for
 * github.com) or a GitHub Enterprise Server's `https://<host>/api/v3`. Setting it marks the
 * repository as a GitHub one, so pull requests can be opened.
 */
const ApiUrlSchema = z
  .string()
  .max(2048)
  .regex(/^https?:\/\/[^\s/@]+(\/\S*)?$/, { message: 'repo apiUrl must be an http(s) URL without credentials, e.g. https://github.example.com/api/v3' });

const LocalPathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.includes('\0'), { message: 'path must not contain NUL' });

/** Where the code lives: a remote git URL or a local checkout path (local runtime), never both. */
export const RepoSchema = z
  .object({
    url: GitUrlSchema.optional(),
    path: LocalPathSchema.optional(),
    apiUrl: ApiUrlSchema.optional(),
    defaultBranch: BranchNameSchema,
  })
  .refine((r) => (r.url === undefined) !== (r.path === undefined), {
    message: 'repo needs exactly one of url or path',
    path: ['url'],
  })
  .refine((r) => r.apiUrl === undefined || r.url !== undefined, { message: 'repo apiUrl needs a repo url', path: ['apiUrl'] });
export type Repo = z.infer<typeof RepoSchema>;

/**
 * Work-detection schedule in EventBridge Scheduler syntax — `cron(min hour dom month dow year)` or
 * `rate(N minutes|hours|days)` — evaluated in `timezone` (an IANA zone, also for daylight saving);
 * the cell's EventBridge Scheduler and the local scheduler read the same expression
 * (schedule-expression.ts). The field keeps its first name, `cron`, for stored projects and clients.
 */
export const CronExpressionSchema = ScheduleExpressionSchema;

export const ScheduleSchema = z.object({
  cron: CronExpressionSchema,
  timezone: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_+\-/]+$/, { message: 'timezone must be an IANA name like Europe/Berlin' })
    .refine(isKnownTimeZone, { message: 'timezone is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)' }),
  enabled: z.boolean(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

/**
 * A command the sandbox may run, e.g. `npm test` or `npx tsc --noEmit`: the argv the agent asks
 * for must start with these words, followed only by operands (see lib/workspace/sandbox.ts). Shell
 * metacharacters are refused here so an allow-list entry can never smuggle in a pipeline.
 */
export const AllowedCommandSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^;&|`$<>\\\n\r]+$/, { message: 'allowed command must not contain shell metacharacters' });

/**
 * What Deliver does with a finished goal branch: `pull-request` publishes it and opens (or
 * updates) a pull request where the host can (GitHub), `branch` publishes the branch only.
 */
export const DELIVERY_MODES = ['pull-request', 'branch'] as const;
export const DeliveryModeSchema = z.enum(DELIVERY_MODES);
export type DeliveryMode = z.infer<typeof DeliveryModeSchema>;
export const DEFAULT_DELIVERY_MODE: DeliveryMode = 'pull-request';

/**
 * The issue label that hands an issue to the team (GitHub webhook): an issue labelled with it
 * becomes a goal. Compared without regard to case, as GitHub treats label names.
 */
export const IssueLabelSchema = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[^\x00-\x1f,]+$/, { message: 'issue label must not contain commas or control characters' });
export const DEFAULT_ISSUE_LABEL = 'cahoots';

/** The label that hands an issue to this project's team. */
export function issueLabelOf(project: { issueLabel?: string }): string {
  return project.issueLabel ?? DEFAULT_ISSUE_LABEL;
}

/** A CloudWatch alarm name of the customer's application (CloudWatch allows up to 255 characters). */
export const AlarmNameSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\x00-\x1f]+$/, { message: 'alarm name must not contain control characters' });

/**
 * The model-driven analyst (detector `analyst`, off by default): what one run may spend at most
 * (USD, also bounded by the project's daily and monthly budgets) and how many proposals it may make.
 */
export const AnalystSettingsSchema = z.object({
  /** Default ANALYST_DEFAULTS.budgetUsd. */
  budgetUsd: z
    .number({ message: 'analyst budgetUsd must be a number of USD' })
    .gt(0, { message: 'analyst budgetUsd must be more than 0' })
    .max(20, { message: 'analyst budgetUsd must be at most 20' })
    .optional(),
  /** Default ANALYST_DEFAULTS.maxProposals. */
  maxProposals: z
    .number({ message: 'analyst maxProposals must be a whole number' })
    .int({ message: 'analyst maxProposals must be a whole number' })
    .min(1, { message: 'analyst maxProposals must be at least 1' })
    .max(10, { message: 'analyst maxProposals must be at most 10' })
    .optional(),
});
export type AnalystSettings = Required<z.infer<typeof AnalystSettingsSchema>>;
/** The role whose models the analyst uses (the project's model policy, else the defaults): like the reviewer, it reads and judges code. */
export const ANALYST_MODEL_ROLE = 'reviewer' satisfies AgentRole;

/** What the analyst uses where the project's settings leave a field out. */
export const ANALYST_DEFAULTS: AnalystSettings = { budgetUsd: 0.5, maxProposals: 5 };

/**
 * What work detection looks for and how much it may start: the detectors that run, how many goals
 * detection may start per day (levels 3–5; 0 reports only), and the CloudWatch alarms of the
 * customer's own application whose ALARM state is a finding (the self-healing loop).
 */
export const DetectionSettingsSchema = z.object({
  detectors: z.array(z.enum(KNOWN_DETECTORS)).max(KNOWN_DETECTORS.length),
  maxGoalsPerDay: z.number().int().min(0).max(50),
  alarmNames: z.array(AlarmNameSchema).max(20),
  /** How the analyst runs when `detectors` names it; what is left out: ANALYST_DEFAULTS (analystSettingsOf). */
  analyst: AnalystSettingsSchema.optional(),
});
export type DetectionSettings = z.infer<typeof DetectionSettingsSchema>;

/** Detectors that run unless a project chooses otherwise: all but the model-driven analyst, which costs money. */
export const DEFAULT_DETECTORS = KNOWN_DETECTORS.filter((name) => name !== 'analyst');

/** Every detector but the analyst; `alarm` finds nothing until alarm names are set. */
export const DEFAULT_DETECTION: DetectionSettings = { detectors: [...DEFAULT_DETECTORS], maxGoalsPerDay: 2, alarmNames: [] };

/** The project's detection settings; projects stored before they existed get the defaults. */
export function detectionSettingsOf(project: { detection?: DetectionSettings }): DetectionSettings {
  return project.detection ?? DEFAULT_DETECTION;
}

/** The analyst's settings of a project (the defaults where it has none). */
export function analystSettingsOf(project: { detection?: DetectionSettings }): AnalystSettings {
  const { budgetUsd, maxProposals } = detectionSettingsOf(project).analyst ?? {};
  return { budgetUsd: budgetUsd ?? ANALYST_DEFAULTS.budgetUsd, maxProposals: maxProposals ?? ANALYST_DEFAULTS.maxProposals };
}

export const DEFAULT_TEAM = { planner: 1, developer: 2, ux: 0, qa: 1, reviewer: 1 } as const;
export const DEFAULT_ALLOWED_COMMANDS = ['npm test', 'npm run lint', 'npm run build', 'npx tsc --noEmit'] as const;
export const DEFAULT_CONTEXT_FILES = ['AGENTS.md', 'CLAUDE.md', 'CAHOOTS.md'] as const;
export const DEFAULT_SCHEDULE: Schedule = { cron: 'cron(0 3 * * ? *)', timezone: 'UTC', enabled: false };

// Settings without defaults: the update input is the partial of exactly this shape, so an
// omitted field in a PATCH stays omitted instead of being reset to its default.
const settingsShape = {
  name: NameSchema,
  team: TeamCompositionSchema,
  autonomyLevel: AutonomyLevelSchema,
  budgets: BudgetsSchema,
  modelPolicy: ModelPolicySchema,
  schedule: ScheduleSchema,
  allowedCommands: z.array(AllowedCommandSchema).max(50),
  maxParallelTasks: z.number().int().min(1).max(32),
  maxReworkRounds: z.number().int().min(0).max(10),
  contextFiles: z.array(RepoRelativePathSchema.max(200)).max(10),
  delivery: DeliveryModeSchema,
  /**
   * Whether QA may create and edit test files (only those) to cover acceptance criteria nothing
   * tests. Off by default: QA runs and reads, and missing tests come back as rework.
   */
  qaMayWriteTests: z.boolean(),
  issueLabel: IssueLabelSchema,
  /**
   * The commands that install a working copy's dependencies before its first command, each an argv
   * (no shell), e.g. [["npm", "ci"]]. `[]`: none. Absent: `npm ci` when the working copy has an npm
   * lockfile, nothing otherwise. Cached per lockfile (docs/workspace.md).
   */
  setup: SetupCommandsSchema,
  detection: DetectionSettingsSchema,
};

export const ProjectSchema = z.object({
  id: ProjectIdSchema,
  repo: RepoSchema,
  ...settingsShape,
  /** Absent on projects stored before it existed: DEFAULT_DELIVERY_MODE. */
  delivery: DeliveryModeSchema.optional(),
  // Projects stored before the setting existed read as the default.
  qaMayWriteTests: settingsShape.qaMayWriteTests.default(false),
  /** Absent on projects stored before the setting existed: they use DEFAULT_ISSUE_LABEL (issueLabelOf). */
  issueLabel: IssueLabelSchema.optional(),
  /** Absent: the default setup (resolveSetupCommands). */
  setup: SetupCommandsSchema.optional(),
  /** Absent on projects stored before it existed: DEFAULT_DETECTION (detectionSettingsOf). */
  detection: DetectionSettingsSchema.optional(),
  createdAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
  version: VersionSchema,
});
export type Project = z.infer<typeof ProjectSchema>;

export const CreateProjectInputSchema = z.object({
  name: settingsShape.name,
  repo: z
    .object({
      url: GitUrlSchema.optional(),
      path: LocalPathSchema.optional(),
      apiUrl: ApiUrlSchema.optional(),
      defaultBranch: BranchNameSchema.default('main'),
    })
    .refine((r) => (r.url === undefined) !== (r.path === undefined), { message: 'repo needs exactly one of url or path', path: ['url'] })
    .refine((r) => r.apiUrl === undefined || r.url !== undefined, { message: 'repo apiUrl needs a repo url', path: ['apiUrl'] }),
  team: settingsShape.team.default({ ...DEFAULT_TEAM }),
  autonomyLevel: settingsShape.autonomyLevel.default(2),
  budgets: settingsShape.budgets.default({}),
  modelPolicy: settingsShape.modelPolicy.default({}),
  schedule: ScheduleSchema.partial()
    .default({})
    .transform((s) => ({ ...DEFAULT_SCHEDULE, ...s }))
    .pipe(ScheduleSchema),
  allowedCommands: settingsShape.allowedCommands.default([...DEFAULT_ALLOWED_COMMANDS]),
  maxParallelTasks: settingsShape.maxParallelTasks.default(3),
  maxReworkRounds: settingsShape.maxReworkRounds.default(2),
  contextFiles: settingsShape.contextFiles.default([...DEFAULT_CONTEXT_FILES]),
  delivery: settingsShape.delivery.default(DEFAULT_DELIVERY_MODE),
  qaMayWriteTests: settingsShape.qaMayWriteTests.default(false),
  issueLabel: settingsShape.issueLabel.default(DEFAULT_ISSUE_LABEL),
  setup: settingsShape.setup.optional(),
  detection: DetectionSettingsSchema.partial()
    .default({})
    .transform((d) => ({ ...DEFAULT_DETECTION, ...d }))
    .pipe(DetectionSettingsSchema),
});
export type CreateProjectInput = z.input<typeof CreateProjectInputSchema>;
export type CreateProjectRequest = z.output<typeof CreateProjectInputSchema>;

/**
 * PATCH body for project settings. `defaultBranch` is the only repo field that may change (moving
 * a project to another repository is a new project). `expectedVersion` makes the write conditional
 * on what the client last read (HTTP If-Match); without it the store retries on conflicts.
 */
export const UpdateProjectSettingsInputSchema = z
  .object({
    ...settingsShape,
    schedule: ScheduleSchema.partial(),
    detection: DetectionSettingsSchema.partial(),
    defaultBranch: BranchNameSchema,
    expectedVersion: VersionSchema,
  })
  .partial()
  .refine((patch) => Object.keys(patch).some((k) => k !== 'expectedVersion'), { message: 'nothing to update' });
export type UpdateProjectSettingsInput = z.infer<typeof UpdateProjectSettingsInputSchema>;

/** Applies a validated settings patch to a project, returning the changed fields only. */
export function applyProjectSettings(project: Project, patch: UpdateProjectSettingsInput): Partial<Project> {
  const { expectedVersion: _ignored, defaultBranch, schedule, detection, ...rest } = patch;
  const changes: Partial<Project> = { ...rest };
  if (defaultBranch !== undefined) changes.repo = { ...project.repo, defaultBranch };
  if (schedule !== undefined) changes.schedule = { ...project.schedule, ...schedule };
  if (detection !== undefined) changes.detection = { ...detectionSettingsOf(project), ...detection };
  return changes;
}

/** The models a role's calls go to, cheapest first: the project's policy for it, else the deployment's default models. */
export function modelPolicyOf(project: Pick<Project, 'modelPolicy'>, role: AgentRole, defaultModels: readonly string[]): readonly string[] {
  return project.modelPolicy[role] ?? defaultModels;
}

/** Roles with at least one agent on the team; a plan may only use these. */
export function staffedRoles(team: Project['team']): AgentRole[] {
  return AGENT_ROLES.filter((role) => (team[role] ?? 0) > 0);
}

/**
 * A repository's identity across the ways its URL is written: `host[:port]/owner/name`, lower
 * case (GitHub and most hosts ignore case in names), without `.git`, credentials or a trailing
 * slash. `https://github.com/Acme/Shop.git`, `git@github.com:acme/shop` and GitHub's `html_url`
 * all give `github.com/acme/shop`. Undefined for URLs that name no host (`file://`).
 */
export function repositoryAddress(url: string): string | undefined {
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(?!\/\/)(.+)$/.exec(url);
  let host: string;
  let path: string;
  if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    if (!parsed.host || parsed.protocol === 'file:') return undefined;
    host = parsed.host;
    path = parsed.pathname;
  }
  const segments = path
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .split('/')
    .filter((segment) => segment.length > 0);
  if (segments.length === 0) return undefined;
  return [host, ...segments].join('/').toLowerCase();
}
