// The node:fs client handed to isomorphic-git, with atomic writes.
// isomorphic-git writes loose objects, refs and the index with a plain writeFile. Task working
// copies share one object store, so a reader (another task, real git) could otherwise see half an
// object while it is being written. Writing a temporary file and renaming it over the target makes
// every write all-or-nothing on POSIX file systems, which is what real git does too.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PromiseFsClient } from 'isomorphic-git';

type WriteOptions = Parameters<typeof fsp.writeFile>[2];

/** Write `data` to `path` so that readers see either the old file or the whole new one. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options?: WriteOptions): Promise<void> {
  // Random, not pid-based: processes on other machines sharing the file system (Lambda
  // environments on one EFS) often have the same pid, and two writers must never share a temp file.
  const temporary = join(dirname(path), `.cahoots-tmp-${randomBytes(8).toString('hex')}-${basename(path)}`);
  try {
    await fsp.writeFile(temporary, data, typeof options === 'string' ? { encoding: options, flag: 'wx' } : { ...options, flag: 'wx' });
    await fsp.rename(temporary, path);
  } catch (error) {
    await fsp.rm(temporary, { force: true });
    throw error;
  }
}

// `rm` is not in isomorphic-git's client type, but it is used when present; without it the library
// falls back to the deprecated recursive rmdir.
const promises = {
  rm: fsp.rm,
  readFile: fsp.readFile,
  writeFile: writeFileAtomic,
  mkdir: fsp.mkdir,
  rmdir: fsp.rmdir,
  unlink: fsp.unlink,
  stat: fsp.stat,
  lstat: fsp.lstat,
  readdir: fsp.readdir,
  readlink: fsp.readlink,
  symlink: fsp.symlink,
  chmod: fsp.chmod,
};

/** One shared client; isomorphic-git keeps no state per client instance. */
export const gitFs: PromiseFsClient = { promises };

/**
 * A client that reads and never writes, for looking at a person's own repository. isomorphic-git's
 * statusMatrix rewrites `.git/index` whenever a file's stat data changed since it was indexed (a
 * cache refresh, not a change), with a plain writeFile: a "read-only" check would then modify the
 * person's repository, and two runs checking one repository at once could read each other's
 * half-written index. Every write here succeeds without touching the disk, so the library computes
 * the same status and the index stays exactly as git left it.
 */
const ignoreWrite = async (): Promise<void> => {};
const readOnlyPromises = {
  ...promises,
  rm: ignoreWrite,
  writeFile: ignoreWrite,
  mkdir: ignoreWrite,
  rmdir: ignoreWrite,
  unlink: ignoreWrite,
  symlink: ignoreWrite,
  chmod: ignoreWrite,
};
export const readOnlyGitFs: PromiseFsClient = { promises: readOnlyPromises };

export interface ScopedGitFs {
  fs: PromiseFsClient;
  /** Refuses every later call and resolves once the calls already running have settled. */
  close(): Promise<void>;
}

/**
 * A client for one isomorphic-git call that works in a directory removed afterwards. The library
 * walks trees with Promise.all: when one path fails (a merge it does not support), the call
 * rejects while its sibling paths still read and write. Removing the directory under them lets a
 * write that lost its folder recreate it inside the directory being removed (ENOTEMPTY), and leaves
 * it behind. Closing this client first stops that work from touching the disk at all: every later
 * call fails as if the directory were already gone (ENOENT), which isomorphic-git handles quietly.
 */
export function scopedGitFs(): ScopedGitFs {
  let closed = false;
  const running = new Set<Promise<unknown>>();
  type Method = (...args: unknown[]) => Promise<unknown>;
  const guarded = {} as Record<keyof typeof promises, Method>;
  for (const [name, method] of Object.entries(promises) as [keyof typeof promises, Method][]) {
    guarded[name] = (...args) => {
      if (closed) return Promise.reject(Object.assign(new Error(`ENOENT: ${name} after its git operation ended`), { code: 'ENOENT' }));
      const call = method(...args);
      running.add(call);
      const settled = (): void => {
        running.delete(call);
      };
      void call.then(settled, settled);
      return call;
    };
  }
  return {
    fs: { promises: guarded },
    async close() {
      closed = true;
      await Promise.allSettled([...running]);
    },
  };
}
