// Dependency setup for working copies: the project's `setup` commands (default `npm ci` when there
// is an npm lockfile) run once per lockfile per project, and every later working copy with the
// same lockfile gets a copy of the cached node_modules instead of installing again.
//
// Cache layout on the workspace root (shared by every process that mounts it):
//   dependency-cache/<projectId>/<key>/node_modules   the installed tree, complete once entry.json exists
//   dependency-cache/<projectId>/<key>.lock            held while one process installs for that key
//   dependency-cache/<projectId>/npm-cache             npm's own cache, so a changed lockfile downloads only what changed
// The key is the sha256 of the lockfiles' contents and the setup commands. An entry appears by
// rename only after a successful install, so a failed or interrupted install is never reused.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../domain/canonical-json';
import {
  DEPENDENCY_LOCKFILES,
  resolveSetupCommands,
  SetupRequestSchema,
  type CommandOutcome,
  type CommandRequestInput,
  type CommandRunner,
  type SetupCommands,
  type SetupRequest,
  type SetupRequestInput,
  type SetupResponse,
  type SetupResult,
} from '../domain/commands';
import { logger } from '../powertools';
import { CommandRefusedError, ToolError } from './errors';
import { acquireLock } from './file-lock';
import { resolveInside } from './paths';
import { runCommand } from './sandbox';

/** The directory under the workspace root that holds every project's dependency cache. */
export const DEPENDENCY_CACHE_DIR = 'dependency-cache';

/** Written into each cached (and copied) node_modules: which cache entry it came from. */
const ORIGIN_FILE = '.cahoots-dependencies.json';
/** Written next to a cache entry's node_modules once it is complete. */
const ENTRY_FILE = 'entry.json';

/** A lock whose holder stopped refreshing it for this long (a crashed Lambda) is taken over. */
const LOCK_STALE_MS = 60_000;

/** Installs with a lockfile take at most this long unless the caller allows less. */
export const DEFAULT_SETUP_TIMEOUT_MS = 10 * 60_000;

/** Setup failed: the model sees what failed and that commands wait for a working install. */
export class DependencySetupFailedError extends ToolError {
  readonly code = 'DependencySetupFailed';
  constructor(
    readonly outcome: CommandOutcome,
    readonly cacheKey: string | null,
  ) {
    super(
      `${describeSetupFailure(outcome)}\n` +
        'No command runs in this working copy until the install succeeds. Fix package.json and the lockfile ' +
        '(the install is tried again once the lockfile changes), or report that the project\'s setup setting is wrong.',
    );
  }
}

/** What failed in an install, for people and models: the command, how it ended, the end of its output. */
export function describeSetupFailure(outcome: CommandOutcome): string {
  const how = outcome.timedOut ? 'timed out' : outcome.signal ? `was ended by ${outcome.signal}` : `exited with ${outcome.exitCode}`;
  const output = (outcome.stderr.trim() || outcome.stdout.trim()).slice(-2_000);
  return `installing the dependencies failed: ${JSON.stringify(outcome.argv)} ${how}.${output ? `\n${output}` : ''}`;
}

export interface ServeSetupOptions {
  /** The workspace root as this process sees it. */
  workspaceRoot: string;
  /** The install's network: `inherit` reaches the registry; `none` only works with offline-capable setups. */
  network?: 'inherit' | 'none';
}

interface LockfileFingerprint {
  /** Lockfile names present at the working copy root. */
  names: string[];
  /** sha256 of each, by name. */
  digests: Record<string, string>;
}

/** The lockfiles at a working copy's root and their digests. */
export async function fingerprintLockfiles(workingCopy: string): Promise<LockfileFingerprint> {
  const digests: Record<string, string> = {};
  for (const name of DEPENDENCY_LOCKFILES) {
    const bytes = await fsp.readFile(join(workingCopy, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR') return undefined;
      throw error;
    });
    if (bytes) digests[name] = createHash('sha256').update(bytes).digest('hex');
  }
  return { names: Object.keys(digests), digests };
}

/** The cache key of a working copy's dependencies, or null when there is no lockfile to key them by. */
export function dependencyCacheKey(lockfiles: LockfileFingerprint, commands: SetupCommands): string | null {
  if (lockfiles.names.length === 0) return null;
  return createHash('sha256').update(canonicalJson({ lockfiles: lockfiles.digests, commands })).digest('hex');
}

/**
 * Validates and serves one setup request. A bad request is a refusal (data, like a command's); a
 * failed install is a `failed` result; anything else that throws is a broken sandbox.
 */
