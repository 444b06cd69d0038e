// The sandbox function's handler in a child process, as Lambda runs it: an environment holding
// the kind of credentials a function has, a shared workspace root with a working copy of the
// example project, and requests as the agent worker sends them.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandResponseSchema, type CommandRequestInput, type CommandResponse } from '../../lib/ports/command-runner';
import { endChildInput } from '../support/child-input';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INVOKER = join(REPO, 'test/sandbox/fixtures/invoke-sandbox-handler.ts');

// What a Lambda environment holds and a command must never see.
const PLANTED = {
  AWS_ACCESS_KEY_ID: 'AKIAPLANTEDKEY000001',
  AWS_SECRET_ACCESS_KEY: 'planted-secret-access-key-value',
  AWS_SESSION_TOKEN: 'planted-session-token-value',
  GITHUB_TOKEN: 'ghp_plantedgithubtokenvalue',
  CAHOOTS_DB_PASSWORD: 'planted-db-password',
};

const COMMANDS = ['npm test', 'node'];
let root: string;
const copy = 'project-1/goal_A/task_B';
let answers: Array<{ response?: CommandResponse; error?: { name: string; message: string } }>;

function request(overrides: Partial<CommandRequestInput>): CommandRequestInput {
  return { workingCopy: copy, argv: ['npm', 'test'], allowedCommands: COMMANDS, timeoutMs: 60_000, ...overrides };
}

const REQUESTS: Record<string, unknown> = {
  npmTest: request({}),
  offAllowList: request({ argv: ['rm', '-rf', '.'] }),
  shellMetacharacters: request({ argv: ['npm', 'test', '&&', 'cat', 'secrets'] }),
  workingCopyEscapes: request({ workingCopy: '../outside' }),
  workingCopyThroughLink: request({ workingCopy: 'escape-link' }),
  cwdEscapes: request({ cwd: '../../..' }),
  cwdThroughLink: request({ cwd: 'out' }),
  hangs: request({ argv: ['node', 'hang.js'], timeoutMs: 300 }),
  floods: request({ argv: ['node', 'flood.js'], maxOutputBytes: 4_096 }),
  env: request({ argv: ['node', 'env.js'] }),
  notARequest: { argv: 'npm test' },
};

function invoke(events: unknown[], env: Record<string, string>): Promise<typeof answers> {
  const out = join(root, '..', 'answers.json');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', INVOKER, out], { cwd: REPO, env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the handler process exited with ${code}: ${stderr}`));
      else resolvePromise(JSON.parse(readFileSync(out, 'utf8')) as typeof answers);
    });
    endChildInput(child.stdin, JSON.stringify(events));
  });
}

const answerTo = (name: string): CommandResponse => {
  const index = Object.keys(REQUESTS).indexOf(name);
  const answer = answers[index]!;
  expect(answer.error).toBeUndefined();
  return CommandResponseSchema.parse(answer.response);
};

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'cahoots-sandbox-fn-'));
  root = join(base, 'workspace');
  const dir = join(root, copy);
  mkdirSync(dir, { recursive: true });
  cpSync(join(REPO, 'examples/todo-app'), dir, { recursive: true });
  writeFileSync(join(dir, 'hang.js'), 'setInterval(() => {}, 1000);\n');
  writeFileSync(join(dir, 'flood.js'), "process.stdout.write('x'.repeat(2 * 1024 * 1024));\n");
  writeFileSync(join(dir, 'env.js'), 'process.stdout.write(JSON.stringify(process.env));\n');
  mkdirSync(join(base, 'outside'));
  symlinkSync(join(base, 'outside'), join(root, 'escape-link'));
  symlinkSync(join(base, 'outside'), join(dir, 'out'));
  answers = await invoke(Object.values(REQUESTS), {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    CAHOOTS_WORKSPACE_ROOT: root,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    ...PLANTED,
  });
});

afterAll(() => {
  if (root) rmSync(dirname(root), { recursive: true, force: true });
});

describe('the sandbox function handler', () => {
  it("runs the example's npm test in its working copy and reports the counts", () => {
    const answer = answerTo('npmTest');
    if (!answer.ok) throw new Error(answer.refusal.message);
    const { outcome } = answer;
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, truncated: false });
    const passed = Number(/# pass (\d+)/.exec(outcome.stdout)?.[1]);
    expect(passed).toBeGreaterThan(0);
    expect(outcome.stdout).toMatch(/# fail 0/);
  });

  it('refuses commands off the allow-list and shell metacharacters, with the reason', () => {
    expect(answerTo('offAllowList')).toMatchObject({ ok: false, refusal: { reason: 'CommandNotAllowed' } });
    const metacharacters = answerTo('shellMetacharacters');
    expect(metacharacters).toMatchObject({ ok: false, refusal: { reason: 'CommandNotAllowed' } });
    expect(JSON.stringify(metacharacters)).toContain('&&');
  });

  it('refuses working copies and directories outside the workspace root', () => {
    expect(answerTo('workingCopyEscapes')).toMatchObject({ ok: false, refusal: { reason: 'InvalidRequest' } });
    expect(answerTo('workingCopyThroughLink')).toMatchObject({ ok: false, refusal: { reason: 'PathOutsideWorkspace' } });
    expect(answerTo('cwdEscapes')).toMatchObject({ ok: false, refusal: { reason: 'InvalidRequest' } });
    expect(answerTo('cwdThroughLink')).toMatchObject({ ok: false, refusal: { reason: 'PathOutsideWorkspace' } });
    const invalid = answerTo('notARequest');
    expect(invalid).toMatchObject({ ok: false, refusal: { reason: 'InvalidRequest' } });
    expect(JSON.stringify(invalid)).toContain('argv');
  });

  it('kills a command that never exits at its timeout', () => {
    expect(answerTo('hangs')).toMatchObject({ ok: true, outcome: { timedOut: true, exitCode: null } });
  });

  it('caps huge output and says so', () => {
    const answer = answerTo('floods');
    if (!answer.ok) throw new Error(answer.refusal.message);
    expect(answer.outcome.truncated).toBe(true);
    expect(answer.outcome.stdout.length).toBeLessThan(8_192);
    expect(answer.outcome.stdout).toContain('cut by the sandbox');
  });

  it('gives the command no variable whose name or value looks like a credential', () => {
    const answer = answerTo('env');
    if (!answer.ok) throw new Error(answer.refusal.message);
    const seen = JSON.parse(answer.outcome.stdout) as Record<string, string>;
    for (const [name, value] of Object.entries(PLANTED)) {
      expect(seen).not.toHaveProperty(name);
      expect(answer.outcome.stdout).not.toContain(value);
    }
    expect(Object.keys(seen).filter((name) => /AWS|TOKEN|SECRET|PASSWORD|KEY|CAHOOTS/i.test(name))).toEqual([]);
    expect(seen.HOME).not.toBe(process.env.HOME);
  });
});
