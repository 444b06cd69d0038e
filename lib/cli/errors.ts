// The CLI's named errors and the exit codes they map to: a usage error (bad flag, missing repo,
// unreachable model) is 2, anything that ran and did not succeed is 1.
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad input from the person at the terminal: one line saying what is wrong and what to do. */
export class UsageError extends Error {
  override name: string = 'UsageError';
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
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  readonly exitCode = EXIT.failed;
}

/** An API call answered with an error envelope. */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(`${code} (${status}): ${message}`);
  }
}

/** The API could not be reached at all (server down, DNS, TLS). */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Another process holds the data directory (dynalite's database can only be opened once). */
export class DataDirInUseError extends UsageError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the data directory ${dataDir} is in use by process ${pid}; wait for it to finish, stop it, or pass another --data-dir`,
      '--data-dir',
    );
    this.name = 'DataDirInUseError';
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.usage;
  return EXIT.failed;
}
