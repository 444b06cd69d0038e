// `cahoots dev`: the API over real HTTP with the workers behind it and state on disk. Two goals are
// started, one passes a plan gate approved with `cahoots approve`, then the server is killed
// (SIGKILL) while both are in the middle of a slow model turn. After a restart one goal resumes and
// finishes; the other, whose repository was deleted meanwhile, ends FAILED with a cause that says
// so. Nothing is left RUNNING.
import { existsSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TempRepo } from '../support/temp-repo';
import { cliEnv, EXAMPLE_GOAL, EXAMPLE_REPLAY, exampleRepo, runCli, sleep, startCli, type CliProcess } from './support';

interface ApiEvent {
  seq: number;
  type: string;
  taskId?: string;
  data: Record<string, unknown>;
}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function events(base: string, goalId: string): Promise<ApiEvent[]> {
  const all: ApiEvent[] = [];
  for (let after = 0; ; ) {
    const page = (await api<{ items: ApiEvent[]; lastSeq: number; hasMore: boolean }>(base, 'GET', `/goals/${goalId}/events?after=${after}`)).body;
    all.push(...page.items);
    if (!page.hasMore) return all;
    after = page.lastSeq;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

const startedT1 = (list: ApiEvent[]) => list.some((e) => e.type === 'Task.Started' && e.data.title === 'Add remove(id) to the todo list');

describe('cahoots dev across a restart', () => {
  let repoA: TempRepo;
  let repoB: TempRepo;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let dev: CliProcess | undefined;
  let goalA: string;
  let goalB: string;
  let second: { base: string; output: string };
  const log: string[] = [];

  const startDev = async () => {
    const server = startCli(['dev', '--port', '0', '--data-dir', dataDir], { env });
    const [, base] = await server.waitFor(/API at (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
    await server.waitFor(/Stop with Ctrl-C/);
    return { server, base: base! };
  };

  beforeAll(async () => {
    repoA = exampleRepo();
    repoB = exampleRepo();
    dataDir = join(mkdtempSync(join(tmpdir(), 'cahoots-e2e-dev-')), 'data');
    // The example's script, but the first attempt of the first developer task hangs in a slow
    // model turn: the restart lands there. The attempt after the restart gets the normal turns.
    type Conversation = { name: string; match: Record<string, unknown>; turns: Array<Record<string, unknown>> };
    const script = JSON.parse(readFileSync(EXAMPLE_REPLAY, 'utf8')) as { conversations: Conversation[] };
    const t1 = script.conversations.findIndex((c) => c.name === 't1 remove');
    const slow: Conversation = structuredClone(script.conversations[t1]!);
    slow.name = 't1 remove, first attempt';
    slow.match = { ...slow.match, tags: { attempt: '1' } };
    slow.turns[1]!.delayMs = 30_000;
    script.conversations.splice(t1, 0, slow);
    const replay = join(repoA.scratch, 'slow.json');
    writeFileSync(replay, JSON.stringify(script));
    env = cliEnv({ CAHOOTS_MODEL: `replay:${replay}` });

    const first = await startDev();
    dev = first.server;
    const project = async (repo: TempRepo, name: string) =>
      (await api<{ id: string }>(first.base, 'POST', '/projects', { name, repo: { path: repo.dir }, autonomyLevel: 4, allowedCommands: ['node --test'] })).body.id;
    const [projectA, projectB] = [await project(repoA, 'todo-a'), await project(repoB, 'todo-b')];
    const created = await api<{ id: string; status: string }>(first.base, 'POST', `/projects/${projectA}/goals`, { title: EXAMPLE_GOAL, autonomyOverride: 2 });
    expect(created.status).toBe(202);
    goalA = created.body.id;
    goalB = (await api<{ id: string }>(first.base, 'POST', `/projects/${projectB}/goals`, { title: EXAMPLE_GOAL })).body.id;

    // A waits at its plan gate; the approval goes through the CLI, which finds the server in dev.json.
    await until('the plan gate', async () => ((await events(first.base, goalA)).some((e) => e.type === 'Goal.AwaitingApproval') ? true : undefined));
    // It tells whoever watches what a cell would send its subscribers, in the same words.
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await first.server.waitFor(new RegExp(`🔔 Cahoots: goal ${goalA} waits for your plan approval`));
    await first.server.waitFor(new RegExp(`Approve: {2}cahoots approve ${goalA} --data-dir ${escaped(dataDir)}`));
    const approved = await runCli(['approve', goalA, '--data-dir', dataDir, '--comment', 'ship it'], { env });
    log.push(approved.stdout, approved.stderr);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`Approved the plan gate of ${goalA}; the goal is RUNNING`);

    await until('both first tasks running', async () => (startedT1(await events(first.base, goalA)) && startedT1(await events(first.base, goalB)) ? true : undefined));
    const status = await runCli(['status', '--data-dir', dataDir, '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    const listed = JSON.parse(status.stdout) as { source: string; projects: Array<{ goals: Array<{ id: string; status: string }> }> };
    expect(listed.source).toBe(first.base);
    expect(listed.projects.flatMap((p) => p.goals).map((g) => g.status)).toEqual(['RUNNING', 'RUNNING']);

    // The running server owns the data directory: a second process may not open it.
    const rival = await runCli(['run', '--repo', repoA.dir, '--goal', 'Another goal', '--data-dir', dataDir], { env });
    expect(rival.code).toBe(2);
    expect(rival.stderr.trim()).toMatch(new RegExp(`^cahoots: --data-dir: a cahoots dev server \\(${first.base.replace(/\./g, '\\.')}, pid \\d+\\) holds ${dataDir}`));

    // A crash in the middle of the slow turn; then B's repository disappears.
    dev.child.kill('SIGKILL');
    await dev.exited;
    log.push(dev.output());
    rmSync(repoB.dir, { recursive: true, force: true });

    const restarted = await startDev();
    dev = restarted.server;
    second = { base: restarted.base, output: '' };
    const followed = await runCli(['events', goalA, '--data-dir', dataDir, '--follow'], { env });
    log.push(followed.stdout, followed.stderr);
    expect(followed.code, followed.stdout + followed.stderr).toBe(0);
    second.output = dev.output();
  });

  afterAll(async () => {
    if (dev && dev.child.exitCode === null) {
      dev.child.kill('SIGKILL');
      await dev.exited;
    }
    repoA?.cleanup();
    repoB?.cleanup();
    if (dataDir) rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('resumes the goal whose repository is still there, and it finishes', async () => {
    expect(second.output).toMatch(new RegExp(`↺ resumed ${goalA} .*was RUNNING; 1 task\\(s\\) back in the queue`));
    const detail = (await api<{ goal: { status: string; approval: { state: string } } }>(second.base, 'GET', `/goals/${goalA}`)).body;
    expect(detail.goal.status).toBe('SUCCEEDED');
    const list = await events(second.base, goalA);
    const types = list.map((e) => e.type);
    expect(types.filter((t) => t === 'Goal.Resumed')).toHaveLength(1);
    expect(types.indexOf('Goal.Resumed')).toBeGreaterThan(types.indexOf('Goal.Approved'));
    // The plan was approved before the crash and is not asked again.
    expect(types.filter((t) => t === 'Goal.AwaitingApproval')).toHaveLength(1);
    const t1Starts = list.filter((e) => e.type === 'Task.Started' && e.data.title === 'Add remove(id) to the todo list').map((e) => e.data.attempt);
    // Started again after the restart; the interrupted attempt does not count against its retries.
    expect(t1Starts).toEqual([1, 1]);
    expect(types.at(-1)).toBe('Goal.Completed');
    expect(repoA.git('log', '--format=%s', `main..cahoots/${goalA}`)).toContain('Add remove(id) to the todo list');
  });

  it('ends the goal whose repository is gone FAILED with a clear cause', async () => {
    expect(second.output).toMatch(new RegExp(`✖ ended ${goalB} .*FAILED: Cannot resume after a restart`));
    const detail = (await api<{ goal: { status: string; failureCause: { code: string; message: string } }; tasks: Array<{ status: string }> }>(second.base, 'GET', `/goals/${goalB}`)).body;
    expect(detail.goal.status).toBe('FAILED');
    expect(detail.goal.failureCause.code).toBe('Goal.ResumeFailed');
    expect(detail.goal.failureCause.message).toContain(repoB.dir);
    expect(detail.tasks.filter((t) => t.status === 'RUNNING' || t.status === 'PENDING')).toEqual([]);
    expect((await events(second.base, goalB)).at(-1)).toMatchObject({ type: 'Goal.Failed', data: { code: 'Goal.ResumeFailed' } });
  });

  it('shows the resumed goal to `cahoots events` and stops cleanly on SIGTERM', async () => {
    const followed = log.join('\n');
    expect(followed).toMatch(/Goal\.Resumed +↺ Resumed after a restart/);
    expect(followed.match(/Task\.Started +▶ t1 developer "Add remove\(id\) to the todo list" · attempt 1/g)).toHaveLength(2);
    expect(existsSync(join(dataDir, 'dev.json'))).toBe(true);
    dev!.child.kill('SIGTERM');
    expect(await dev!.exited).toBe(0);
    expect(existsSync(join(dataDir, 'dev.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'cahoots.lock'))).toBe(false);
    // With no server, the commands open the data directory themselves.
    const status = await runCli(['status', '--data-dir', dataDir], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${goalA} +SUCCEEDED`));
    expect(status.stdout).toMatch(new RegExp(`${goalB} +FAILED`));
  });
});
