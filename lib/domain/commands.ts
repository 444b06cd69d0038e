// The CommandRunner port's shapes (lib/ports/command-runner.ts is the port). Where an agent's commands run: one allow-listed command in one working copy under the workspace
// root. Locally the namespace sandbox runs it in this process's children; in a cell the sandbox
// function does, so model-written code never runs next to the agent's credentials. The request
// and response schemas are the wire format of the sandbox function and are parsed on both sides.
import * as z from 'zod';
import { ProjectIdSchema } from './ids';

/** A path relative to the workspace root or a working copy: "/" separators, no "..", not absolute. */
const RelativePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.includes('\0'), 'must not contain a NUL byte')
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.startsWith('~'), 'must be relative (no leading "/", drive letter or "~")')
  .refine((p) => !p.split(/[\\/]/).includes('..'), 'must not contain ".."');

/** The longest a sandbox function invocation can run (the Lambda maximum, less a margin to answer). */
export const MAX_COMMAND_TIMEOUT_MS = 14 * 60_000;

export const CommandRequestSchema = z.strictObject({
  /** The working copy, relative to the workspace root (e.g. `acme-1a2b/goal_X/task_Y`). */
  workingCopy: RelativePathSchema,
  /** Directory to run in, relative to the working copy. */
  cwd: RelativePathSchema.default('.'),
  argv: z
    .array(z.string().min(1).max(4096).refine((a) => !a.includes('\0'), 'arguments must not contain NUL'))
    .min(1)
    .max(200),
  /** The project's allow-list; the runner judges argv against it again, wherever it runs. */
  allowedCommands: z.array(z.string().min(1).max(200)).max(50),
  timeoutMs: z.number().int().min(1).max(MAX_COMMAND_TIMEOUT_MS),
  /** Cap per stream in bytes; the middle of longer output is cut. */
  maxOutputBytes: z.number().int().min(1_024).max(1024 * 1024).default(64 * 1024),
});
export type CommandRequest = z.infer<typeof CommandRequestSchema>;
export type CommandRequestInput = z.input<typeof CommandRequestSchema>;

export const CommandOutcomeSchema = z.object({
  argv: z.array(z.string()),
  /** Exit code, or null when a signal ended the process. 127: not found, 126: not executable. */
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  timedOut: z.boolean(),
  /** Whether stdout or stderr was cut to the output cap. */
  truncated: z.boolean(),
  durationMs: z.number().nonnegative(),
});
export type CommandOutcome = z.infer<typeof CommandOutcomeSchema>;

/**
 * Why a runner refused to run a command. These are the model's mistakes (a command off the
 * allow-list, a cwd outside the working copy) and travel back as data, so the caller can show them
 * to the model instead of treating them as a broken sandbox.
 */
export const COMMAND_REFUSALS = ['CommandNotAllowed', 'PathOutsideWorkspace', 'NotADirectory', 'InvalidRequest'] as const;
export type CommandRefusalReason = (typeof COMMAND_REFUSALS)[number];

export const CommandResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), outcome: CommandOutcomeSchema }),
  z.object({ ok: z.literal(false), refusal: z.object({ reason: z.enum(COMMAND_REFUSALS), message: z.string() }) }),
]);
export type CommandResponse = z.infer<typeof CommandResponseSchema>;

// ---------------------------------------------------------------- dependency setup

/**
 * One word of a setup command (the project's `setup` setting). Words hold no whitespace and no
 * character a shell gives meaning to: the install runs without a shell, under an allow-list that is
 * exactly its own argv, and npm hands some arguments on to one.
 */
