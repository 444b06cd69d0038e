// Named errors of the workspace: git operations, the sandbox runner and the file tools.
// Errors extending ToolError carry a message written for the model that made the call.
import type { CommandRefusalReason } from '../domain/commands';
import { CahootsError } from '../domain/errors';

/**
 * Base class so callers can tell workspace failures from bugs elsewhere. Permanent unless a class
 * says otherwise: a missing repository or a conflicting merge stays that way when retried.
 */
export abstract class WorkspaceError extends CahootsError {
  get stepFunctionsError(): string {
    return `Workspace.${this.code}`;
  }
  readonly permanent: boolean = true;
}

// ---------------------------------------------------------------- git

export class NotAGitRepositoryError extends WorkspaceError {
  readonly code = 'NotAGitRepository';
  constructor(readonly path: string, reason: string) {
    super(`${path} is not a usable git repository: ${reason}`);
  }
}

export class RefNotFoundError extends WorkspaceError {
  readonly code = 'RefNotFound';
  constructor(readonly ref: string) {
    super(`git ref ${ref} does not exist`);
  }
}

/** Another writer (a git process, another Cahoots process) holds `<ref>.lock`. */
export class RefLockedError extends WorkspaceError {
  readonly code = 'RefLocked';
  /** Another writer was first; reading the ref again and retrying can succeed. */
  override readonly permanent = false;
  constructor(readonly ref: string, readonly lockPath: string) {
    super(
      `git ref ${ref} is locked by another writer (${lockPath} exists); ` +
        'if no git or Cahoots process is running on this repository, the lock is stale and can be deleted',
    );
  }
}

/** A compare-and-swap ref update found a value other than the one it read. */
export class RefChangedError extends WorkspaceError {
  readonly code = 'RefChanged';
  /** Another writer was first; reading the ref again and retrying can succeed. */
  override readonly permanent = false;
  constructor(
    readonly ref: string,
    readonly expected: string | null,
    readonly actual: string | null,
  ) {
    super(`git ref ${ref} moved during the update (expected ${expected ?? 'absent'}, found ${actual ?? 'absent'})`);
  }
}

/** Two refs whose names cannot both exist (`a` and `a/b`), as in git. */
export class RefNameConflictError extends WorkspaceError {
  readonly code = 'RefNameConflict';
}

export class WorkingCopyError extends WorkspaceError {
  readonly code = 'WorkingCopy';
}

/**
 * A task branch could not be merged into its goal branch without a human or an agent deciding.
 * The goal branch is left exactly where it was.
 */
export class MergeConflictError extends WorkspaceError {
  readonly code = 'MergeConflict';
  constructor(
    readonly goalBranch: string,
    readonly taskBranch: string,
    /** Repository-relative paths both sides changed in ways that do not merge. */
    readonly paths: string[],
    /** `content`: overlapping edits; `unsupported`: file/directory, binary and the like. */
    readonly kind: 'content' | 'unsupported',
    readonly direction: 'task-into-goal' | 'goal-into-task' = 'task-into-goal',
  ) {
    const [from, into] = direction === 'task-into-goal' ? [taskBranch, goalBranch] : [goalBranch, taskBranch];
    super(
      `merging ${from} into ${into} conflicts in ${paths.length} path(s): ${paths.join(', ')}` +
        (kind === 'unsupported' ? ' (changes that cannot be merged automatically)' : ''),
    );
  }
}

/** A merge is being committed while files still hold conflict markers. */
export class UnresolvedConflictError extends WorkspaceError {
  readonly code = 'UnresolvedConflict';
  constructor(readonly paths: string[]) {
    super(
      `conflict markers (<<<<<<< / >>>>>>>) are still in: ${paths.join(', ')}. ` +
        'Edit each file to keep the right code and remove the markers, then commit again.',
    );
  }
}

/** A working copy outside the command runner's workspace root: the runner could not reach it. */
export class WorkingCopyOutsideWorkspaceError extends WorkspaceError {
  readonly code = 'WorkingCopyOutsideWorkspace';
  constructor(readonly workingCopy: string, readonly workspaceRoot: string) {
    super(`the working copy ${workingCopy} is not under the command runner's workspace root ${workspaceRoot}`);
  }
}

// ---------------------------------------------------------------- tools

