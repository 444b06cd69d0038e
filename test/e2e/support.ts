// Drives the `cahoots` command as a person would: spawned processes (bin/cahoots.js under this
// Node), a real copy of examples/todo-app as a git repository, and the git binary to check results.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { createTempRepo, runGit, type TempRepo } from '../support/temp-repo';

export const ROOT = join(import.meta.dirname, '..', '..');
export const EXAMPLE_DIR = join(ROOT, 'examples', 'todo-app');
export const EXAMPLE_REPLAY = join(ROOT, 'examples', 'todo-app.replay.json');
export const EXAMPLE_GOAL = 'Add a remove(id) function and a count of open todos, with tests';
const BIN = join(ROOT, 'bin', 'cahoots.js');

/** The example project's files, as createTempRepo takes them. */
export function exampleFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(EXAMPLE_DIR, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(EXAMPLE_DIR);
  return files;
}

/** A fresh git repository (branch main, one commit) holding examples/todo-app. */
export const exampleRepo = (): TempRepo => createTempRepo(exampleFiles());

/** The environment a spawned command gets: this one without a default model, plus `extra`. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CAHOOTS_MODEL: undefined, CAHOOTS_WORKSPACE_ROOT: undefined, CAHOOTS_PRICES: undefined };
  for (const [name, value] of Object.entries(extra)) env[name] = value;
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  return env;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How long a spawned CLI may take before the test gives up on it: a guard against hangs, not a
 * speed limit, so it is generous enough for a loaded 2-core CI machine.
 */
const CLI_HANG_GUARD_MS = 240_000;

/** Runs `cahoots <args>` to the end. */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cahoots ${args.join(' ')} did not finish within ${options.timeoutMs ?? CLI_HANG_GUARD_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? CLI_HANG_GUARD_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs `cahoots <args>` through the CLI's `main` in this process, with `env` as the whole
 * environment for the call (put back afterwards): for checks that end before any work starts,
 * where a spawned process would spend its time starting Node. Not for commands that run goals.
 */
export async function runCliInProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const { main } = await import('../../lib/cli/program');
  const { Output } = await import('../../lib/cli/output');
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
  Object.assign(process.env, env);
  try {
    const code = await main(args, new Output({ stdout: sink((text) => (stdout += text)), stderr: sink((text) => (stderr += text)) }));
    return { code, stdout, stderr };
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** A long-running `cahoots` process (dev) whose output can be awaited. */
export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function startCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? cliEnv() });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = CLI_HANG_GUARD_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text.match(pattern);
          if (!match) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} in the output within ${timeoutMs} ms:\n${text}`));
        }, timeoutMs);
        if (!check()) listeners.add(check);
        exited.then(() => {
          if (listeners.has(check) && !check()) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`the process ended without printing ${pattern}:\n${text}`));
          }
        }, reject);
      });
    },
  };
}

/**
 * Checks out `branch` into a temporary worktree with the git binary and runs the example's own
 * tests there with this Node; returns the pass/fail counts node --test printed.
 */
export async function testsOnBranch(repoDir: string, branch: string): Promise<{ passed: number; failed: number; output: string }> {
  const base = mkdtempSync(join(tmpdir(), 'cahoots-e2e-worktree-'));
  const worktree = join(base, 'tree');
  runGit(repoDir, ['worktree', 'add', '--quiet', '--detach', worktree, branch]);
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--test'], { cwd: worktree, env: { PATH: process.env.PATH ?? '' } });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('close', () => resolve(text));
    });
    const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)`, 'm').exec(output)?.[1] ?? NaN);
    return { passed: count('pass'), failed: count('fail'), output };
  } finally {
    runGit(repoDir, ['worktree', 'remove', '--force', worktree]);
    rmSync(base, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
