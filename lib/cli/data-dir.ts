// The local data directory (`.cahoots/` by default): dynalite's database and the artifacts live
// there. Only one process may open the database, so whoever opens it holds `cahoots.lock`, and a
// running `cahoots dev` also leaves `dev.json` with its URL for other commands to talk to it.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataDirInUseError } from './errors';

export const DEFAULT_DATA_DIR = '.cahoots';
const LOCK_FILE = 'cahoots.lock';
const DEV_FILE = 'dev.json';

export function resolveDataDir(flag: string | undefined, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? DEFAULT_DATA_DIR);
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
  release(): void;
}

/**
 * Takes the data directory for this process. A lock left by a process that is gone (killed,
 * crashed) is taken over; one held by a live process is a DataDirInUseError.
 */
export function lockDataDir(dataDir: string, command: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const record: LockRecord = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(record)}\n`, { flag: 'wx' });
      return {
        release() {
          const current = readJson<LockRecord>(path);
          if (current?.pid === process.pid) rmSync(path, { force: true });
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