/** A failure caused by the tool call itself; the message is meant to be shown to the model. */
export abstract class ToolError extends WorkspaceError {}

export class ToolInputError extends ToolError {
  readonly code = 'ToolInput';
  constructor(readonly tool: string, readonly issues: string[]) {
    super(`invalid input for ${tool}: ${issues.join('; ')}`);
  }
}

export class PathOutsideWorkspaceError extends ToolError {
  readonly code = 'PathOutsideWorkspace';
  constructor(readonly path: string, reason: string) {
    super(
      `path "${path}" is refused: ${reason}. ` +
        'Use a path relative to the root of the working copy, without "..", that stays inside it and outside .git.',
    );
  }
}

export class FileNotFoundError extends ToolError {
  readonly code = 'FileNotFound';
  constructor(readonly path: string) {
    super(`"${path}" does not exist in the working copy`);
  }
}

export class NotAFileError extends ToolError {
  readonly code = 'NotAFile';
  constructor(readonly path: string, actual: string) {
    super(`"${path}" is a ${actual}, not a regular file`);
  }
}

export class NotADirectoryError extends ToolError {
  readonly code = 'NotADirectory';
  constructor(readonly path: string) {
    super(`"${path}" is not a directory`);
  }
}

export class FileTooLargeError extends ToolError {
  readonly code = 'FileTooLarge';
  constructor(readonly path: string, readonly bytes: number, readonly limit: number, hint: string) {
    super(`"${path}" is ${bytes} bytes, over the ${limit}-byte limit; ${hint}`);
  }
}

export class BinaryFileError extends ToolError {
  readonly code = 'BinaryFile';
  constructor(readonly path: string) {
    super(`"${path}" looks like a binary file; the file tools only read and edit text`);
  }
}

/** edit_file needs its old string exactly once; `matches` says how often it was found. */
export class EditMatchError extends ToolError {
  readonly code = 'EditMatch';
  constructor(readonly path: string, readonly matches: number) {
    super(
      matches === 0
        ? `oldString was not found in "${path}" (0 matches). Read the file and copy the exact text, including whitespace.`
        : `oldString occurs ${matches} times in "${path}"; it must occur exactly once. Include more surrounding lines to make it unique.`,
    );
  }
}

export class InvalidSearchPatternError extends ToolError {
  readonly code = 'InvalidSearchPattern';
  constructor(readonly pattern: string, reason: string) {
    super(`search pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${reason}`);
  }
}

/** A regex search ran past its time budget and was stopped (see regex-search.ts). */
export class SearchTimeoutError extends ToolError {
  readonly code = 'SearchTimeout';
  constructor(readonly pattern: string, readonly timeoutMs: number) {
    super(
      `search pattern ${JSON.stringify(pattern)} did not finish within ${timeoutMs / 1000} s and was stopped. ` +
        'Patterns with nested or overlapping repetition such as (a+)+ or (a|a)* take exponential time; ' +
        'simplify the pattern, narrow the path, or search for a plain substring (regex: false).',
    );
  }
}

/** The sandbox runner only runs allow-listed commands, with nothing but operands added. */
export class CommandNotAllowedError extends ToolError {
  readonly code = 'CommandNotAllowed';
  constructor(readonly argv: string[], readonly allowed: string[], readonly reason = 'it does not start with an allowed command') {
    super(
      `command ${JSON.stringify(argv)} is not allowed: ${reason}. Allowed commands: ` +
        (allowed.length ? allowed.map((a) => JSON.stringify(a)).join(', ') : '(no commands are allowed in this project)') +
        '. An allowed command may be followed, after an optional "--", by file or test-name arguments ' +
        '(relative paths inside the working copy, no options). Arguments are matched word by word and no shell is used, ' +
        'so pipes, redirects and "&&" do not work.',
    );
  }
}

/** Network isolation was requested but this machine cannot provide it. */
export class NetworkIsolationUnavailableError extends WorkspaceError {
  readonly code = 'NetworkIsolationUnavailable';
  constructor(reason: string) {
    super(`network isolation was requested but is unavailable here: ${reason}`);
  }
}

/** A CommandRunner refused the command (schema, allow-list, paths); the message is written for the model. */
export class CommandRefusedError extends ToolError {
  readonly code = 'CommandRefused';
  constructor(
    readonly reason: CommandRefusalReason,
    message: string,
  ) {
    super(message);
  }
}
