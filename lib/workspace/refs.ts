// Serialised ref updates: an in-process mutex per repository, and git's own `<ref>.lock` file
// protocol for writers outside this process (real git, another Cahoots process or Lambda
// environment on the same shared file system).
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import git, { Errors } from 'isomorphic-git';
import { RefChangedError, RefLockedError, RefNameConflictError } from './errors';
import { createLockFile, LockTimeoutError } from './file-lock';
import { gitFs } from './git-fs';

/**
 * Runs async critical sections one after another per key. Keys are repository paths, so merges
 * into different repositories still run in parallel.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, critical: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await critical();
    } finally {
      release();
      // Forget the key once nobody queued behind us, so the map does not grow per repository forever.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** Full name of a ref (`refs/heads/x`) to its commit, or null when it does not exist. */
export async function readRef(gitdir: string, ref: string): Promise<string | null> {
  try {
    return await git.resolveRef({ fs: gitFs, gitdir, ref });
  } catch (error) {
    if (error instanceof Errors.NotFoundError) return null;
    throw error;
  }
}

export interface RefUpdate {
  /** Full ref name, e.g. `refs/heads/cahoots/01J…`. */
  ref: string;
  /** New commit, or null to delete the ref. */
  value: string | null;
  /**
   * Compare-and-swap: the value the caller read (null = must not exist). Omit to overwrite
   * whatever is there, which is right only for refs with a single writer.
   */
  expected?: string | null;
}

/**
 * A ref lock is held for the few milliseconds of one write, so one untouched for this long was left
 * by a process that died (a Lambda environment that timed out mid-update) and is taken over.
 */
export const REF_LOCK_STALE_MS = 30_000;
/** How long a writer waits for another writer's ref lock before RefLockedError. */
export const REF_LOCK_TIMEOUT_MS = 10_000;

/**
 * Update one ref the way git does: create `<ref>.lock` exclusively, check the current value,
 * write the new value into the lock file and rename it over the ref. Real git honours the same
 * lock file, so neither side can lose the other's update.
 */
export async function updateRef(gitdir: string, update: RefUpdate): Promise<void> {
  const refPath = join(gitdir, update.ref);
  const lockPath = `${refPath}.lock`;
  try {
    await fsp.mkdir(dirname(refPath), { recursive: true });
  } catch (error) {
    throw new RefNameConflictError(
      `cannot create ${update.ref}: a ref named like one of its parent folders already exists (${String(error)})`,
    );
  }
  const handle = await acquireLockFile(update.ref, lockPath);
  let renamed = false;
  try {
    const current = await readRef(gitdir, update.ref);
    if (update.expected !== undefined && current !== update.expected) {
      throw new RefChangedError(update.ref, update.expected, current);
    }
    if (update.value === null) {
      // isomorphic-git also removes the ref from packed-refs, which a hand-written unlink would miss.
      if (current !== null) await git.deleteRef({ fs: gitFs, gitdir, ref: update.ref });
      return;
    }
    await handle.writeFile(`${update.value}\n`, 'utf8');
    await handle.close();
    await fsp.rename(lockPath, refPath);
    renamed = true;
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await fsp.rm(lockPath, { force: true });
    }
  }
}

async function acquireLockFile(ref: string, lockPath: string): Promise<FileHandle> {
  try {
    return await createLockFile(lockPath, { staleMs: REF_LOCK_STALE_MS, timeoutMs: REF_LOCK_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof LockTimeoutError) throw new RefLockedError(ref, lockPath);
    throw error;
  }
}
