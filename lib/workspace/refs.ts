// Serialised ref updates: an in-process mutex per repository, and git's own `<ref>.lock` file
// protocol for writers outside this process (real git, another Cahoots process on the same disk).
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import git, { Errors } from 'isomorphic-git';
import { RefChangedError, RefLockedError, WorkspaceError } from './errors';
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

const LOCK_ATTEMPTS = 20;
const LOCK_RETRY_MS = 50;

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
    throw new WorkspaceError(
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
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fsp.open(lockPath, 'wx');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw error;
      if (attempt >= LOCK_ATTEMPTS) throw new RefLockedError(ref, lockPath);
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }
}
