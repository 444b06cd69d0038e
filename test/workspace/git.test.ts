import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GitWorkspace,
  MergeConflictError,
  RefChangedError,
  RefLockedError,
  RefNotFoundError,
  UnresolvedConflictError,
  WorkingCopyError,
  cahootsIdentity,
  goalBranchName,
  taskBranchName,
  type TaskWorkingCopy,
} from '../../lib/workspace';
import { updateRef } from '../../lib/workspace/refs';
import { createTempRepo, runGit, type TempRepo } from '../support/temp-repo';

const developer = cahootsIdentity('developer');

let repo: TempRepo;
let ws: GitWorkspace;

beforeEach(async () => {
  repo = createTempRepo();
  ws = await GitWorkspace.open({ repoDir: repo.dir, root: repo.scratch });
});
afterEach(() => repo.cleanup());

function edit(copy: TaskWorkingCopy, path: string, content: string): void {
  mkdirSync(join(copy.dir, path, '..'), { recursive: true });
  writeFileSync(join(copy.dir, path), content);
}

describe('goal branch', () => {
  it('is created from the default branch without touching the checkout, and only once', async () => {
    const main = repo.git('rev-parse', 'main');
    const goal = await ws.createGoalBranch('G1', 'main');
    expect(goal).toEqual({ branch: 'cahoots/G1', sha: main, created: true });
    expect(repo.git('rev-parse', 'cahoots/G1')).toBe(main);
    expect(repo.git('symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(repo.git('status', '--porcelain')).toBe('');

    // A retried step must not rewind a goal branch that has moved on.
    repo.git('update-ref', 'refs/heads/cahoots/G1', repo.git('commit-tree', '-p', main, '-m', 'later', `${main}^{tree}`));
    const moved = repo.git('rev-parse', 'cahoots/G1');
    expect(await ws.createGoalBranch('G1', 'main')).toEqual({ branch: 'cahoots/G1', sha: moved, created: false });
  });

  it('defaults to the branch HEAD names and refuses an unknown base', async () => {
    expect((await ws.createGoalBranch('G2')).sha).toBe(repo.git('rev-parse', 'main'));
    await expect(ws.createGoalBranch('G3', 'no-such-branch')).rejects.toBeInstanceOf(RefNotFoundError);
  });

  it('refuses ids that could escape a path or a ref name', () => {
    expect(() => goalBranchName('../x')).toThrow();
    expect(() => taskBranchName('G', 'a/b')).toThrow();
    expect(() => ws.workingCopyDir('G', '..')).toThrow();
  });
});

describe('project repository shapes', () => {
  it('works on a bare repository with packed refs and packed objects', async () => {
    repo.git('gc', '--quiet');
    const bare = join(repo.scratch, 'bare.git');
    runGit(repo.scratch, ['clone', '--quiet', '--bare', repo.dir, bare]);
    runGit(bare, ['gc', '--quiet']);
    expect(existsSync(join(bare, 'packed-refs'))).toBe(true);
    const bareWs = await GitWorkspace.open({ repoDir: bare, root: join(repo.scratch, 'wc') });
    await bareWs.createGoalBranch('G', 'main');
    const a = await bareWs.createTaskWorkingCopy('G', 'A');
    expect(readFileSync(join(a.dir, 'src/math.ts'), 'utf8')).toContain('a + b');
    edit(a, 'src/math.ts', 'changed\n');
    await bareWs.commitAll(a, { message: 'A', author: developer });
    expect((await bareWs.mergeTask('G', 'A')).kind).toBe('fast-forward');
    expect(runGit(bare, ['show', 'cahoots/G:src/math.ts'])).toBe('changed');
    expect(runGit(bare, ['fsck', '--no-progress', '--no-dangling'])).toBe('');
  });

  it('refuses a directory that is not a repository', async () => {
    await expect(GitWorkspace.open({ repoDir: repo.scratch })).rejects.toThrow(/not a usable git repository/);
  });
});

describe('task working copies', () => {
  it('are separate checkouts that real git understands, on their own branches', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    expect(a.dir).not.toBe(b.dir);
    expect(a.branch).toBe('cahoots-task/G/A');
    expect(readFileSync(join(a.dir, 'src/math.ts'), 'utf8')).toContain('a + b');
    expect(runGit(a.dir, ['status', '--porcelain'])).toBe('');
    expect(runGit(a.dir, ['symbolic-ref', 'HEAD'])).toBe('refs/heads/cahoots-task/G/A');
    // The task branch exists in the project repository from the start.
    expect(repo.git('rev-parse', 'cahoots-task/G/B')).toBe(repo.git('rev-parse', 'main'));
  });

  it('commitAll stages additions, modifications and deletions but not ignored files', async () => {
    await ws.createGoalBranch('G', 'main');
    const copy = await ws.createTaskWorkingCopy('G', 'A');
    edit(copy, 'src/math.ts', 'export const add = (a: number, b: number) => a + b;\n');
    edit(copy, 'src/new.ts', 'export const x = 1;\n');
    rmSync(join(copy.dir, 'README.md'));
    edit(copy, 'node_modules/dep/index.js', 'ignored\n');

    const result = await ws.commitAll(copy, { message: 'Refactor add', author: developer });
    expect(result.committed).toBe(true);
    expect(result.files).toEqual([
      { path: 'README.md', status: 'deleted' },
      { path: 'src/math.ts', status: 'modified' },
      { path: 'src/new.ts', status: 'added' },
    ]);
    expect(repo.git('rev-parse', 'cahoots-task/G/A')).toBe(result.sha);
    expect(repo.git('log', '-1', '--format=%an <%ae>|%s', result.sha)).toBe('Cahoots developer <developer@cahoots.invalid>|Refactor add');
    expect(repo.git('ls-tree', '-r', '--name-only', result.sha).split('\n')).not.toContain('node_modules/dep/index.js');
    expect(runGit(copy.dir, ['status', '--porcelain'])).toBe('');

    const again = await ws.commitAll(copy, { message: 'nothing', author: developer });
    expect(again).toEqual({ committed: false, sha: result.sha, branch: copy.branch, files: [] });
  });

  it('is reused when it exists, rebuilt from its branch when lost, and restarted when fresh', async () => {
    await ws.createGoalBranch('G', 'main');
    const first = await ws.createTaskWorkingCopy('G', 'A');
    edit(first, 'src/a.ts', 'a\n');
    const { sha } = await ws.commitAll(first, { message: 'a', author: developer });
    edit(first, 'scratch.txt', 'uncommitted\n');

    const reused = await ws.createTaskWorkingCopy('G', 'A');
    expect(existsSync(join(reused.dir, 'scratch.txt'))).toBe(true);

    await ws.removeTaskWorkingCopy('G', 'A');
    expect(existsSync(first.dir)).toBe(false);
    const rebuilt = await ws.createTaskWorkingCopy('G', 'A');
    expect(rebuilt.baseSha).toBe(sha);
    expect(readFileSync(join(rebuilt.dir, 'src/a.ts'), 'utf8')).toBe('a\n');

    const fresh = await ws.createTaskWorkingCopy('G', 'A', { fresh: true });
    expect(fresh.baseSha).toBe(repo.git('rev-parse', 'cahoots/G'));
    expect(existsSync(join(fresh.dir, 'src/a.ts'))).toBe(false);
  });

  it('needs the goal branch first', async () => {
    await expect(ws.createTaskWorkingCopy('NOGOAL', 'A')).rejects.toBeInstanceOf(RefNotFoundError);
  });

  it('removing working copies keeps the shared objects and, on request, deletes branches', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    edit(a, 'src/a.ts', 'a\n');
    const { sha } = await ws.commitAll(a, { message: 'a', author: developer });
    await ws.createTaskWorkingCopy('G', 'B');
    await ws.mergeTask('G', 'A');

    await ws.removeTaskWorkingCopy('G', 'A', { deleteBranch: true });
    expect(repo.git('branch', '--list', 'cahoots-task/G/A')).toBe('');
    expect(repo.git('cat-file', '-t', sha)).toBe('commit');

    await ws.removeGoalWorkingCopies('G', { deleteTaskBranches: true });
    expect(existsSync(ws.workingCopyDir('G', 'B'))).toBe(false);
    expect(repo.git('branch', '--list', 'cahoots-task/*')).toBe('');
    expect(repo.git('fsck', '--no-progress', '--no-dangling')).toBe('');
  });
});

