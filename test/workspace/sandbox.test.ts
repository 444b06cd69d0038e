import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandNotAllowedError,
  PathOutsideWorkspaceError,
  buildSandboxEnv,
  isSecretEnvName,
  matchAllowedCommand,
  isolatedLoopbackAvailable,
  networkIsolationAvailable,
  pidIsolationAvailable,
  runCommand,
  type RunCommandOptions,
} from '../../lib/workspace';

let root: string;
const allowed = ['node -e', 'npm test', 'definitely-not-a-program-xyz'];
const opts = (extra: Partial<RunCommandOptions> = {}): RunCommandOptions => ({ root, allowedCommands: allowed, ...extra });

/**
 * Live processes whose command line holds `token`, by host PID. A command in a PID namespace
 * reports PIDs of its own namespace, so processes are found by a word in their arguments instead.
 * Dead means gone or a zombie: in a container, PID 1 may never reap the orphans it inherits.
 */
function processesWith(token: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(token)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** The script of a command that starts a grandchild in a session of its own (setsid) and returns. */
const setsidGrandchild = (token: string): string => `
  const { spawn } = require('node:child_process');
  spawn('setsid', [process.execPath, '-e', 'setInterval(() => {}, 1000) // ${token}'], { stdio: 'ignore' }).unref();
  setTimeout(() => {}, 300);`;

const leftovers: string[] = [];
afterAll(() => {
  // Whatever a failing test left running must not outlive the suite.
  for (const token of leftovers) for (const pid of processesWith(token)) process.kill(pid, 'SIGKILL');
});

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cahoots-sandbox-'));
  mkdirSync(join(root, 'src'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('allow-list matching', () => {
  it('matches entry words exactly, followed only by operands', () => {
    const list = ['npm test', 'npm run lint', 'node --test', 'npx vitest run'];
    expect(matchAllowedCommand(['npm', 'test'], list)).toBe('npm test');
    expect(matchAllowedCommand(['npm', 'test', '--', 'test/a.test.js'], list)).toBe('npm test');
    expect(matchAllowedCommand(['npm', 'test', 'login'], list)).toBe('npm test');
    expect(matchAllowedCommand(['npx', 'vitest', 'run', 'test/a.test.ts'], list)).toBe('npx vitest run');
    expect(matchAllowedCommand(['npx', 'vitest'], list)).toBeUndefined(); // shorter than the entry
    expect(matchAllowedCommand(['npm', 'testx'], list)).toBeUndefined();
    expect(matchAllowedCommand(['npm', 'run', 'build'], list)).toBeUndefined();
    expect(matchAllowedCommand(['/usr/bin/npm', 'test'], list)).toBeUndefined();
    expect(matchAllowedCommand(['npm test'], list)).toBeUndefined(); // one word with a space is not two words
    expect(matchAllowedCommand(['node', '-e', 'x'], ['  node   -e  '])).toBe('  node   -e  ');
    expect(matchAllowedCommand(['anything'], ['', '   '])).toBeUndefined();
  });

  it.each([
    [['npm', 'test', '--prefix', '/elsewhere']],
    [['npm', 'test', '--prefix=/elsewhere']],
    [['npm', 'test', '--script-shell=/usr/bin/env']],
    [['npm', 'test', '--', '--script-shell', 'sh']],
    [['npm', 'test', '--', '--grep', 'x']],
    [['node', '--test', '--import', 'data:text/javascript,1']],
    [['npm', 'test', '--', '--']],
    [['npm', 'test', '../other-project/test.js']],
    [['npm', 'test', 'test/../../x']],
    [['npm', 'test', '/etc/passwd']],
    [['npm', 'test', '~/x']],
  ])('refuses options and outside paths added to an allowed command: %j', (argv) => {
    expect(matchAllowedCommand(argv, ['npm test', 'node --test'])).toBeUndefined();
  });

  it('allows an option only where the entry names it', () => {
    const list = ['npx tsc', 'npx tsc --noEmit'];
    expect(matchAllowedCommand(['npx', 'tsc', '--noEmit'], list)).toBe('npx tsc --noEmit');
    expect(matchAllowedCommand(['npx', 'tsc', '--noEmit', '--outDir', '/tmp/x'], list)).toBeUndefined();
  });

  it('runs nothing from another package through --prefix', async () => {
    const other = mkdtempSync(join(tmpdir(), 'cahoots-other-'));
    try {
      const marker = join(other, 'ran');
      writeFileSync(join(other, 'package.json'), JSON.stringify({ name: 'other', scripts: { test: `node -e "require('fs').writeFileSync('ran','x')"` } }));
      const error = await runCommand(['npm', 'test', '--prefix', other], opts()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandNotAllowedError);
      expect((error as Error).message).toContain('argument "--prefix" is refused: options');
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses anything else with a message the model can act on', async () => {
    const error = await runCommand(['rm', '-rf', '.'], opts()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandNotAllowedError);
    expect((error as Error).message).toContain('"npm test"');
    expect((error as Error).message).toMatch(/no shell/);
    await expect(runCommand(['sh', '-c', 'node -e 1'], opts())).rejects.toBeInstanceOf(CommandNotAllowedError);
  });
});

describe('running commands', () => {
  it('runs an allowed command in the working copy and returns its output', async () => {
    const result = await runCommand(['node', '-e', 'console.log("hi", process.cwd()); console.error("warn")'], opts({ cwd: 'src' }));
    expect(result.exitCode).toBe(0);
    expect(result.signal).toBeNull();
    expect(result.stdout).toBe(`hi ${join(root, 'src')}\n`);
    expect(result.stderr).toBe('warn\n');
    expect(result.timedOut).toBe(false);
    expect(result.truncated).toBe(false);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('returns a non-zero exit as a result, not an exception', async () => {
    const result = await runCommand(['node', '-e', 'console.error("boom"); process.exit(3)'], opts());
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, stderr: 'boom\n' });
  });

  it('reports a missing program as exit code 127', async () => {
    const result = await runCommand(['definitely-not-a-program-xyz'], opts());
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toContain('command not found');
  });

  it('keeps cwd inside the working copy', async () => {
    await expect(runCommand(['node', '-e', '1'], opts({ cwd: '..' }))).rejects.toBeInstanceOf(PathOutsideWorkspaceError);
    await expect(runCommand(['node', '-e', '1'], opts({ cwd: '/tmp' }))).rejects.toBeInstanceOf(PathOutsideWorkspaceError);
  });

  it('kills the whole process group on timeout, even children that ignore SIGTERM', async () => {
    const token = `grandchild-${randomUUID()}`;
    leftovers.push(token);
    // The command starts a grandchild in its process group; both ignore SIGTERM.
    const script = `
      const { spawn } = require('node:child_process');
      process.on('SIGTERM', () => {});
      spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000) // ${token}'], { stdio: 'ignore' });
      setInterval(() => {}, 1000);`;
    const result = await runCommand(['node', '-e', script], opts({ timeoutMs: 2500, killGraceMs: 300 }));
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.signal).toBe('SIGKILL');
    expect(processesWith(token)).toEqual([]);
  });

  it.each([
    ['in a PID namespace', true],
    ['by tracking its processes', false],
  ])('ends a grandchild that left the process group with setsid (%s)', async (_how, pidNamespace) => {
    if (pidNamespace && !pidIsolationAvailable()) return;
    const token = `setsid-${randomUUID()}`;
    leftovers.push(token);
    const result = await runCommand(['node', '-e', setsidGrandchild(token)], opts({ pidNamespace }));
    expect(result.exitCode).toBe(0);
    expect(processesWith(token)).toEqual([]);
  });

  it('stops a well-behaved command with SIGTERM on timeout', async () => {
    const result = await runCommand(['node', '-e', 'setInterval(() => {}, 1000)'], opts({ timeoutMs: 300 }));
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGTERM', exitCode: null });
  });

  it('cuts long output in the middle and says how much was cut', async () => {
    const result = await runCommand(
      ['node', '-e', 'process.stdout.write("START" + "x".repeat(100000) + "END"); process.stderr.write("short")'],
      opts({ maxOutputBytes: 1000 }),
    );
    expect(result.truncated).toBe(true);
    expect(result.stdout.startsWith('STARTxxx')).toBe(true);
    expect(result.stdout.endsWith('xxxEND')).toBe(true);
    expect(result.stdout).toMatch(/\[\.\.\. 99008 bytes of stdout cut by the sandbox; 100008 bytes in all \.\.\.\]/);
    expect(result.stdout.length).toBeLessThan(1200);
    expect(result.stderr).toBe('short');
  });
});

describe('never installing packages', () => {
  let registry: Server;
  let registryUrl: string;
  const requests: string[] = [];
  beforeAll(async () => {
    // A package registry of our own on loopback: any request to it is an attempted install.
    registry = createServer((request, response) => {
      requests.push(request.url ?? '');
      response.statusCode = 404;
      response.end('{}');
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;
  });
  afterAll(() => registry.close());

  const npxOptions = (dir: string): RunCommandOptions => ({
    root: dir,
    allowedCommands: ['npx tsc --noEmit', 'npx hello', 'npm test'],
    env: { npm_config_registry: registryUrl },
  });

  it('npx of a program the working copy does not have fails at once, asking nobody', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cahoots-npx-'));
    try {
      requests.length = 0;
      const result = await runCommand(['npx', 'tsc', '--noEmit'], npxOptions(dir));
      expect(result.exitCode).toBe(127);
      expect(result.stderr).toMatch(/tsc is not installed in the working copy.*never installs packages/);
      expect(requests).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npx runs a program from node_modules/.bin, found from a subdirectory too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cahoots-npx-'));
    try {
      mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
      mkdirSync(join(dir, 'pkg'));
      writeFileSync(join(dir, 'node_modules/.bin/hello'), '#!/bin/sh\necho "hello $1"\n', { mode: 0o755 });
      const result = await runCommand(['npx', 'hello', 'world'], { ...npxOptions(dir), cwd: 'pkg' });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'hello world\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an npx inside a test script installs nothing either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cahoots-npx-'));
    try {
      requests.length = 0;
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', scripts: { test: 'npx some-tool-nobody-installed' } }));
      const result = await runCommand(['npm', 'test'], npxOptions(dir));
      expect(result.exitCode).not.toBe(0);
      expect(requests).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('environment', () => {
  const planted = {
    AWS_SECRET_ACCESS_KEY: 'canary-aws-secret',
    AWS_ACCESS_KEY_ID: 'canary-aws-id',
    AWS_SESSION_TOKEN: 'canary-aws-session',
    GITHUB_TOKEN: 'canary-github',
    NPM_TOKEN: 'canary-npm',
    npm_config__authToken: 'canary-npmrc',
    STRIPE_API_KEY: 'canary-stripe',
    DB_PASSWORD: 'canary-db',
    MY_CLIENT_SECRET_VALUE: 'canary-client',
  };
  afterEach(() => {
    for (const name of Object.keys(planted)) delete process.env[name];
  });

  it('the child sees none of the parent\'s secrets, only a small fixed environment', async () => {
    Object.assign(process.env, planted);
    const result = await runCommand(['node', '-e', 'console.log(JSON.stringify(process.env))'], opts());
    const seen = JSON.parse(result.stdout) as Record<string, string>;
    for (const [name, value] of Object.entries(planted)) {
      expect(seen[name]).toBeUndefined();
      expect(result.stdout).not.toContain(value);
    }
    expect(seen.CI).toBe('1');
    expect(seen.PATH).toBe(process.env.PATH);
    expect(Object.keys(seen).every((name) => !name.startsWith('AWS_'))).toBe(true);
  });

  it('drops caller-supplied variables that look like secrets and keeps the rest', () => {
    const env = buildSandboxEnv(
      { PATH: '/bin', HOME: '/home/x', AWS_REGION: 'eu-west-1' },
      { SERVICE_SECRET: 's', API_KEY: 'k', NODE_ENV: 'test' },
      { home: '/run/home', tmp: '/run/tmp' },
    );
    expect(env).toMatchObject({ PATH: '/bin', NODE_ENV: 'test', CI: '1', TMPDIR: '/run/tmp' });
    // Not the parent's HOME, whose dotfiles hold credentials.
    expect(env.HOME).toBe('/run/home');
    expect(env.SERVICE_SECRET).toBeUndefined();
    expect(env.API_KEY).toBeUndefined();
    expect(env.AWS_REGION).toBeUndefined();
  });

  it('gives every run a private HOME of its own, removed after the run', async () => {
    const script = [
      "const fs = require('fs');",
      'const home = process.env.HOME;',
      'const mode = (fs.statSync(home).mode & 0o777).toString(8);',
      'console.log(JSON.stringify({ home, tmp: process.env.TMPDIR, mode, entries: fs.readdirSync(home) }));',
      // What a hostile test would plant for the next project's `npm test`.
      "fs.writeFileSync(home + '/.npmrc', 'script-shell=/bin/false');",
    ].join('\n');
    type Seen = { home: string; tmp: string; mode: string; entries: string[] };
    const first = JSON.parse((await runCommand(['node', '-e', script], opts())).stdout) as Seen;
    const second = JSON.parse((await runCommand(['node', '-e', script], opts())).stdout) as Seen;
    expect(first.mode).toBe('700');
    expect(second.home).not.toBe(first.home);
    expect(second.entries).toEqual([]);
    expect(second.tmp).not.toBe(first.tmp);
    expect(existsSync(first.home)).toBe(false);
    expect(existsSync(first.tmp)).toBe(false);
  });

  it.each(['AWS_REGION', 'GITHUB_TOKEN', 'GH_TOKEN', 'NPM_TOKEN', 'OPENAI_API_KEY', 'X_SECRET', 'SSH_AUTH_SOCK', '_X_AMZN_TRACE_ID', 'PASSWORD', 'CAHOOTS_MODEL'])(
    '%s counts as secret',
    (name) => expect(isSecretEnvName(name)).toBe(true),
  );
  it.each(['PATH', 'HOME', 'LANG', 'CI', 'NODE_ENV', 'TZ', 'KEYBOARD'])('%s does not', (name) => expect(isSecretEnvName(name)).toBe(false));
});

describe('network isolation (optional)', () => {
  it.runIf(networkIsolationAvailable())('runs the command without network interfaces besides loopback', async () => {
    const script = 'console.log(JSON.stringify(Object.keys(require("node:os").networkInterfaces())))';
    const isolated = await runCommand(['node', '-e', script], opts({ network: 'none' }));
    expect(isolated.exitCode).toBe(0);
    expect((JSON.parse(isolated.stdout) as string[]).filter((name) => name !== 'lo')).toEqual([]);
  });

  it.runIf(isolatedLoopbackAvailable())('keeps loopback working inside, for tests that start a local server', async () => {
    const script = [
      "const http = require('node:http');",
      "const server = http.createServer((q, r) => r.end('pong')).listen(0, '127.0.0.1', () => {",
      "  http.get(`http://127.0.0.1:${server.address().port}`, (r) => { r.on('data', (d) => console.log(String(d))); r.on('end', () => server.close()); })",
      "    .on('error', (e) => { console.log(e.code); server.close(); });",
      '});',
    ].join('\n');
    const isolated = await runCommand(['node', '-e', script], opts({ network: 'none' }));
    expect(isolated.stdout.trim()).toBe('pong');
  });
});
