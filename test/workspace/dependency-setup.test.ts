// Dependency setup through the real sandbox runner: the project's setup command runs as a child
// process once per lockfile, later working copies with the same lockfile get the cached
// node_modules, a changed lockfile installs again, and a failed install is reported and never
// cached. The setup commands are node scripts that "install" a tiny package offline and log each
// run next to the working copies, so the test can count installs without any network.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSetupCommands } from '../../lib/domain/commands';
import { CreateProjectInputSchema, UpdateProjectSettingsInputSchema } from '../../lib/domain/project';
import {
  DEPENDENCY_CACHE_DIR,
  DependencySetupFailedError,
  DependencySetupRunner,
} from '../../lib/workspace/dependency-setup';
import { SandboxCommandRunner } from '../../lib/workspace/sandbox-runner';
import { isToolError } from '../../lib/workspace/tools';

const PROJECT = 'prj_01J9Z3Q4X8M2N5P7R9T1V3W5Y7';

// Installs "tiny" into node_modules with a random id, and records the run (and what the install
// step saw of npm's settings) in ../installs.log, outside the working copy.
const INSTALL_SCRIPT = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { randomUUID } from 'node:crypto';
const id = randomUUID();
mkdirSync('node_modules/tiny', { recursive: true });
writeFileSync('node_modules/tiny/package.json', JSON.stringify({ name: 'tiny', version: '1.0.0', type: 'module', main: 'index.js' }));
writeFileSync('node_modules/tiny/index.js', 'export const id = ' + JSON.stringify(id) + ';\\n');
let npmrc = '';
try { npmrc = readFileSync(homedir() + '/.npmrc', 'utf8'); } catch {}
appendFileSync('../installs.log', JSON.stringify({ id, offline: process.env.npm_config_offline ?? null, cache: process.env.npm_config_cache ?? null, npmrc }) + '\\n');
`;

const FAILING_INSTALL_SCRIPT = `
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('node_modules/half', { recursive: true });
writeFileSync('node_modules/half/index.js', '');
appendFileSync('../installs.log', '{"failed":true}\\n');
console.error('npm ERR! 404 Not Found - GET https://registry.example/left-pad');
process.exit(3);
`;

// What a test command sees: the installed package, through node's own resolution.
const CHECK_SCRIPT = `import { id } from 'tiny'; console.log('tiny ' + id);`;

let root: string;

beforeEach(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'cahoots-setup-'));
});
afterEach(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

/** A working copy of the little project at goals/<goal>/<task>, with the given lockfile contents. */
async function workingCopy(goal: string, task: string, lockfile: string): Promise<string> {
  const relative = `goals/${goal}/${task}`;
  const dir = path.join(root, relative);
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0', type: 'module', dependencies: { tiny: '1.0.0' } }));
  await fsp.writeFile(path.join(dir, 'package-lock.json'), lockfile);
  await fsp.writeFile(path.join(dir, 'install.mjs'), INSTALL_SCRIPT);
  await fsp.writeFile(path.join(dir, 'fail-install.mjs'), FAILING_INSTALL_SCRIPT);
  await fsp.writeFile(path.join(dir, 'check.mjs'), CHECK_SCRIPT);
  return relative;
}

async function installs(goal: string): Promise<Record<string, unknown>[]> {
  const text = await fsp.readFile(path.join(root, 'goals', goal, 'installs.log'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

const LOCK_V1 = JSON.stringify({ name: 'shop', lockfileVersion: 3, packages: { 'node_modules/tiny': { version: '1.0.0' } } });
const LOCK_V2 = JSON.stringify({ name: 'shop', lockfileVersion: 3, packages: { 'node_modules/tiny': { version: '1.0.1' } } });

const runner = (options: { setup?: string[][] } = {}) =>
  new DependencySetupRunner(new SandboxCommandRunner(root, { network: 'inherit', installNetwork: 'inherit' }), {
    projectId: PROJECT,
    setup: options.setup ?? [['node', 'install.mjs']],
  });

const check = (commands: DependencySetupRunner, copy: string) =>
  commands.run({ workingCopy: copy, argv: ['node', 'check.mjs'], allowedCommands: ['node check.mjs'], timeoutMs: 30_000 });

describe('dependency setup before the first command', () => {
  it('installs once, and a second working copy with the same lockfile reuses the cached node_modules', async () => {
    const first = await workingCopy('g1', 't1', LOCK_V1);
    const second = await workingCopy('g1', 't2', LOCK_V1);

    const firstRun = await check(runner(), first);
    expect(firstRun.exitCode).toBe(0);
    const [install] = await installs('g1');
    expect(firstRun.stdout).toContain(`tiny ${install!.id as string}`);

    // Another agent run (a new runner, as in another Lambda environment), another working copy.
    const secondRun = await check(runner(), second);
    expect(secondRun.exitCode).toBe(0);
    expect(secondRun.stdout).toContain(`tiny ${install!.id as string}`);
    expect(await installs('g1')).toHaveLength(1);

    // A copy, not a link: the second working copy's node_modules is its own.
    expect((await fsp.lstat(path.join(root, second, 'node_modules'))).isSymbolicLink()).toBe(false);
    const entries = await fsp.readdir(path.join(root, DEPENDENCY_CACHE_DIR, PROJECT));
    expect(entries.filter((name) => /^[0-9a-f]{64}$/.test(name))).toHaveLength(1);
  });

  it('reports reused for a working copy already set up from the cache, and installed with the cache key the first time', async () => {
    const copy = await workingCopy('g1', 't1', LOCK_V1);
    const commands = new SandboxCommandRunner(root);
    const installed = await commands.setup({ workingCopy: copy, projectId: PROJECT, commands: [['node', 'install.mjs']], timeoutMs: 30_000 });
    expect(installed).toMatchObject({ status: 'installed', cacheKey: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const again = await commands.setup({ workingCopy: copy, projectId: PROJECT, commands: [['node', 'install.mjs']], timeoutMs: 30_000 });
    expect(again).toMatchObject({ status: 'reused', cacheKey: installed.status === 'installed' ? installed.cacheKey : '' });
    expect(await installs('g1')).toHaveLength(1);
  });

  it('installs again when the lockfile changes, also in the middle of a task', async () => {
    const copy = await workingCopy('g1', 't1', LOCK_V1);
    const commands = runner();
    await check(commands, copy);
    await fsp.writeFile(path.join(root, copy, 'package-lock.json'), LOCK_V2);
    const after = await check(commands, copy);
    const log = await installs('g1');
    expect(log).toHaveLength(2);
    expect(after.stdout).toContain(`tiny ${log[1]!.id as string}`);
    const entries = await fsp.readdir(path.join(root, DEPENDENCY_CACHE_DIR, PROJECT));
    expect(entries.filter((name) => /^[0-9a-f]{64}$/.test(name))).toHaveLength(2);
  });

  it('gives the install npm access and a project npm cache, while the command after it stays offline', async () => {
    const copy = await workingCopy('g1', 't1', LOCK_V1);
    await fsp.writeFile(path.join(root, copy, 'offline.mjs'), 'console.log("offline=" + process.env.npm_config_offline);');
    const commands = runner();
    const run = await commands.run({ workingCopy: copy, argv: ['node', 'offline.mjs'], allowedCommands: ['node offline.mjs'], timeoutMs: 30_000 });
    expect(run.stdout).toContain('offline=true');
    const [install] = await installs('g1');
    expect(install!.offline).toBeNull();
    expect(install!.cache).toBe(path.join(root, DEPENDENCY_CACHE_DIR, PROJECT, 'npm-cache'));
  });

  it("writes a request's registry and token to the install's private ~/.npmrc only", async () => {
    const copy = await workingCopy('g1', 't1', LOCK_V1);
    const registry = { url: 'https://cells-210987654321.d.codeartifact.us-east-1.amazonaws.com/npm/npm/', token: 'eyJ2ZXIiOjEsImlzdSI6MTc2fQ.short-lived' };
    const result = await new SandboxCommandRunner(root).setup({ workingCopy: copy, projectId: PROJECT, commands: [['node', 'install.mjs']], timeoutMs: 30_000, registry });
    expect(result.status).toBe('installed');
    const [install] = await installs('g1');
    expect(install!.npmrc).toBe(
      `registry=${registry.url}\n//cells-210987654321.d.codeartifact.us-east-1.amazonaws.com/npm/npm/:_authToken=${registry.token}\n`,
    );
    // Nothing of it stays behind in the working copy or the cache.
    expect(await fsp.readFile(path.join(root, copy, '.npmrc'), 'utf8').catch(() => 'absent')).toBe('absent');
  });

  it('reports a failing install to the agent as a tool error, does not cache it, and tries again only for a new lockfile or a new run', async () => {
    const copy = await workingCopy('g1', 't1', LOCK_V1);
    const commands = runner({ setup: [['node', 'fail-install.mjs']] });
    const failure = await check(commands, copy).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencySetupFailedError);
    expect(isToolError(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/installing the dependencies failed: \["node","fail-install.mjs"\] exited with 3/);
    expect((failure as Error).message).toContain('npm ERR! 404 Not Found');

    // The same runner does not install again for the same lockfile: it reports the same failure.
    await expect(check(commands, copy)).rejects.toBeInstanceOf(DependencySetupFailedError);
    expect(await installs('g1')).toHaveLength(1);

    // Nothing was cached: no complete entry, so a new run (or another working copy) installs again.
    const projectCache = path.join(root, DEPENDENCY_CACHE_DIR, PROJECT);
    expect((await fsp.readdir(projectCache)).filter((name) => !name.startsWith('npm-cache'))).toEqual([]);
    await expect(check(runner({ setup: [['node', 'fail-install.mjs']] }), copy)).rejects.toBeInstanceOf(DependencySetupFailedError);
    expect(await installs('g1')).toHaveLength(2);

    // Fixed setup, same lockfile: installs and the command runs.
    const fixed = await check(runner(), copy);
    expect(fixed.exitCode).toBe(0);
  });

  it('skips setup when the project sets none, and without a setting and an npm lockfile', async () => {
    const copy = await workingCopy('g1', 't1', LOCK_V1);
    const commands = new SandboxCommandRunner(root);
    expect(await commands.setup({ workingCopy: copy, projectId: PROJECT, commands: [], timeoutMs: 30_000 })).toMatchObject({ status: 'skipped' });
    await fsp.rm(path.join(root, copy, 'package-lock.json'));
    expect(await commands.setup({ workingCopy: copy, projectId: PROJECT, timeoutMs: 30_000 })).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('no npm lockfile'),
    });
    expect(await installs('g1')).toHaveLength(0);
  });

  it('refuses a request for a working copy outside the workspace root', async () => {
    await expect(new SandboxCommandRunner(root).setup({ workingCopy: '../elsewhere', projectId: PROJECT, timeoutMs: 1_000 })).rejects.toThrow(/must not contain "\.\."/);
  });
});

