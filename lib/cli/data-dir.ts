// The local data directory (`.cahoots/` by default): dynalite's database and the artifacts live
// there. Only one process may open the database, so whoever opens it holds `cahoots.lock`, and a
// running `cahoots dev` also leaves `dev.json` with its URL for other commands to talk to it.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DataDirInUseError, UsageError } from './errors';

export const DEFAULT_DATA_DIR = '.cahoots';
const LOCK_FILE = 'cahoots.lock';
const DEV_FILE = 'dev.json';

export function resolveDataDir(flag: string | undefined, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? DEFAULT_DATA_DIR);
}

// File systems the kernel makes up (statfs f_type): nothing can be kept there, and creating
// directories in /proc can even make a recursive mkdir spin forever.
const KERNEL_FILE_SYSTEMS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x73636673: 'securityfs',
  0x1cd1: 'devpts',
  0x74726163: 'tracefs',
  0xcafe4a11: 'bpf',
};

function unusable(dataDir: string, reason: string): UsageError {
  return new UsageError(`--data-dir ${dataDir} cannot be used: ${reason}; pass a directory you can write to`, '--data-dir');
}

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/**
 * Makes sure the data directory exists and is a writable directory, creating what is missing one
 * level at a time. Every way it can be unusable is a UsageError naming the path and the reason.
 * Returns the topmost directory this call created (to remove it if the command does not get
 * going), or undefined when the directory was already there.
 */
export function prepareDataDir(dataDir: string): string | undefined {
  const { missing } = checkDataDir(dataDir);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      const code = errorCode(error);
      const reason =
        code === 'EACCES' || code === 'EPERM'
          ? `you may not create directories in ${dirname(dir)}`
          : code === 'EROFS'
            ? `${dirname(dir)} is on a read-only file system`
            : code === 'ENOSPC'
              ? `the disk holding ${dirname(dir)} is full`
              : `creating ${dir} failed (${code ?? (error as Error).message})`;
      if (missing[0] !== dir) rmSync(missing[0]!, { recursive: true, force: true });
      throw unusable(dataDir, reason);
    }
  }
  try {
    accessSync(dataDir, constants.W_OK | constants.X_OK);
  } catch {
    throw unusable(dataDir, 'you may not write to it');
  }
  return missing[0];
}

/**
 * The checks that need no writing, so a command can refuse an unusable data directory before it
 * reads anything else (the repository included): a file in the way, a path under a file, a file
 * system the kernel makes up. Returns the directories that would have to be created.
 */
export function checkDataDir(dataDir: string): { missing: string[] } {
  // The deepest part of the path that exists says where the new directories would go.
  let existing = dataDir;
  const missing: string[] = [];
  for (;;) {
    try {
      const stat = statSync(existing);
      if (!stat.isDirectory()) {
        throw unusable(dataDir, existing === dataDir ? 'it is a file, not a directory' : `${existing} is a file, not a directory`);
      }
      break;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const code = errorCode(error);
      if (code === 'ENOTDIR') {
        missing.unshift(existing);
        existing = dirname(existing);
        continue;
      }
      if (code !== 'ENOENT') throw unusable(dataDir, `${existing} cannot be read (${code ?? (error as Error).message})`);
      if (dirname(existing) === existing) throw unusable(dataDir, 'no part of the path exists');
      missing.unshift(existing);
      existing = dirname(existing);
    }
  }
  let fileSystem: string | undefined;
  try {
    fileSystem = KERNEL_FILE_SYSTEMS[statfsSync(existing).type];
  } catch {
    // statfs is not everywhere; prepareDataDir still catches what cannot be written.
  }
  if (fileSystem) throw unusable(dataDir, `${existing} is on ${fileSystem}, a file system the kernel makes up, where nothing can be kept`);
  return { missing };
}

/** Whether the directory holds a database written by an earlier run. */
export function hasLocalData(dataDir: string): boolean {
  return existsSync(join(dataDir, 'dynamodb'));
}

interface LockRecord {
  pid: number;
  command: string;
  startedAt: string;
}

export interface DataDirLock {
  /** The topmost directory taking the lock created, when the data directory was new. */
  created: string | undefined;
  release(): void;
  /** Releases the lock and removes the data directory again if taking the lock created it. */
  discard(): void;
}

/**
 * Takes the data directory for this process. A lock left by a process that is gone (killed,
 * crashed) is taken over; one held by a live process is a DataDirInUseError.
 */
export function lockDataDir(dataDir: string, command: string): DataDirLock {
  const created = prepareDataDir(dataDir);
  const path = join(dataDir, LOCK_FILE);
  const record: LockRecord = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(record)}\n`, { flag: 'wx' });
      return {
        created,
        release() {
          const current = readJson<LockRecord>(path);
          if (current?.pid === process.pid) rmSync(path, { force: true });
        },
        discard() {
          this.release();
          if (created) rmSync(created, { recursive: true, force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readJson<LockRecord>(path);
    if (holder && holder.pid !== process.pid && isAlive(holder.pid)) throw new DataDirInUseError(dataDir, holder.pid);
    rmSync(path, { force: true });
  }
  throw new DataDirInUseError(dataDir, readJson<LockRecord>(path)?.pid ?? 0);
}

export interface DevServerInfo {
  url: string;
  pid: number;
  dataDir: string;
  startedAt: string;
}

export function writeDevServerInfo(dataDir: string, info: Omit<DevServerInfo, 'dataDir' | 'startedAt'>): void {
  const record: DevServerInfo = { ...info, dataDir, startedAt: new Date().toISOString() };
  writeFileSync(join(dataDir, DEV_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

export function removeDevServerInfo(dataDir: string): void {
  const current = readJson<DevServerInfo>(join(dataDir, DEV_FILE));
  if (current?.pid === process.pid) rmSync(join(dataDir, DEV_FILE), { force: true });
}

/** The running dev server of this data directory, if its process is still alive. */
export function readDevServerInfo(dataDir: string): DevServerInfo | undefined {
  const info = readJson<DevServerInfo>(join(dataDir, DEV_FILE));
  if (!info || typeof info.url !== 'string' || typeof info.pid !== 'number') return undefined;
  return isAlive(info.pid) ? info : undefined;
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
