// The CommandRunner port's shapes (lib/ports/command-runner.ts is the port). Where an agent's commands run: one allow-listed command in one working copy under the workspace
// root. Locally the namespace sandbox runs it in this process's children; in a cell the sandbox
// function does, so model-written code never runs next to the agent's credentials. The request
// and response schemas are the wire format of the sandbox function and are parsed on both sides.
import * as z from 'zod';

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
}
