// The sandboxed command runner: runs an allow-listed argv (no shell) in a working copy with a
// timeout, capped output, a scrubbed environment and a private HOME, and kills everything the
// command started when it ends: in a PID namespace of its own where user namespaces work,
// otherwise by tracking its descendants (process-tree.ts).
//
// What it does NOT isolate (see docs/workspace.md): the network (unless `network: 'none'` is asked
// for and `unshare` works), the file system outside the working copy (a command can write wherever
// the process user can), CPU and memory, and — without a PID namespace — /proc: on Linux a child
// running as the same user can read its parent's /proc/<pid>/environ, which in Lambda holds the
// function's credentials. The real boundaries are a least-privilege role for the agent function
// and a VPC without egress.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { logger } from '../powertools';
import { CommandNotAllowedError, NetworkIsolationUnavailableError, NotADirectoryError } from './errors';
import { resolveInside } from './paths';
import { RUN_MARKER_VARIABLE, signalRunProcesses } from './process-tree';
import type { RegistryAccess } from '../domain/commands';

export interface CommandResult {
  argv: string[];
  /** Exit code, or null when the process was ended by a signal. 127: not found, 126: not executable. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Whether stdout or stderr was cut to the output cap (the text then says where and how much). */
  truncated: boolean;
  durationMs: number;
}

export interface RunCommandOptions {
  /** The working copy; the command runs inside it. */
  root: string;
  /** Directory relative to root (default: root itself). */
  cwd?: string;
  /** Allow-list entries such as "npm test"; see matchAllowedCommand. */
  allowedCommands: readonly string[];
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL once the timeout fires. */
  killGraceMs?: number;
  /** Cap per stream, in bytes; the middle of longer output is cut. */
  maxOutputBytes?: number;
  /** Extra variables for the child. Names that look like secrets are dropped all the same. */
  env?: Record<string, string>;
  /**
   * HOME for the child. Defaults to a fresh, private (0700) directory made for this one run and
   * deleted after it — never the parent's HOME, whose ~/.npmrc, ~/.git-credentials or ~/.aws tools
   * read without being asked, and never a directory shared between runs, where one task's planted
   * ~/.npmrc would change what another project's `npm test` runs.
   */
  home?: string;
  /** 'none' runs the command in a new network namespace with `unshare`, or refuses to run. */
  network?: 'inherit' | 'none';
  /**
   * Run the command as the first process of a new PID namespace, so that ending it ends every
   * process it started (setsid or not). Default: wherever `unshare` permits it. false, or where
   * it is not permitted: the runner tracks and kills the command's processes itself.
   */
  pidNamespace?: boolean;
  /**
   * Set for the dependency-install step only: npm may fetch (commands are always offline), using
   * `npmCacheDir` as its cache and, when given, `registry` (written to the run's private
   * ~/.npmrc, never to the environment, where the token would be dropped as a secret anyway).
   */
  install?: { npmCacheDir?: string; registry?: RegistryAccess };
}

export const SANDBOX_DEFAULTS = {
  timeoutMs: 120_000,
  killGraceMs: 2_000,
  maxOutputBytes: 64 * 1024,
} as const;

/** The words of an allow-list entry: split on whitespace; quotes have no meaning. */
export function allowListWords(entry: string): string[] {
  return entry.trim().split(/\s+/).filter(Boolean);
}

/**
 * Why an argument after an allow-list entry's words is refused, or undefined when it is an operand
 * the sandbox lets through: a file or test-name filter such as `test/a.test.ts` or `login`.
 * Options are refused because they change what the program does, not what it works on:
 * `npm test --prefix <dir>` runs another package's scripts, `--script-shell=<program>` runs any
 * program, `node --test --import <module>` loads arbitrary code. Paths must stay relative and
 * inside the working copy.
 */
export function extraArgumentProblem(argument: string): string | undefined {
  if (argument.startsWith('-')) return 'options (arguments starting with "-") cannot be added to an allowed command';
  if (argument.includes('\0')) return 'it contains a NUL byte';
  if (isAbsolute(argument) || argument.startsWith('~') || /^[A-Za-z]:/.test(argument)) return 'absolute paths and "~" are not allowed';
  if (argument.split(/[\\/]/).includes('..')) return '".." is not allowed';
  return undefined;
}

/**
 * No shell runs argv, but tools such as npm hand their arguments on to one (`npm test -- x` becomes
 * a line for sh), so operands may not hold characters a shell gives meaning to. The one exception
 * is the value of an option the allow-list entry ends with ("node -e", "python3 -c"): whoever
 * allowed that allowed code.
 */
