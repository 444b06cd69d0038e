// Several Lambda environments on one EFS workspace, played by separate node processes on one shared
// root: they clone the project's mirror at the same time, work tasks of one goal concurrently
// (commits and merges into the goal branch), and a third process resumes a task another one left
// half done. Checked with the git binary: no lost merges or files, an intact object store.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Project } from '../../lib/domain/project';
import { secretEnvName } from '../../lib/local/secrets';
import { mirrorDir } from '../../lib/ports/repository/index';
import { storedProject } from '../support/repository-fixtures';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server';
import { createTempRepo, runGit, type TempRepo } from '../support/temp-repo';

const WORKER = fileURLToPath(new URL('./fixtures/shared-root-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'shared-root-token-3c9d1e7f';
const PROJECT_ID = 'prj_01JDQ7ZKX3M5W8R2T4V6Y9B0CE';
const GOAL_ID = 'goal_01JDQ7ZKX3M5W8R2T4V6Y9B0CF';

type Message = Record<string, unknown>;

interface Worker {
  ready: Promise<void>;
  /** Resolves when the worker has committed its tasks and waits to merge them. */
  committed: Promise<void>;
  done: Promise<Message[]>;
}

function startWorker(input: Record<string, unknown>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(input)], {
    cwd: ROOT,
    env: { ...process.env, [secretEnvName('git/token')]: TOKEN, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const messages: Message[] = [];
  let stderr = '';
  let buffered = '';
  let markReady!: () => void;
  let markCommitted!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const committed = new Promise<void>((resolve) => {
    markCommitted = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const message = JSON.parse(line) as Message;
      if (message.ready) markReady();
      else messages.push(message);
      if (message.committed) markCommitted();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<Message[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(messages) : reject(new Error(`worker exited with ${String(code)}: ${stderr}`))));
  });
  return { ready, committed, done };
}

describe('one workspace root shared by several processes', () => {
  let server: GitHttpServer;
  let source: TempRepo;
  let project: Project;
  let root: string;

  beforeEach(async () => {
    server = await startGitHttpServer({ password: TOKEN });
    source = createTempRepo();
    const url = server.addRepository('acme', 'shop', source.dir);
    root = join(source.scratch, 'efs');
    project = storedProject(PROJECT_ID, { url, defaultBranch: 'main' }, { team: { planner: 1, developer: 2, ux: 0, qa: 0, reviewer: 1 }, maxParallelTasks: 4 });
  });

  afterEach(async () => {
    await server.close();
    source.cleanup();
  });

  it('loses no merge, file or object when two processes work one goal and a third resumes a task', async () => {
    const startSignal = join(source.scratch, 'go');
    const mergeSignal = join(source.scratch, 'merge');
    const tasksA = ['task_a1', 'task_a2', 'task_a3', 'task_a4', 'task_a5'];
    const tasksB = ['task_b1', 'task_b2', 'task_b3', 'task_b4', 'task_b5'];
    const a = startWorker({ root, project, goalId: GOAL_ID, startSignal, tasks: tasksA, mergeSignal, suspend: 'task_s1' });
    const b = startWorker({ root, project, goalId: GOAL_ID, startSignal, tasks: tasksB, mergeSignal });
    await Promise.all([a.ready, b.ready]);
    writeFileSync(startSignal, 'go');
    // Both have committed their tasks; now they merge into the one goal branch at the same time.
    await Promise.all([a.committed, b.committed]);
    writeFileSync(mergeSignal, 'go');
    const [fromA, fromB] = await Promise.all([a.done, b.done]);
    expect(fromA.filter((m) => m.merged).map((m) => m.merged)).toEqual(tasksA);
    expect(fromB.filter((m) => m.merged).map((m) => m.merged)).toEqual(tasksB);

    // The continuation of the suspended task runs in yet another process and finds its file.
    const c = startWorker({ root, project, goalId: GOAL_ID, startSignal, tasks: [], resume: ['task_s1'], publish: true });
    const fromC = await c.done;
    expect(fromC.find((m) => m.resumed)).toMatchObject({ resumed: 'task_s1', committed: ['work/task_s1.txt'] });

    const mirror = mirrorDir(root, PROJECT_ID);
    const goalBranch = `cahoots/${GOAL_ID}`;
    const tip = runGit(mirror, ['rev-parse', `refs/heads/${goalBranch}`]);
    // Every task branch is contained in the goal branch, with its final content.
    for (const task of [...tasksA, ...tasksB, 'task_s1']) {
      runGit(mirror, ['merge-base', '--is-ancestor', `refs/heads/cahoots-task/${GOAL_ID}/${task}`, tip]);
    }
    for (const task of [...tasksA, ...tasksB]) {
      expect(runGit(mirror, ['show', `${tip}:work/${task}.txt`])).toBe(`final version of ${task}`);
      expect(runGit(mirror, ['show', `${tip}:notes/${task}.md`])).toBe(`# ${task}`);
    }
    expect(runGit(mirror, ['show', `${tip}:work/task_s1.txt`])).toBe('written before the suspension');
    runGit(mirror, ['fsck', '--full', '--strict', '--no-dangling']);
    // No lock or temporary file left behind.
    expect(readdirSync(join(root, 'mirrors')).sort()).toEqual([`${PROJECT_ID}.git`]);
    expect(findFiles(mirror, /\.lock$|\.cahoots-tmp-/)).toEqual([]);

    // The published branch is exactly the goal tip, on the real git server.
    expect(fromC.find((m) => m.published)).toMatchObject({ published: { branch: goalBranch, sha: tip, unchanged: false } });
    expect(server.git('acme', 'shop', 'rev-parse', `refs/heads/${goalBranch}`)).toBe(tip);
    server.git('acme', 'shop', 'fsck', '--full');
  });
});

function findFiles(dir: string, pattern: RegExp): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findFiles(path, pattern));
    else if (pattern.test(entry.name)) found.push(path);
  }
  return found;
}