export async function serveSetupRequest(raw: unknown, options: ServeSetupOptions): Promise<SetupResponse> {
  const parsed = SetupRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`);
    return { ok: false, refusal: { reason: 'InvalidRequest', message: `invalid setup request: ${problems.join('; ')}` } };
  }
  const request = parsed.data;
  const workingCopy = await resolveInside(options.workspaceRoot, request.workingCopy);
  if (!workingCopy.exists || !(await fsp.stat(workingCopy.absolute)).isDirectory()) {
    return { ok: false, refusal: { reason: 'NotADirectory', message: `the working copy ${request.workingCopy} does not exist under the workspace root` } };
  }
  return { ok: true, result: await setUpDependencies(workingCopy.absolute, request, options) };
}

async function setUpDependencies(workingCopy: string, request: SetupRequest, options: ServeSetupOptions): Promise<SetupResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const lockfiles = await fingerprintLockfiles(workingCopy);
  const commands = resolveSetupCommands(request.commands, lockfiles.names);
  if (commands.length === 0) {
    return {
      status: 'skipped',
      reason: request.commands ? 'the project sets no setup commands' : `no setup setting and no npm lockfile (${DEPENDENCY_LOCKFILES.slice(0, 2).join(', ')})`,
    };
  }
  const projectCache = join(options.workspaceRoot, DEPENDENCY_CACHE_DIR, request.projectId);
  await fsp.mkdir(projectCache, { recursive: true });
  const key = dependencyCacheKey(lockfiles, commands);
  const install = () => installInto(workingCopy, commands, request, options, join(projectCache, 'npm-cache'), started);

  // Without a lockfile nothing says when a cached tree would be stale: install every time.
  if (key === null) {
    const outcomes = await install();
    return { status: failed(outcomes) ? 'failed' : 'installed', cacheKey: null, outcomes, durationMs: elapsed() };
  }

  const entry = join(projectCache, key);
  if (await originOf(workingCopy) === key) return { status: 'reused', cacheKey: key, durationMs: elapsed() };
  if (await entryComplete(entry)) {
    await copyFromCache(entry, workingCopy);
    return { status: 'reused', cacheKey: key, durationMs: elapsed() };
  }

  // One install per key at a time; whoever waited finds the entry the holder made.
  const lock = await acquireLock(`${entry}.lock`, { staleMs: LOCK_STALE_MS, timeoutMs: request.timeoutMs });
  try {
    if (await entryComplete(entry)) {
      await copyFromCache(entry, workingCopy);
      return { status: 'reused', cacheKey: key, durationMs: elapsed() };
    }
    const outcomes = await install();
    if (failed(outcomes)) {
      logger.warn('dependency setup failed; nothing cached', { projectId: request.projectId, cacheKey: key, argv: outcomes.at(-1)!.argv });
      return { status: 'failed', cacheKey: key, outcomes, durationMs: elapsed() };
    }
    await storeInCache(projectCache, entry, key, workingCopy, commands);
    return { status: 'installed', cacheKey: key, outcomes, durationMs: elapsed() };
  } finally {
    await lock.release();
  }
}

const failed = (outcomes: readonly CommandOutcome[]): boolean => {
  const last = outcomes.at(-1);
  return last !== undefined && (last.exitCode !== 0 || last.timedOut || last.signal !== null);
};

/** Runs the commands in order in the working copy, stopping at the first that fails. */
async function installInto(
  workingCopy: string,
  commands: SetupCommands,
  request: SetupRequest,
  options: ServeSetupOptions,
  npmCacheDir: string,
  started: number,
): Promise<CommandOutcome[]> {
  const outcomes: CommandOutcome[] = [];
  for (const argv of commands) {
    const timeoutMs = Math.max(1, request.timeoutMs - Math.round(performance.now() - started));
    const outcome = await runCommand(argv, {
      root: workingCopy,
      // The project's own setting, so its allow-list is exactly itself.
      allowedCommands: [argv.join(' ')],
      timeoutMs,
      maxOutputBytes: request.maxOutputBytes,
      network: options.network ?? 'inherit',
      install: { npmCacheDir, ...(request.registry ? { registry: request.registry } : {}) },
    });
    outcomes.push(outcome);
    if (failed([outcome])) break;
  }
  return outcomes;
}

async function entryComplete(entry: string): Promise<boolean> {
  return fsp.access(join(entry, ENTRY_FILE)).then(() => true, () => false);
}

/** The cache key the working copy's node_modules came from, if it came from the cache. */
async function originOf(workingCopy: string): Promise<string | undefined> {
  try {
    const origin = JSON.parse(await fsp.readFile(join(workingCopy, 'node_modules', ORIGIN_FILE), 'utf8')) as { cacheKey?: unknown };
    return typeof origin.cacheKey === 'string' ? origin.cacheKey : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A copy, not a link: a test that writes into node_modules (a tool's cache, or a hostile patch of a
 * package) changes its own working copy only, never what the project's next task installs.
 */
async function copyFromCache(entry: string, workingCopy: string): Promise<void> {
  const target = join(workingCopy, 'node_modules');
  await fsp.rm(target, { recursive: true, force: true, maxRetries: 3 });
  const source = join(entry, 'node_modules');
  if (await fsp.access(source).then(() => true, () => false)) {
    await fsp.cp(source, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  }
}

/** Copies the installed tree to a staging directory and renames it into place: entries are complete or absent. */
async function storeInCache(projectCache: string, entry: string, key: string, workingCopy: string, commands: SetupCommands): Promise<void> {
  const installed = join(workingCopy, 'node_modules');
  const hasTree = await fsp.access(installed).then(() => true, () => false);
  if (hasTree) await fsp.writeFile(join(installed, ORIGIN_FILE), `${JSON.stringify({ cacheKey: key })}\n`);
  const staging = join(projectCache, `.staging-${key}-${randomBytes(6).toString('hex')}`);
  try {
    await fsp.mkdir(staging);
    if (hasTree) await fsp.cp(installed, join(staging, 'node_modules'), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await fsp.writeFile(join(staging, ENTRY_FILE), `${JSON.stringify({ cacheKey: key, commands, createdAt: new Date().toISOString() })}\n`);
    // A leftover without entry.json (a holder that died mid-rename on another file system) is replaced.
    await fsp.rm(entry, { recursive: true, force: true, maxRetries: 3 });
    await fsp.rename(staging, entry);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true, maxRetries: 3 });
  }
}

export interface DependencySetupOptions {
  projectId: string;
  /** The project's `setup` setting (absent: the default). */
  setup?: SetupCommands;
  /** Upper bound of one setup; default DEFAULT_SETUP_TIMEOUT_MS. */
  timeoutMs?: number;
  /** What is left of the caller's own deadline: the install's time is the agent's time. */
  timeLeftMs?: () => number;
}

/**
 * A CommandRunner that sets a working copy up before its first command, and again when its lockfile
 * changes. A failed install is remembered for that lockfile, so each later command reports it
 * (DependencySetupFailedError, a tool error the model sees) instead of installing again.
 */
export class DependencySetupRunner implements CommandRunner {
  private readonly prepared = new Map<string, { key: string; failure?: DependencySetupFailedError }>();

  constructor(
    private readonly inner: CommandRunner,
    private readonly options: DependencySetupOptions,
  ) {}

  get workspaceRoot(): string {
    return this.inner.workspaceRoot;
  }

  async run(request: CommandRequestInput): Promise<CommandOutcome> {
    await this.ensureSetUp(request.workingCopy);
    return this.inner.run(request);
  }

  setup(request: SetupRequestInput): Promise<SetupResult> {
    return this.inner.setup(request);
  }

  /**
   * Installs the working copy's dependencies now rather than before its first command; throws
   * DependencySetupFailedError when the install fails. DetectWork installs its snapshot once,
   * before the detectors run commands in it side by side.
   */
  prepare(workingCopy: string): Promise<void> {
    return this.ensureSetUp(workingCopy);
  }

  private async ensureSetUp(workingCopy: string): Promise<void> {
    const lockfiles = await fingerprintLockfiles(join(this.inner.workspaceRoot, workingCopy));
    const key = canonicalJson(lockfiles.digests);
    const known = this.prepared.get(workingCopy);
    if (known?.key === key) {
      if (known.failure) throw known.failure;
      return;
    }
    const timeLeft = this.options.timeLeftMs?.() ?? Number.POSITIVE_INFINITY;
    const timeoutMs = Math.max(1_000, Math.min(this.options.timeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS, timeLeft));
    const result = await this.inner.setup({
      workingCopy,
      projectId: this.options.projectId,
      ...(this.options.setup ? { commands: this.options.setup } : {}),
      timeoutMs,
    });
    logger.info('dependency setup', {
      workingCopy,
      status: result.status,
      ...(result.status === 'skipped' ? { reason: result.reason } : { cacheKey: result.cacheKey, durationMs: result.durationMs }),
    });
    if (result.status === 'failed') {
      const failure = new DependencySetupFailedError(result.outcomes.at(-1)!, result.cacheKey);
      this.prepared.set(workingCopy, { key, failure });
      throw failure;
    }
    this.prepared.set(workingCopy, { key });
  }
}

/** Turns a refusal answer into the error CommandRunner.setup promises. */
export function setupResultOf(response: SetupResponse): SetupResult {
  if (!response.ok) throw new CommandRefusedError(response.refusal.reason, response.refusal.message);
  return response.result;
}