export function shellMetacharacterProblem(argument: string): string | undefined {
  if (/[;&|`$<>(){}*?[\]!'"\\\n\r]/.test(argument)) return 'shell metacharacters (; & | ` $ < > ( ) { } * ? [ ] ! quotes, backslash, newline) are not allowed';
  return undefined;
}

export type AllowListMatch = { allowedBy: string } | { allowedBy?: undefined; problem: string };

/**
 * Judge `argv` against the allow-list. Rule: an entry's words must equal the first words of argv,
 * one by one and exactly; what follows may only be operands (see extraArgumentProblem), optionally
 * after one "--". So "npm test" allows ["npm","test"], ["npm","test","--","test/a.test.js"] and
 * ["npm","test","login"], but not ["npm","test","--prefix","/x"], ["npm","testx"],
 * ["npm","run","test"] or ["/usr/bin/npm","test"]. The longest matching entry decides, so an
 * entry that names an option ("npx tsc --noEmit") allows exactly that option.
 */
export function judgeCommand(argv: readonly string[], allowed: readonly string[]): AllowListMatch {
  const entries = allowed
    .map((entry) => ({ entry, words: allowListWords(entry) }))
    .filter(({ words }) => words.length > 0 && words.length <= argv.length && words.every((word, i) => argv[i] === word))
    .sort((a, b) => b.words.length - a.words.length);
  let problem = 'it does not start with an allowed command';
  for (const { entry, words } of entries) {
    const extras = argv.slice(words.length);
    const operands = extras[0] === '--' ? extras.slice(1) : extras;
    const takesValue = words[words.length - 1]!.startsWith('-') && words.length > 1;
    const refused = operands
      .map((argument, index) => ({
        argument,
        why: extraArgumentProblem(argument) ?? (takesValue && index === 0 ? undefined : shellMetacharacterProblem(argument)),
      }))
      .find(({ why }) => why);
    if (!refused) return { allowedBy: entry };
    problem = `argument ${JSON.stringify(refused.argument)} is refused: ${refused.why}`;
  }
  return { problem };
}

/** The allow-list entry `argv` falls under, if any (see judgeCommand for the rule). */
export function matchAllowedCommand(argv: readonly string[], allowed: readonly string[]): string | undefined {
  return judgeCommand(argv, allowed).allowedBy;
}

// Secrets by name. Applied to everything the child receives, including caller-supplied extras.
const SECRET_NAME_PATTERNS = [
  /^AWS_/i,
  /^AMAZON_/i,
  /AMZN/i,
  /TOKEN/i,
  /SECRET/i,
  /PASSW(OR)?D/i,
  /CREDENTIAL/i,
  /(^|_)KEY$/i,
  /(^|_)KEY_/i,
  /PRIVATE/i,
  /_AUTH/i,
  /^AUTH/i,
  /SESSION/i,
  /COOKIE/i,
  /^NPM_CONFIG_.*(AUTH|TOKEN|PASSWORD)/i,
  /^(GITHUB|GH|GITLAB|GL|BITBUCKET|ACTIONS|RUNNER)_/i,
  /^(OPENAI|ANTHROPIC|AZURE|GOOGLE|GCP|GCLOUD|HF|HUGGING)/i,
  /^SSH_/i,
  /^CAHOOTS_/i,
  /^POWERTOOLS_/i,
  /^_/,
];

export function isSecretEnvName(name: string): boolean {
  return SECRET_NAME_PATTERNS.some((pattern) => pattern.test(name));
}

// The only variables inherited from this process: enough to find programs and pick a locale.
const INHERITED = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'LD_LIBRARY_PATH'];

/** The per-run directories a command gets in place of the host's HOME and temp dir. */
export interface RunDirectories {
  home: string;
  tmp: string;
}

/**
 * A fresh directory for one run under the host's temp dir, with `home` and `tmp` inside. mkdtemp
 * picks an unpredictable name and creates it 0700, so no other user can have made it first or
 * look inside. Remove it with removeRunDirectories once the run is over.
 */
export async function createRunDirectories(): Promise<RunDirectories & { base: string }> {
  const base = await fsp.mkdtemp(join(tmpdir(), 'cahoots-run-'));
  await fsp.chmod(base, 0o700);
  const home = join(base, 'home');
  const tmp = join(base, 'tmp');
  await fsp.mkdir(home, { mode: 0o700 });
  await fsp.mkdir(tmp, { mode: 0o700 });
  return { base, home, tmp };
}

