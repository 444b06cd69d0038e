// Checking a person's repository before a run reads it and writes nothing: isomorphic-git would
// otherwise refresh `.git/index` when a file's stat data changed, and two runs checking one
// repository at once could read each other's half-written index.
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRepository } from '../../lib/cli/preflight';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

describe('checkRepository', () => {
  it('leaves .git/index byte for byte as it was when a file was touched but not changed', async () => {
    repo = createTempRepo();
    // A later mtime with the same content: git status would call the file unchanged and refresh its stat cache.
    const touched = new Date(Date.now() + 60_000);
    utimesSync(join(repo.dir, 'src/math.ts'), touched, touched);
    const indexBefore = readFileSync(join(repo.dir, '.git/index'));

    const info = await checkRepository(repo.dir);

    expect(info.uncommitted).toEqual([]);
    expect(readFileSync(join(repo.dir, '.git/index')).equals(indexBefore)).toBe(true);
  });

  it('still sees changed, staged and untracked files', async () => {
    repo = createTempRepo();
    writeFileSync(join(repo.dir, 'src/math.ts'), 'export const changed = true;\n');
    writeFileSync(join(repo.dir, 'staged.txt'), 'staged\n');
    repo.git('add', 'staged.txt');
    writeFileSync(join(repo.dir, 'untracked.txt'), 'untracked\n');
    const indexBefore = readFileSync(join(repo.dir, '.git/index'));

    const info = await checkRepository(repo.dir);

    expect(info.uncommitted.sort()).toEqual(['src/math.ts', 'staged.txt', 'untracked.txt']);
    expect(readFileSync(join(repo.dir, '.git/index')).equals(indexBefore)).toBe(true);
  });
});