describe('merging task branches into the goal branch', () => {
  it('merges two tasks that edited different files: fast-forward, then a real merge commit', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    edit(a, 'src/math.ts', 'export function add(a: number, b: number): number {\n  return b + a;\n}\n');
    edit(b, 'src/greet.ts', 'export function greet(name: string): string {\n  return `hi ${name}`;\n}\n');
    const commitA = await ws.commitAll(a, { message: 'Task A', author: developer });
    const commitB = await ws.commitAll(b, { message: 'Task B', author: cahootsIdentity('ux') });

    const first = await ws.mergeTask('G', 'A');
    expect(first).toMatchObject({ kind: 'fast-forward', sha: commitA.sha });
    const second = await ws.mergeTask('G', 'B');
    expect(second.kind).toBe('merge-commit');

    // Independent check with the git binary.
    const goal = repo.git('rev-parse', 'cahoots/G');
    expect(goal).toBe(second.sha);
    expect(repo.git('log', '-1', '--format=%P', goal).split(' ')).toEqual([commitA.sha, commitB.sha]);
    expect(repo.git('show', 'cahoots/G:src/math.ts')).toContain('b + a');
    expect(repo.git('show', 'cahoots/G:src/greet.ts')).toContain('hi ${name}');
    expect(repo.git('log', '--format=%s', 'main..cahoots/G').split('\n')).toEqual(
      expect.arrayContaining(['Task A', 'Task B', 'Merge cahoots-task/G/B into cahoots/G']),
    );
    expect(repo.git('fsck', '--no-progress', '--no-dangling')).toBe('');
    expect(repo.git('rev-parse', 'main')).not.toBe(goal);

    // Merging again is a no-op.
    expect(await ws.mergeTask('G', 'B')).toEqual({ kind: 'already-merged', goalBranch: 'cahoots/G', sha: goal });

    const commits = await ws.listCommits('cahoots/G', { notIn: 'main' });
    expect(commits.map((c) => c.subject).sort()).toEqual(['Merge cahoots-task/G/B into cahoots/G', 'Task A', 'Task B']);
    expect(commits.find((c) => c.subject === 'Task B')?.author).toEqual({ name: 'Cahoots ux', email: 'ux@cahoots.invalid' });
    expect((await ws.listCommits('cahoots/G')).at(-1)?.subject).toBe('Initial commit');

    expect(await ws.diffSummary('main', 'cahoots/G')).toEqual([
      { path: 'src/greet.ts', status: 'modified' },
      { path: 'src/math.ts', status: 'modified' },
    ]);
  });

  it('merges edits to different parts of the same file', async () => {
    repo.git('checkout', '--quiet', '-b', 'wide');
    writeFileSync(join(repo.dir, 'list.txt'), Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n') + '\n');
    repo.git('add', 'list.txt');
    repo.git('commit', '--quiet', '-m', 'list');
    await ws.createGoalBranch('G', 'wide');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    edit(a, 'list.txt', readFileSync(join(a.dir, 'list.txt'), 'utf8').replace('line 1\n', 'line one\n'));
    edit(b, 'list.txt', readFileSync(join(b.dir, 'list.txt'), 'utf8').replace('line 18\n', 'line eighteen\n'));
    await ws.commitAll(a, { message: 'A', author: developer });
    await ws.commitAll(b, { message: 'B', author: developer });
    await ws.mergeTask('G', 'A');
    expect((await ws.mergeTask('G', 'B')).kind).toBe('merge-commit');
    const merged = repo.git('show', 'cahoots/G:list.txt');
    expect(merged).toContain('line one\n');
    expect(merged).toContain('line eighteen');
  });

  it('reports a conflict on the same lines with the path and leaves the goal branch unchanged', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    edit(a, 'src/math.ts', 'export function add(a: number, b: number): number {\n  return a + b + 0;\n}\n');
    edit(b, 'src/math.ts', 'export function add(a: number, b: number): number {\n  return Number(a) + Number(b);\n}\n');
    edit(b, 'src/greet.ts', 'export const greet = (n: string) => n;\n');
    await ws.commitAll(a, { message: 'A', author: developer });
    await ws.commitAll(b, { message: 'B', author: developer });
    await ws.mergeTask('G', 'A');
    const before = repo.git('rev-parse', 'cahoots/G');

    const error = await ws.mergeTask('G', 'B').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MergeConflictError);
    expect((error as MergeConflictError).paths).toEqual(['src/math.ts']);
    expect((error as MergeConflictError).kind).toBe('content');
    expect((error as Error).message).toContain('src/math.ts');

    expect(repo.git('rev-parse', 'cahoots/G')).toBe(before);
    expect(repo.git('show', 'cahoots/G:src/math.ts')).toContain('a + b + 0');
    expect(repo.git('status', '--porcelain')).toBe('');
    expect(repo.git('fsck', '--no-progress', '--no-dangling')).toBe('');
  });

  it('reports a file both tasks added differently, and a modify/delete, as conflicts', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    edit(a, 'src/new.ts', 'export const n = 1;\n');
    edit(b, 'src/new.ts', 'export const n = 2;\n');
    rmSync(join(a.dir, 'README.md'));
    edit(b, 'README.md', '# Demo\n\nChanged.\n');
    await ws.commitAll(a, { message: 'A', author: developer });
    await ws.commitAll(b, { message: 'B', author: developer });
    await ws.mergeTask('G', 'A');
    const before = repo.git('rev-parse', 'cahoots/G');
    const error = (await ws.mergeTask('G', 'B').catch((e: unknown) => e)) as MergeConflictError;
    expect(error).toBeInstanceOf(MergeConflictError);
    expect(error.paths).toEqual(['README.md', 'src/new.ts']);
    expect(error.kind).toBe('content');
    expect(repo.git('rev-parse', 'cahoots/G')).toBe(before);
  });

  it('reports a file on one side and a directory of the same name on the other as unsupported', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    edit(a, 'lib', 'a file\n');
    edit(b, 'lib/a.ts', 'export {};\n');
    await ws.commitAll(a, { message: 'A', author: developer });
    await ws.commitAll(b, { message: 'B', author: developer });
    await ws.mergeTask('G', 'A');
    const before = repo.git('rev-parse', 'cahoots/G');
    const error = (await ws.mergeTask('G', 'B').catch((e: unknown) => e)) as MergeConflictError;
    expect(error).toBeInstanceOf(MergeConflictError);
    expect(error.kind).toBe('unsupported');
    expect(error.paths).toEqual(['lib', 'lib/a.ts']);
    expect(repo.git('rev-parse', 'cahoots/G')).toBe(before);
    // The merge's scratch gitdir is gone: the failed merge's leftover writes were stopped first.
    expect(readdirSync(ws.root).filter((name) => name.startsWith('.merge-'))).toEqual([]);
  });

  it('refuses to merge binary files both tasks changed instead of corrupting them', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    writeFileSync(join(repo.dir, 'logo.png'), png);
    repo.git('add', 'logo.png');
    repo.git('commit', '--quiet', '-m', 'logo');
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    writeFileSync(join(a.dir, 'logo.png'), Buffer.concat([png, Buffer.from([4])]));
    writeFileSync(join(b.dir, 'logo.png'), Buffer.concat([png, Buffer.from([5])]));
    await ws.commitAll(a, { message: 'A', author: developer });
    await ws.commitAll(b, { message: 'B', author: developer });
    await ws.mergeTask('G', 'A');
    const error = (await ws.mergeTask('G', 'B').catch((e: unknown) => e)) as MergeConflictError;
    expect(error).toBeInstanceOf(MergeConflictError);
    expect(error.paths).toEqual(['logo.png']);
    expect(error.kind).toBe('unsupported');
  });

  it('serialises merges that arrive at the same time, losing none', async () => {
    await ws.createGoalBranch('G', 'main');
    const ids = ['T1', 'T2', 'T3', 'T4', 'T5', 'T6'];
    const copies = await Promise.all(ids.map((id) => ws.createTaskWorkingCopy('G', id)));
    await Promise.all(
      copies.map(async (copy) => {
        edit(copy, `src/${copy.taskId}.ts`, `export const id = '${copy.taskId}';\n`);
        await ws.commitAll(copy, { message: `Task ${copy.taskId}`, author: developer });
      }),
    );
    // A second GitWorkspace on the same repository shares the in-process lock.
    const other = await GitWorkspace.open({ repoDir: repo.dir, root: repo.scratch });
    const results = await Promise.all(ids.map((id, i) => (i % 2 ? other : ws).mergeTask('G', id)));

    expect(results.filter((r) => r.kind === 'fast-forward')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'merge-commit')).toHaveLength(ids.length - 1);
    const tree = repo.git('ls-tree', '--name-only', 'cahoots/G', 'src/').split('\n');
    for (const id of ids) expect(tree).toContain(`src/${id}.ts`);
    // Each merge built on the previous one: the chain of first parents visits every merge.
    expect(repo.git('rev-list', '--first-parent', '--count', 'main..cahoots/G')).toBe(String(ids.length));
    expect(repo.git('fsck', '--no-progress', '--no-dangling')).toBe('');
  });

  it('does not move the goal branch while another writer holds git\'s ref lock', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    edit(a, 'x.txt', 'x\n');
    await ws.commitAll(a, { message: 'A', author: developer });
    const lock = join(repo.dir, '.git/refs/heads/cahoots/G.lock');
    writeFileSync(lock, '');
    await expect(ws.mergeTask('G', 'A')).rejects.toBeInstanceOf(RefLockedError);
    expect(repo.git('rev-parse', 'cahoots/G')).toBe(repo.git('rev-parse', 'main'));
    rmSync(lock);
    expect((await ws.mergeTask('G', 'A')).kind).toBe('fast-forward');
  });

  it('a compare-and-swap ref update fails when the ref moved', async () => {
    const main = repo.git('rev-parse', 'main');
    const gitdir = join(repo.dir, '.git');
    await expect(updateRef(gitdir, { ref: 'refs/heads/main', value: main, expected: '0'.repeat(40) })).rejects.toBeInstanceOf(
      RefChangedError,
    );
    await expect(updateRef(gitdir, { ref: 'refs/heads/main', value: main, expected: null })).rejects.toBeInstanceOf(RefChangedError);
    expect(existsSync(join(gitdir, 'refs/heads/main.lock'))).toBe(false);
  });
});