/** The child's whole environment, built from nothing. */
export function buildSandboxEnv(
  parent: NodeJS.ProcessEnv,
  extra: Record<string, string>,
  directories: RunDirectories,
  purpose: 'command' | 'install' = 'command',
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, {
    HOME: directories.home,
    TMPDIR: directories.tmp,
    CI: '1',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    GIT_TERMINAL_PROMPT: '0',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  });
  for (const [name, value] of Object.entries(extra)) env[name] = value;
  // npm and npx never fetch: with the private, empty HOME there is no cache either, so an `npx x`
  // inside a test script fails instead of installing and running third-party code.
  // The install step is the one exception: it exists to fetch.
  if (purpose === 'command') env.npm_config_offline = 'true';
  for (const name of Object.keys(env)) {
    if (isSecretEnvName(name)) {
      logger.warn('sandbox dropped a variable that looks like a secret', { name });
      delete env[name];
    }
  }
  return env;
}

interface NetworkIsolation {
  available: boolean;
  /** `ip` found and allowed inside the namespace, so loopback can be brought up. */
  ipPath?: string;
}
let networkIsolation: NetworkIsolation | undefined;

const IP_CANDIDATES = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];

function probeNetworkIsolation(): NetworkIsolation {
  const unshare = ['--user', '--map-root-user', '--net', '--'];
  if (spawnSync('unshare', [...unshare, 'true'], { stdio: 'ignore', timeout: 5_000 }).status !== 0) return { available: false };
  // A new network namespace starts with loopback down; tests that talk to a server on 127.0.0.1
  // need it up, and bringing it up inside the namespace opens nothing to the outside.
  for (const ipPath of IP_CANDIDATES) {
    if (spawnSync('unshare', [...unshare, ipPath, 'link', 'set', 'lo', 'up'], { stdio: 'ignore', timeout: 5_000 }).status === 0) {
      return { available: true, ipPath };
    }
  }
  return { available: true };
}

/** Whether `unshare --user --map-root-user --net` works for this user (tried once). */
export function networkIsolationAvailable(): boolean {
  networkIsolation ??= probeNetworkIsolation();
  return networkIsolation.available;
}

/** Whether isolated commands get a working loopback (127.0.0.1) inside their namespace. */
export function isolatedLoopbackAvailable(): boolean {
  return networkIsolationAvailable() && networkIsolation?.ipPath !== undefined;
}

interface PidIsolation {
  available: boolean;
  /** /proc remounted inside, so the command sees only its own processes (not the runner's environ). */
  ownProc: boolean;
}
let pidIsolation: PidIsolation | undefined;

const PID_NAMESPACE_FLAGS = ['--pid', '--fork', '--kill-child'];

function probePidIsolation(): PidIsolation {
  const attempt = (flags: string[]) =>
    spawnSync('unshare', ['--user', '--map-root-user', ...flags, '--', 'true'], { stdio: 'ignore', timeout: 5_000 }).status === 0;
  if (attempt([...PID_NAMESPACE_FLAGS, '--mount-proc'])) return { available: true, ownProc: true };
  if (attempt(PID_NAMESPACE_FLAGS)) return { available: true, ownProc: false };
  return { available: false, ownProc: false };
}

/** Whether commands can run in a PID namespace of their own (tried once). */
export function pidIsolationAvailable(): boolean {
  pidIsolation ??= probePidIsolation();
  return pidIsolation.available;
}

/**
 * The argv that runs `argv` in the namespaces asked for, or argv itself when none are. Inside,
 * a small shell stays the namespace's first process and runs the command as its child: the first
 * process of a PID namespace ignores signals it has no handler for, so the command itself must not
 * be it, or a timeout's SIGTERM would be lost. When that shell exits, the kernel kills whatever is
 * left in the namespace; when the runner kills `unshare`, --kill-child takes the shell with it.
 */
function isolatedArgv(argv: string[], network: 'inherit' | 'none', pidNamespace: boolean): { command: string[]; wrapped: boolean } {
  const flags: string[] = [];
  const script: string[] = [];
  if (network === 'none') {
    flags.push('--net');
    const ipPath = networkIsolation?.ipPath;
    if (ipPath) script.push(`${ipPath} link set lo up || exit 125`);
  }
  if (pidNamespace) {
    flags.push(...PID_NAMESPACE_FLAGS);
    if (pidIsolation?.ownProc) flags.push('--mount-proc');
  }
  if (flags.length === 0) return { command: argv, wrapped: false };
  script.push('command -v "$1" >/dev/null 2>&1 || { echo "command not found: $1" >&2; exit 127; }', '"$@"', 'exit $?');
  return { command: ['unshare', '--user', '--map-root-user', ...flags, '--', '/bin/sh', '-c', script.join('\n'), 'sandbox', ...argv], wrapped: true };
}

