// The scoped client isomorphic-git gets for work in a throwaway directory: once closed, leftover
// calls of a failed operation cannot touch the disk, and closing waits for the ones running.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scopedGitFs } from '../../lib/workspace/git-fs';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('scopedGitFs', () => {
  it('waits for the writes already running, then refuses every later call as if the directory were gone', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cahoots-git-fs-'));
    const scoped = scopedGitFs();
    const fs = scoped.fs.promises;
    const running = fs.writeFile(join(dir, 'object'), 'content') as Promise<void>;
    await scoped.close();
    // The write that started before close has finished by the time close resolves.
    expect(readFileSync(join(dir, 'object'), 'utf8')).toBe('content');
    await running;

    const refused = await (fs.mkdir(join(dir, 'objects', 'ab'), { recursive: true }) as Promise<unknown>).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ENOENT' });
    await expect(fs.writeFile(join(dir, 'late'), 'x') as Promise<void>).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.stat(dir) as Promise<unknown>).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(join(dir, 'objects'))).toBe(false);
    expect(existsSync(join(dir, 'late'))).toBe(false);
  });
});
