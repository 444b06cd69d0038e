// Lock files that work across processes and machines sharing one file system (several Lambda
// environments on one EFS mount): created with O_CREAT|O_EXCL, which NFSv4 performs atomically
// on the server, kept fresh by touching their mtime while held, and taken over once they have not
// been touched for `staleMs` (a holder that crashed or whose Lambda timed out).
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { fullJitterDelay, sleep } from '../domain/backoff';
import { WorkspaceError } from './errors';

/** A lock file stayed held (and fresh) longer than the caller was willing to wait. */
export class LockTimeoutError extends WorkspaceError {
  readonly code = 'LockTimeout';
  /** The holder may finish; a later try can take the lock. */
  override readonly permanent = false;
  constructor(
    readonly lockPath: string,
    waitedMs: number,
  ) {
    super(
      `${lockPath} is held by another process and was not released within ${Math.round(waitedMs / 1000)} s; ` +
        'if no Cahoots or git process works on this repository, the lock is stale and can be deleted',
    );
  }
}

export interface LockFileOptions {
  /** A lock whose mtime is older than this is considered abandoned and taken over. */
  staleMs: number;
  /** How long to wait for a held lock before LockTimeoutError. */
  timeoutMs: number;
  /** First pause between attempts; it doubles up to 16 times this, with jitter. */
  retryMs?: number;
}

/**
 * Creates `lockPath` exclusively and returns its open handle, waiting while another process holds
 * it and taking over a stale one. The caller owns the file: it writes and renames it (git's
 * `<ref>.lock` protocol) or removes it.
 */
export async function createLockFile(lockPath: string, options: LockFileOptions): Promise<FileHandle> {
  const started = Date.now();
  const firstPause = options.retryMs ?? 25;
  // Full jitter around the same average pauses as before: retryMs first, doubling up to 16×.
  const backoff = { baseDelayMs: firstPause * 2, maxDelayMs: firstPause * 32 };
  for (let retry = 1; ; retry += 1) {
    try {
      return await fsp.open(lockPath, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await breakIfStale(lockPath, options.staleMs)) continue;
    if (Date.now() - started >= options.timeoutMs) throw new LockTimeoutError(lockPath, Date.now() - started);
    await sleep(fullJitterDelay(retry, backoff));
  }
}

/**
 * Removes a lock file nobody has touched for `staleMs`. The file is first renamed to a unique
 * name, so of several processes breaking the same stale lock only one succeeds; if what it moved
 * turns out to be fresh (the stale lock was replaced between the check and the rename), it is put
 * back where it was.
 */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const stat = await fsp.stat(lockPath).catch(() => null);
  if (!stat) return true; // released meanwhile: try again at once
  if (Date.now() - stat.mtimeMs < staleMs) return false;
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await fsp.rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true; // another process broke it
    throw error;
  }
  const moved = await fsp.stat(aside);
  if (moved.ino !== stat.ino && Date.now() - moved.mtimeMs < staleMs) {
    // A live holder's lock: give it back (link fails if yet another holder has appeared, which is fine).
    await fsp.link(aside, lockPath).catch(() => undefined);
  }
  await fsp.rm(aside, { force: true });
  return true;
}

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * A lock for long critical sections (a clone or fetch of a mirror): the file records who holds it
 * and its mtime is refreshed every `staleMs / 4`, so waiting processes can tell a slow holder from a
 * dead one.
 */
export async function acquireLock(lockPath: string, options: LockFileOptions): Promise<HeldLock> {
  const handle = await createLockFile(lockPath, options);
  try {
    await handle.writeFile(`${JSON.stringify({ pid: process.pid, host: hostname(), acquiredAt: new Date().toISOString() })}\n`);
  } finally {
    await handle.close();
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    fsp.utimes(lockPath, now, now).catch(() => undefined);
  }, Math.max(10, Math.floor(options.staleMs / 4)));
  heartbeat.unref();
  let released = false;
  return {
    path: lockPath,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      await fsp.rm(lockPath, { force: true });
    },
  };
}

/** Runs `critical` holding the lock file at `lockPath`. */
export async function withLock<T>(lockPath: string, options: LockFileOptions, critical: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(lockPath, options);
  try {
    return await critical();
  } finally {
    await lock.release();
  }
}