/** A shell reports a command killed by signal N as exit status 128 + N; give the signal back its name. */
function unwrapExitStatus(exitCode: number | null, signal: string | null): { exitCode: number | null; signal: string | null } {
  if (exitCode === null || exitCode <= 128) return { exitCode, signal };
  const name = Object.entries(osConstants.signals).find(([, number]) => number === exitCode - 128)?.[0];
  return name ? { exitCode: null, signal: name } : { exitCode, signal };
}

/**
 * Keeps the first and last halves of a stream once it outgrows the cap, so both the command line
 * echo and the final summary (where test runners put failures) survive.
 */
class CappedOutput {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail = Buffer.alloc(0);
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const headRoom = Math.ceil(this.limit / 2) - this.headBytes;
    if (headRoom > 0) {
      const part = chunk.subarray(0, headRoom);
      this.head.push(part);
      this.headBytes += part.length;
      chunk = chunk.subarray(part.length);
    }
    if (chunk.length === 0) return;
    const tailLimit = this.limit - Math.ceil(this.limit / 2);
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = joined.subarray(Math.max(0, joined.length - tailLimit));
  }

  get truncated(): boolean {
    return this.total > this.limit;
  }

  text(stream: string): string {
    const head = Buffer.concat(this.head).toString('utf8');
    if (!this.truncated) return head + this.tail.toString('utf8');
    const cut = this.total - this.headBytes - this.tail.length;
    return `${head}\n[... ${cut} bytes of ${stream} cut by the sandbox; ${this.total} bytes in all ...]\n${this.tail.toString('utf8')}`;
  }
}

/**
 * Where `npx <name>` finds its program without installing anything: node_modules/.bin/<name> in
 * the cwd or a directory above it, up to the working copy root. npx itself would ask the registry
 * for any name it does not find locally (even with --no-install) and run what it downloads — for
 * `npx tsc` in a repository without TypeScript, the unrelated `tsc` package.
 */
async function localBinary(root: string, cwd: string, name: string): Promise<{ path: string } | { problem: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    return { problem: `npx runs only a program installed in the working copy, named by its first argument; ${JSON.stringify(name)} is not such a name` };
  }
  const rootReal = await fsp.realpath(root);
  for (let dir = cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '.bin', name);
    if (await fsp.access(candidate, fsConstants.X_OK).then(() => true, () => false)) return { path: candidate };
    if (dir === rootReal || dir === dirname(dir) || !dir.startsWith(rootReal)) break;
  }
  return {
    problem:
      `npx: ${name} is not installed in the working copy (no node_modules/.bin/${name}). ` +
      'The sandbox never installs packages; add it to the devDependencies and install the dependencies first',
  };
}

/** The result of a command that was allowed but could not start, shaped like a missing program. */
function refusedRun(argv: readonly string[], allowedBy: string, reason: string): CommandResult {
  logger.info('sandbox command did not start', { argv, allowedBy, reason });
  return { argv: [...argv], exitCode: 127, signal: null, stdout: '', stderr: `${reason}\n`, timedOut: false, truncated: false, durationMs: 0 };
}

/**
 * Run `argv` under the sandbox rules. A command that runs and fails is a result (non-zero
 * exitCode, or timedOut); only a refused command (CommandNotAllowedError) or a bad cwd throws.
 */
