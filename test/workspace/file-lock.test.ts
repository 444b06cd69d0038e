// Lock files shared by processes on one file system: exclusive creation, waiting for a live holder,
// taking over a lock whose holder died (its mtime stopped moving), and git's ref lock on top.
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, createLockFile, LockTimeoutError, withLock } from '../../lib/workspace/file-lock';
import { REF_LOCK_STALE_MS, updateRef } from '../../lib/workspace/refs';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

const longAgo = (ms: number) => new Date(Date.now() - ms - 60_000);

describe('lock files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cahoots-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a held, fresh lock to nobody else and names the file when giving up', async () => {
    const path = join(dir, 'mirror.lock');
    const held = await acquireLock(path, { staleMs: 60_000, timeoutMs: 1_000 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    const failure = await createLockFile(path, { staleMs: 60_000, timeoutMs: 0 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect((failure as Error).message).toContain(path);
    await held.release();
    expect(existsSync(path)).toBe(false);
    expect(await withLock(path, { staleMs: 60_000, timeoutMs: 0 }, async () => 'ran')).toBe('ran');
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock nobody has touched for longer than staleMs', async () => {
    const path = join(dir, 'mirror.lock');
    writeFileSync(path, '{"pid": 999999}\n');
    utimesSync(path, longAgo(60_000), longAgo(60_000));
    const handle = await createLockFile(path, { staleMs: 60_000, timeoutMs: 0 });
    await handle.close();
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('runs critical sections one after another', async () => {
    const path = join(dir, 'counter.lock');
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        withLock(path, { staleMs: 60_000, timeoutMs: 30_000, retryMs: 1 }, async () => {
          order.push(`${name}:in`);
          await new Promise((resolve) => setImmediate(resolve));
          order.push(`${name}:out`);
        }),
      ),
    );
    for (let i = 0; i < order.length; i += 2) expect(order[i]?.replace(':in', '')).toBe(order[i + 1]?.replace(':out', ''));
  });
});

describe('git ref locks', () => {
  let repo: TempRepo;
  beforeEach(() => {
    repo = createTempRepo();
  });
  afterEach(() => repo.cleanup());

  it('takes over a `<ref>.lock` left by a writer that died', async () => {
    const gitdir = join(repo.dir, '.git');
    const main = repo.git('rev-parse', 'main');
    const lock = join(gitdir, 'refs/heads/goal.lock');
    writeFileSync(lock, '');
    utimesSync(lock, longAgo(REF_LOCK_STALE_MS), longAgo(REF_LOCK_STALE_MS));
    await updateRef(gitdir, { ref: 'refs/heads/goal', value: main, expected: null });
    expect(repo.git('rev-parse', 'goal')).toBe(main);
    expect(existsSync(lock)).toBe(false);
  });
});
