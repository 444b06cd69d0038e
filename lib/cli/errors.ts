// The CLI's named errors and the exit codes they map to: a usage error (bad flag, missing repo,
// unreachable model) is 2, anything that ran and did not succeed is 1. None of them reaches Step
// Functions; `stepFunctionsError` is `Cli.<code>` only to keep the one convention.
import { CahootsError } from '../domain/errors';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

abstract class CliError extends CahootsError {
  get stepFunctionsError(): string {
    return `Cli.${this.code}`;
  }
}

/** Bad input from the person at the terminal: one line saying what is wrong and what to do. */
export class UsageError extends CliError {
  readonly code: string = 'Usage';
  readonly permanent = true;
  readonly exitCode = EXIT.usage;
  constructor(
    message: string,
    /** The flag or argument at fault, e.g. `--model`. */
    readonly flag?: string,
  ) {
    super(message);
  }
}

/** The command ran but could not do what was asked (API refused, goal not found …). */
export class CommandFailedError extends CliError {
  readonly code: string = 'CommandFailed';
  readonly permanent = true;
  readonly exitCode = EXIT.failed;
}

/** An API call answered with an error envelope. */
export class ApiRequestError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(`${code} (${status}): ${message}`);
  }

  /** The API said the request itself is wrong (4xx); a conflict or throttling may pass later. */
  get permanent(): boolean {
    return this.status < 500 && this.status !== 409 && this.status !== 429;
  }
}

/** The API could not be reached at all (server down, DNS, TLS). */
export class ApiUnreachableError extends CliError {
  readonly code = 'ApiUnreachable';
  readonly permanent = false;
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Another process holds the data directory (dynalite's database can only be opened once). */
export class DataDirInUseError extends UsageError {
  override readonly code = 'DataDirInUse';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the data directory ${dataDir} is in use by process ${pid}; wait for it to finish, stop it, or pass another --data-dir`,
      '--data-dir',
    );
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.usage;
  return EXIT.failed;
}