export async function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const judged = judgeCommand(argv, options.allowedCommands);
  if (judged.allowedBy === undefined) throw new CommandNotAllowedError([...argv], [...options.allowedCommands], judged.problem);
  const allowedBy = judged.allowedBy;
  const cwd = await resolveInside(options.root, options.cwd ?? '.');
  if (!cwd.exists || !(await fsp.stat(cwd.absolute)).isDirectory()) throw new NotADirectoryError(cwd.relative);

  let program = [...argv];
  if (argv[0] === 'npx') {
    const local = await localBinary(options.root, cwd.absolute, argv[1] ?? '');
    if ('problem' in local) return refusedRun(argv, allowedBy, local.problem);
    program = [local.path, ...argv.slice(2)];
  }

  const network = options.network ?? 'inherit';
  if (network === 'none' && !networkIsolationAvailable()) {
    throw new NetworkIsolationUnavailableError('`unshare --user --net` is not permitted for this user (user namespaces disabled?)');
  }
  const pidNamespace = options.pidNamespace !== false && pidIsolationAvailable();
  const isolated = isolatedArgv(program, network, pidNamespace);

  const runDirectories = await createRunDirectories();
  try {
    const home = options.home ?? runDirectories.home;
    if (options.install?.registry) await writeRegistryNpmrc(home, options.install.registry);
    return await runInSandbox(argv, isolated, allowedBy, cwd.absolute, options, { home, tmp: runDirectories.tmp });
  } finally {
    await fsp.rm(runDirectories.base, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** `registry=<url>` and its token, in the run's private HOME (mode 0600), for npm to read. */
async function writeRegistryNpmrc(home: string, registry: RegistryAccess): Promise<void> {
  const url = new URL(registry.url);
  // npm matches credentials by "//host/path/" without the protocol.
  const scope = `//${url.host}${url.pathname}`;
  const lines = [`registry=${registry.url}`, `${scope}:_authToken=${registry.token}`, ''];
  await fsp.writeFile(join(home, '.npmrc'), lines.join('\n'), { mode: 0o600 });
}

async function runInSandbox(
  argv: readonly string[],
  isolated: { command: string[]; wrapped: boolean },
  allowedBy: string,
  cwd: string,
  options: RunCommandOptions,
  directories: RunDirectories,
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs;
  const killGraceMs = options.killGraceMs ?? SANDBOX_DEFAULTS.killGraceMs;
  const limit = options.maxOutputBytes ?? SANDBOX_DEFAULTS.maxOutputBytes;
  const stdout = new CappedOutput(limit);
  const stderr = new CappedOutput(limit);
  const started = performance.now();
  const [file, ...args] = isolated.command as [string, ...string[]];
  // Marks every process of this run, for the runs that have no PID namespace to end them all.
  const runId = randomUUID();

  const outcome = await new Promise<{ exitCode: number | null; signal: string | null; timedOut: boolean; spawnError?: string }>(
    (resolvePromise) => {
      // detached: the child leads a new process group, so a timeout can kill its children too.
      const child = spawn(file, args, {
        cwd,
        env: {
          ...buildSandboxEnv(
            process.env,
            { ...(options.env ?? {}), ...(options.install?.npmCacheDir ? { npm_config_cache: options.install.npmCacheDir } : {}) },
            directories,
            options.install ? 'install' : 'command',
          ),
          [RUN_MARKER_VARIABLE]: runId,
        },
        detached: true,
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      let timedOut = false;
      let settled = false;
      // The group holds the command and whatever it started without leaving it; processes that
      // left it (setsid) end with the PID namespace or are found by signalRunProcesses.
      const killAll = async (signal: NodeJS.Signals): Promise<void> => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // The group is already gone.
        }
        await signalRunProcesses(child.pid, runId, signal);
      };
      const reportKillFailure = (error: unknown): void => logger.warn("sandbox could not signal the command's processes", { error: error as Error });
      const timer = setTimeout(() => {
        timedOut = true;
        killAll('SIGTERM').catch(reportKillFailure);
        killTimer = setTimeout(() => {
          killAll('SIGKILL').catch(reportKillFailure);
        }, killGraceMs);
      }, timeoutMs);
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (result: { exitCode: number | null; signal: string | null; spawnError?: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        // Nothing the command started may outlive it (servers, watchers, stray test workers).
        killAll('SIGKILL').then(
          () => resolvePromise({ ...result, timedOut }),
          (error: unknown) => {
            reportKillFailure(error);
            resolvePromise({ ...result, timedOut });
          },
        );
      };
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error: NodeJS.ErrnoException) => {
        const exitCode = error.code === 'ENOENT' ? 127 : error.code === 'EACCES' ? 126 : 1;
        const reason = error.code === 'ENOENT' ? 'command not found' : error.message;
        finish({ exitCode, signal: null, spawnError: `${reason}: ${file}` });
      });
      let exit: { exitCode: number | null; signal: string | null } | undefined;
      child.on('exit', (exitCode, signal) => {
        exit = { exitCode, signal };
        // Wait for the pipes to drain, but not for grandchildren that hold them open forever.
        setTimeout(() => finish({ exitCode, signal }), 500);
      });
      child.on('close', (exitCode, signal) => finish(exit ?? { exitCode, signal }));
    },
  );

  const status = isolated.wrapped ? unwrapExitStatus(outcome.exitCode, outcome.signal) : outcome;
  const result: CommandResult = {
    argv: [...argv],
    exitCode: status.exitCode,
    signal: status.signal,
    stdout: stdout.text('stdout'),
    stderr: outcome.spawnError ? `${outcome.spawnError}\n${stderr.text('stderr')}` : stderr.text('stderr'),
    timedOut: outcome.timedOut,
    truncated: stdout.truncated || stderr.truncated,
    durationMs: Math.round(performance.now() - started),
  };
  logger.info('sandbox command finished', {
    argv: result.argv,
    allowedBy,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    durationMs: result.durationMs,
  });
  return result;
}
