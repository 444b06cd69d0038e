// Bad input to `cahoots run` — each gives exit 2 and one line on stderr naming what is wrong,
// and nothing is written: no data directory, no branch in the repository.
import { mkdtempSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TempRepo } from '../support/temp-repo';
import { cliEnv, EXAMPLE_REPLAY, exampleRepo, runCli, runCliInProcess, type CliResult } from './support';

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Case {
  name: string;
  args: (ctx: Context) => string[];
  env?: Record<string, string>;
  message: RegExp;
  /**
   * Run as a spawned `cahoots` process. The others call the CLI's `main` in this process, where a
   * Node start-up per case would cost more than the whole check: the spawned ones show that the
   * exit code and the one stderr line reach the shell.
   */
  spawned?: true;
}

interface Context {
  repo: string;
  notGit: string;
  scratch: string;
  port: number;
  replay: string;
}

const GOAL = ['--goal', 'Add a remove(id) function'];

const CASES: Case[] = [
  { name: 'missing --repo', args: (c) => [...GOAL, '--model', c.replay], message: /--repo is required/, spawned: true },
  { name: 'a path that does not exist', args: (c) => ['--repo', join(c.scratch, 'nowhere'), ...GOAL, '--model', c.replay], message: /--repo: .*nowhere does not exist/ },
  { name: 'not a git repository', args: (c) => ['--repo', c.notGit, ...GOAL, '--model', c.replay], message: /--repo: .* is not a git repository/ },
  { name: 'no model at all', args: (c) => ['--repo', c.repo, ...GOAL], message: /no model given: pass --model .* or set CAHOOTS_MODEL/ },
  { name: 'an unknown model provider', args: (c) => ['--repo', c.repo, ...GOAL, '--model', 'gpt-4o'], message: /--model: invalid model spec "gpt-4o": it has no provider prefix/ },
  { name: 'a malformed openai spec', args: (c) => ['--repo', c.repo, ...GOAL, '--model', 'openai:llama3'], message: /--model: invalid model spec "openai:llama3"/ },
  { name: 'a bad spec in CAHOOTS_MODEL', args: (c) => ['--repo', c.repo, ...GOAL], env: { CAHOOTS_MODEL: 'bedrock:' }, message: /CAHOOTS_MODEL: invalid model spec "bedrock:"/ },
  { name: 'an unreachable model endpoint', args: (c) => ['--repo', c.repo, ...GOAL, '--model', `openai:llama3.1@http://127.0.0.1:${c.port}/v1`], message: /--model: the model server at http:\/\/127\.0\.0\.1:\d+\/v1 is unreachable \(ECONNREFUSED\)/ },
  {
    name: 'Bedrock without AWS credentials',
    args: (c) => ['--repo', c.repo, ...GOAL, '--model', 'bedrock:amazon.nova-lite-v1:0'],
    env: {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: 'cahoots-test-no-such-profile',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
    },
    message: /--model: Bedrock needs AWS credentials and none were found/,
    spawned: true,
  },
  { name: 'a missing replay script', args: (c) => ['--repo', c.repo, ...GOAL, '--model', `replay:${join(c.scratch, 'missing.json')}`], message: /--model: the replay script .*missing\.json does not exist/ },
  { name: 'a replay script that is not JSON', args: (c) => ['--repo', c.repo, ...GOAL, '--model', `replay:${join(c.scratch, 'broken.json')}`], message: /--model: the replay script .*broken\.json is not valid JSON/ },
  { name: 'a replay script of the wrong shape', args: (c) => ['--repo', c.repo, ...GOAL, '--model', `replay:${join(c.scratch, 'shape.json')}`], message: /--model: the replay script .*shape\.json is not a valid script at conversations/ },
  { name: '--autonomy out of range', args: (c) => ['--repo', c.repo, ...GOAL, '--model', c.replay, '--autonomy', '7'], message: /--autonomy must be a whole number from 1 to 5 .*got "7"/ },
  { name: '--parallel zero', args: (c) => ['--repo', c.repo, ...GOAL, '--model', c.replay, '--parallel', '0'], message: /--parallel must be a positive whole number .*got "0"/ },
  { name: '--parallel not an integer', args: (c) => ['--repo', c.repo, ...GOAL, '--model', c.replay, '--parallel', '2.5'], message: /--parallel must be a positive whole number .*got "2\.5"/ },
  { name: '--budget-usd negative', args: (c) => ['--repo', c.repo, ...GOAL, '--model', c.replay, '--budget-usd=-3'], message: /--budget-usd must be a positive number of US dollars.*got "-3"/ },
  { name: '--budget-usd not a number', args: (c) => ['--repo', c.repo, ...GOAL, '--model', c.replay, '--budget-usd', 'lots'], message: /--budget-usd must be a positive number of US dollars.*got "lots"/ },
  { name: '--approve unknown', args: (c) => ['--repo', c.repo, ...GOAL, '--model', c.replay, '--approve', 'always'], message: /--approve must be "auto" .* or "prompt"/ },
  { name: 'a misspelt flag', args: (c) => ['--repo', c.repo, ...GOAL, '--modle', c.replay], message: /unknown option '--modle' \(Did you mean --model\?\)/, spawned: true },
];