describe('bringing goal work into a task (conflict resolution)', () => {
  it('fast-forwards a task without commits and merges cleanly when it can', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    const c = await ws.createTaskWorkingCopy('G', 'C');
    edit(a, 'src/a.ts', 'a\n');
    await ws.commitAll(a, { message: 'A', author: developer });
    await ws.mergeTask('G', 'A');

    expect(await ws.syncTaskWithGoal(b, { author: developer })).toMatchObject({ kind: 'fast-forward', paths: [] });
    expect(readFileSync(join(b.dir, 'src/a.ts'), 'utf8')).toBe('a\n');

    edit(c, 'src/c.ts', 'c\n');
    await ws.commitAll(c, { message: 'C', author: developer });
    const synced = await ws.syncTaskWithGoal(c, { author: developer });
    expect(synced.kind).toBe('merge-commit');
    expect(readFileSync(join(c.dir, 'src/a.ts'), 'utf8')).toBe('a\n');
    expect(runGit(c.dir, ['status', '--porcelain'])).toBe('');
    expect(repo.git('rev-parse', 'cahoots-task/G/C')).toBe(synced.sha);
    expect(await ws.syncTaskWithGoal(c, { author: developer })).toMatchObject({ kind: 'up-to-date' });
  });

  it('leaves conflict markers to resolve, refuses to commit them, then merges back as a fast-forward', async () => {
    await ws.createGoalBranch('G', 'main');
    const a = await ws.createTaskWorkingCopy('G', 'A');
    const b = await ws.createTaskWorkingCopy('G', 'B');
    edit(a, 'src/math.ts', 'export function add(a: number, b: number): number {\n  return a + b + 0;\n}\n');
    edit(a, 'src/extra.ts', 'export const extra = true;\n');
    rmSync(join(a.dir, 'README.md'));
    edit(b, 'src/math.ts', 'export function add(a: number, b: number): number {\n  return Number(a) + Number(b);\n}\n');
    edit(b, 'src/greet.ts', 'export const greet = (n: string) => n;\n');
    await ws.commitAll(a, { message: 'A', author: developer });
    const commitB = await ws.commitAll(b, { message: 'B', author: developer });
    await ws.mergeTask('G', 'A');
    await expect(ws.mergeTask('G', 'B')).rejects.toBeInstanceOf(MergeConflictError);

    const synced = await ws.syncTaskWithGoal(b, { author: developer });
    expect(synced).toEqual({ kind: 'conflict', sha: commitB.sha, paths: ['src/math.ts'] });
    const conflicted = readFileSync(join(b.dir, 'src/math.ts'), 'utf8');
    expect(conflicted).toMatch(/^<{7} /m);
    expect(conflicted).toContain('a + b + 0');
    expect(conflicted).toContain('Number(a) + Number(b)');
    // The goal's other work arrived; the task's own work stayed.
    expect(readFileSync(join(b.dir, 'src/extra.ts'), 'utf8')).toBe('export const extra = true;\n');
    expect(existsSync(join(b.dir, 'README.md'))).toBe(false);
    expect(readFileSync(join(b.dir, 'src/greet.ts'), 'utf8')).toContain('(n: string) => n');

    await expect(ws.commitAll(b, { message: 'Resolve', author: developer })).rejects.toBeInstanceOf(UnresolvedConflictError);
    await expect(ws.syncTaskWithGoal(b, { author: developer })).rejects.toBeInstanceOf(WorkingCopyError);

    edit(b, 'src/math.ts', 'export function add(a: number, b: number): number {\n  return Number(a) + Number(b) + 0;\n}\n');
    const resolved = await ws.commitAll(b, { message: 'Resolve conflict with goal', author: developer });
    const goalTip = repo.git('rev-parse', 'cahoots/G');
    expect(repo.git('log', '-1', '--format=%P', resolved.sha).split(' ')).toEqual([commitB.sha, goalTip]);
    expect(existsSync(join(b.gitdir, 'MERGE_HEAD'))).toBe(false);

    expect(await ws.mergeTask('G', 'B')).toMatchObject({ kind: 'fast-forward', sha: resolved.sha });
    expect(repo.git('show', 'cahoots/G:src/math.ts')).toContain('Number(a) + Number(b) + 0');
    expect(repo.git('ls-tree', '--name-only', '-r', 'cahoots/G').split('\n')).toEqual(
      expect.arrayContaining(['src/extra.ts', 'src/greet.ts']),
    );
    expect(repo.git('ls-tree', '--name-only', '-r', 'cahoots/G').split('\n')).not.toContain('README.md');
    expect(repo.git('fsck', '--no-progress', '--no-dangling')).toBe('');
  });
});