describe('the setup setting', () => {
  it('defaults to npm ci for an npm lockfile and to nothing otherwise', () => {
    expect(resolveSetupCommands(undefined, ['package-lock.json'])).toEqual([['npm', 'ci']]);
    expect(resolveSetupCommands(undefined, ['npm-shrinkwrap.json'])).toEqual([['npm', 'ci']]);
    expect(resolveSetupCommands(undefined, ['yarn.lock'])).toEqual([]);
    expect(resolveSetupCommands(undefined, [])).toEqual([]);
    expect(resolveSetupCommands([['pnpm', 'install', '--frozen-lockfile']], ['package-lock.json'])).toEqual([['pnpm', 'install', '--frozen-lockfile']]);
    expect(resolveSetupCommands([], ['package-lock.json'])).toEqual([]);
  });

  it('is an optional list of argv on create and on update', () => {
    const base = { name: 'shop', repo: { url: 'https://github.com/acme/shop.git' } };
    expect(CreateProjectInputSchema.parse(base).setup).toBeUndefined();
    expect(CreateProjectInputSchema.parse({ ...base, setup: [['npm', 'ci', '--ignore-scripts']] }).setup).toEqual([['npm', 'ci', '--ignore-scripts']]);
    expect(UpdateProjectSettingsInputSchema.parse({ setup: [] }).setup).toEqual([]);
  });

  it('names the field of a bad setup', () => {
    const issues = (setup: unknown) => {
      const result = CreateProjectInputSchema.safeParse({ name: 'shop', repo: { url: 'https://github.com/acme/shop.git' }, setup });
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(issues('npm ci')).toContain('setup: Invalid input: expected array, received string');
    expect(issues([['npm ci']])).toEqual(['setup.0.0: setup words must not contain whitespace or shell metacharacters']);
    expect(issues([['npm', 'ci;curl']])).toEqual(['setup.0.1: setup words must not contain whitespace or shell metacharacters']);
    expect(issues([[]])).toEqual(['setup.0: a setup command needs at least a program']);
    expect(issues([['a'], ['b'], ['c'], ['d'], ['e'], ['f']])).toEqual(['setup: at most 5 setup commands']);
  });
});
