// `cahoots run` on a repository with uncommitted changes: the run starts from the last commit, and
// the person is told that the changes are not part of it.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepository, uncommittedChangesNote } from '../../lib/cli/preflight';
import type { TempRepo } from '../support/temp-repo';
import { cliEnv, EXAMPLE_GOAL, EXAMPLE_REPLAY, exampleRepo, runCli, type CliResult } from './support';

describe('a dirty working tree', () => {
  let repo: TempRepo;
  let result: CliResult;

  beforeAll(async () => {
    repo = exampleRepo();
    appendFileSync(join(repo.dir, 'src/todos.js'), '\n// work in progress, not committed\n');
    writeFileSync(join(repo.dir, 'notes.txt'), 'untracked notes\n');
    result = await runCli(
      ['run', '--repo', repo.dir, '--goal', EXAMPLE_GOAL, '--model', `replay:${EXAMPLE_REPLAY}`, '--approve', 'auto', '--allow', 'node --test', '--json'],
      { env: cliEnv({ CAHOOTS_WORKSPACE_ROOT: repo.scratch }) },
    );
  });

  afterAll(() => repo?.cleanup());

  it('lists the uncommitted paths', async () => {
    const info = await checkRepository(repo.dir);
    expect(info.uncommitted.sort()).toEqual(['notes.txt', 'src/todos.js']);
    expect(uncommittedChangesNote(info)).toMatch(/^note: 2 uncommitted changes in .* \(notes\.txt, src\/todos\.js\) are not part of this run: the agents start from main at [0-9a-f]{7}\. Commit them first/);
    expect(uncommittedChangesNote({ ...info, uncommitted: [] })).toBeUndefined();
  });

  it('says so on stderr, runs from the last commit, and leaves the changes where they are', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/note: 2 uncommitted changes in .* are not part of this run/);
    const doc = JSON.parse(result.stdout) as { branch: string };
    expect(repo.git('show', `${doc.branch}:src/todos.js`)).not.toContain('work in progress');
    expect(repo.git('ls-tree', '-r', '--name-only', doc.branch)).not.toContain('notes.txt');
    expect(repo.git('status', '--porcelain')).toContain('notes.txt');
  });
});