export const SetupWordSchema = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^\s;&|`$<>(){}*?[\]!'"\\]+$/, { message: 'setup words must not contain whitespace or shell metacharacters' });

/** One dependency-install command as an argv, e.g. ["npm", "ci"]. */
export const SetupArgvSchema = z.array(SetupWordSchema).min(1, { message: 'a setup command needs at least a program' }).max(50);

/**
 * The project's `setup` setting: the commands that install a working copy's dependencies, run in
 * order before its first command. `[]` means none; absent means DEFAULT_SETUP (see resolveSetupCommands).
 */
export const SetupCommandsSchema = z.array(SetupArgvSchema).max(5, { message: 'at most 5 setup commands' });
export type SetupCommands = z.infer<typeof SetupCommandsSchema>;

/** Lockfiles whose contents key the dependency cache, in the order they are hashed. */
export const DEPENDENCY_LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml'] as const;

/** What installs a working copy's dependencies when the project names no `setup`: `npm ci` for an npm lockfile. */
export const DEFAULT_SETUP: { readonly lockfiles: readonly string[]; readonly commands: SetupCommands } = {
  lockfiles: ['package-lock.json', 'npm-shrinkwrap.json'],
  commands: [['npm', 'ci']],
};

/** The commands to run for a working copy holding `lockfiles` (names at its root). */
export function resolveSetupCommands(setting: SetupCommands | undefined, lockfiles: readonly string[]): SetupCommands {
  if (setting !== undefined) return setting;
  return lockfiles.some((name) => DEFAULT_SETUP.lockfiles.includes(name)) ? DEFAULT_SETUP.commands : [];
}

/**
 * The registry an install uses instead of the default, with a short-lived read-only token: the
 * cell's CodeArtifact repository in cells without egress. The agent worker fetches the token, so
 * the setup function itself holds no AWS credentials worth stealing.
 */
export const RegistryAccessSchema = z.strictObject({
  url: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[^\s/@]+\/\S*\/$/, { message: 'registry url must be an http(s) URL without credentials ending in "/"' }),
  token: z.string().min(1).max(8192).regex(/^[^\s]+$/, { message: 'registry token must not contain whitespace' }),
});
export type RegistryAccess = z.infer<typeof RegistryAccessSchema>;

/** The longest an install may run (the sandbox function's maximum, like a command). */
export const MAX_SETUP_TIMEOUT_MS = MAX_COMMAND_TIMEOUT_MS;

export const SetupRequestSchema = z.strictObject({
  /** The working copy, relative to the workspace root. */
  workingCopy: RelativePathSchema,
  /** Whose dependency cache to use: caches are never shared between projects. */
  projectId: ProjectIdSchema,
  /** The project's `setup` setting; absent: the default for the lockfile found. */
  commands: SetupCommandsSchema.optional(),
  /** For all setup commands together. */
  timeoutMs: z.number().int().min(1).max(MAX_SETUP_TIMEOUT_MS),
  maxOutputBytes: z.number().int().min(1_024).max(1024 * 1024).default(64 * 1024),
  registry: RegistryAccessSchema.optional(),
});
export type SetupRequest = z.infer<typeof SetupRequestSchema>;
export type SetupRequestInput = z.input<typeof SetupRequestSchema>;

/**
 * What setting up a working copy came to. `skipped`: nothing to install. `reused`: node_modules
 * came from the project's cache for this lockfile. `installed`: the commands ran and succeeded
 * (and filled the cache, when there is a lockfile to key it by). `failed`: a command failed; the
 * last outcome is the failing one and nothing was cached.
 */
export const SetupResultSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('skipped'), reason: z.string() }),
  z.object({ status: z.literal('reused'), cacheKey: z.string(), durationMs: z.number().nonnegative() }),
  z.object({ status: z.literal('installed'), cacheKey: z.string().nullable(), outcomes: z.array(CommandOutcomeSchema), durationMs: z.number().nonnegative() }),
  z.object({ status: z.literal('failed'), cacheKey: z.string().nullable(), outcomes: z.array(CommandOutcomeSchema), durationMs: z.number().nonnegative() }),
]);
export type SetupResult = z.infer<typeof SetupResultSchema>;

export const SetupResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: SetupResultSchema }),
  z.object({ ok: z.literal(false), refusal: z.object({ reason: z.enum(COMMAND_REFUSALS), message: z.string() }) }),
]);
export type SetupResponse = z.infer<typeof SetupResponseSchema>;

export interface CommandRunner {
  /**
   * Where working copies live as this process sees them; requests name working copies relative
   * to it, so the agent worker and the sandbox function may mount the same file system at
   * different paths.
   */
  readonly workspaceRoot: string;
  /**
   * Runs one command. A command that runs and fails is an outcome (exit code, timedOut); a refused
   * command throws CommandRefusedError (lib/workspace/errors.ts); a runner that could not run it at all throws its own error.
   */
  run(request: CommandRequestInput): Promise<CommandOutcome>;
  /**
   * Installs a working copy's dependencies (the project's `setup`), from the project's cache when
   * the lockfile is unchanged. Unlike run, the install may reach a package registry. A failed
   * install is a result (`failed`); a refused request throws CommandRefusedError.
   */
  setup(request: SetupRequestInput): Promise<SetupResult>;
}