describe('cahoots run refuses bad input with exit 2', () => {
  let repo: TempRepo;
  let ctx: Context;
  const results = new Map<string, { result: CliResult; dataDir: string }>();

  beforeAll(async () => {
    repo = exampleRepo();
    const notGit = join(repo.scratch, 'plain');
    mkdirSync(notGit);
    writeFileSync(join(repo.scratch, 'broken.json'), '{"version": 1, "conversations": [');
    writeFileSync(join(repo.scratch, 'shape.json'), JSON.stringify({ version: 1, conversations: [] }));
    ctx = { repo: repo.dir, notGit, scratch: repo.scratch, port: await closedPort(), replay: `replay:${EXAMPLE_REPLAY}` };
    const dataDirFor = () => join(mkdtempSync(join(tmpdir(), 'cahoots-e2e-usage-')), 'data');
    const spawned = Promise.all(
      CASES.filter((c) => c.spawned).map(async (c) => {
        const dataDir = dataDirFor();
        results.set(c.name, { result: await runCli(['run', ...c.args(ctx), '--data-dir', dataDir], { env: cliEnv(c.env) }), dataDir });
      }),
    );
    // One at a time: they share this process's environment.
    for (const c of CASES.filter((c) => !c.spawned)) {
      const dataDir = dataDirFor();
      results.set(c.name, { result: await runCliInProcess(['run', ...c.args(ctx), '--data-dir', dataDir], cliEnv(c.env)), dataDir });
    }
    await spawned;
  });

  afterAll(() => repo?.cleanup());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { result, dataDir } = results.get(c.name)!;
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^cahoots: /);
    expect(lines[0]).toMatch(c.message);
    expect(existsSync(dataDir)).toBe(false);
    expect(repo.git('branch', '--list').trim()).toBe('* main');
  });
});

describe('an unusable data directory is a usage error that names the path and the reason', () => {
  let repo: TempRepo;
  let scratch: string;
  const results = new Map<string, { result: CliResult; dataDir: string }>();
  const file = () => join(scratch, 'a-file');
  const DATA_DIR_CASES: Array<{ name: string; dataDir: () => string; message: RegExp }> = [
    { name: 'a file', dataDir: () => file(), message: /--data-dir .*a-file cannot be used: it is a file, not a directory/ },
    { name: 'under a file', dataDir: () => join(file(), 'data'), message: /--data-dir .*a-file\/data cannot be used: .*a-file is a file, not a directory/ },
    { name: 'under /proc', dataDir: () => '/proc/cahoots-data', message: /--data-dir \/proc\/cahoots-data cannot be used: \/proc is on proc, a file system the kernel makes up/ },
    { name: 'under /sys', dataDir: () => '/sys/cahoots-data', message: /--data-dir \/sys\/cahoots-data cannot be used: \/sys is on sysfs/ },
  ];

  beforeAll(async () => {
    repo = exampleRepo();
    scratch = repo.scratch;
    writeFileSync(file(), 'not a directory\n');
    const queue = [...DATA_DIR_CASES];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const dataDir = next.dataDir();
        // A hang (as /proc once caused) fails here rather than at the suite's timeout.
        const result = await runCli(['run', '--repo', repo.dir, ...GOAL, '--model', `replay:${EXAMPLE_REPLAY}`, '--data-dir', dataDir], { env: cliEnv() });
        results.set(next.name, { result, dataDir });
      }
    };
    await Promise.all([worker(), worker()]);
  });

  afterAll(() => repo?.cleanup());

  it.each(DATA_DIR_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { result } = results.get(c.name)!;
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(c.message);
    expect(lines[0]).not.toMatch(/unexpected failure|EEXIST|ENOTDIR|EPERM/);
  });

  it('cahoots dev on a busy port leaves no new data directory behind', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as { port: number }).port;
      const dataDir = join(scratch, 'dev-data', 'nested');
      const result = await runCli(['dev', '--port', String(port), '--data-dir', dataDir], { env: cliEnv() });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`--port ${port} is already in use`));
      expect(existsSync(join(scratch, 'dev-data'))).toBe(false);
    } finally {
      busy.close();
    }
  });
});
