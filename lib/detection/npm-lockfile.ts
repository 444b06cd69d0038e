// Reads what package-lock.json (lockfileVersion 2 and 3, npm 7 and later) says is installed:
// every package's name and version, and which of them the project depends on directly. The
// registry-based detectors work from it without installing anything.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { DetectorFailedError } from './types';

const LockedPackageSchema = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  /** A workspace or `file:` package: a link into the repository, not something a registry serves. */
  link: z.boolean().optional(),
  resolved: z.string().optional(),
  dev: z.boolean().optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  devDependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
});

const LockfileSchema = z.looseObject({
  lockfileVersion: z.union([z.literal(2), z.literal(3)], { message: 'only lockfileVersion 2 and 3 (npm 7 and later) are read; run npm install with a current npm to upgrade it' }),
  packages: z.record(z.string(), LockedPackageSchema),
});

export interface LockedPackage {
  name: string;
  version: string;
  /** The path in the lockfile, e.g. `node_modules/a/node_modules/b`. */
  path: string;
  dev: boolean;
}

export interface Lockfile {
  /** Packages installed from a registry (links and `file:`/git sources are left out). */
  packages: LockedPackage[];
  /** Direct dependencies (dependencies, devDependencies, optionalDependencies of the root) by name, with the range package.json asks for. */
  direct: Map<string, string>;
}

export const LOCKFILE = 'package-lock.json';

/** The name from a lockfile path: the part after its last `node_modules/` (scoped names keep their scope). */
function nameFromPath(path: string): string {
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Whether the version came from a registry: not a link, and resolved (if at all) to a tarball URL. */
function fromRegistry(entry: z.infer<typeof LockedPackageSchema>): boolean {
  if (entry.link) return false;
  return entry.resolved === undefined || /^https?:\/\//.test(entry.resolved);
}

export function parseLockfile(raw: unknown, detector: string): Lockfile {
  const parsed = LockfileSchema.safeParse(raw);
  if (!parsed.success) {
    const problem = parsed.error.issues[0];
    throw new DetectorFailedError(detector, `${LOCKFILE} cannot be read: ${problem?.path.join('.') || '(file)'}: ${problem?.message ?? 'unexpected shape'}`);
  }
  const packages: LockedPackage[] = [];
  for (const [path, entry] of Object.entries(parsed.data.packages)) {
    if (!path.includes('node_modules/') || !entry.version || !fromRegistry(entry)) continue;
    packages.push({ name: entry.name ?? nameFromPath(path), version: entry.version, path, dev: entry.dev ?? false });
  }
  const root = parsed.data.packages[''];
  const direct = new Map<string, string>(Object.entries({ ...root?.optionalDependencies, ...root?.devDependencies, ...root?.dependencies }));
  return { packages, direct };
}

/** The snapshot's lockfile, or undefined when it has none. */
export async function readLockfile(dir: string, detector: string): Promise<Lockfile | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, LOCKFILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DetectorFailedError(detector, `${LOCKFILE} is not valid JSON: ${(error as Error).message}`);
  }
  return parseLockfile(raw, detector);
}

/** The version installed at the top of node_modules for a direct dependency. */
export function installedVersion(lockfile: Lockfile, name: string): string | undefined {
  return lockfile.packages.find((entry) => entry.path === `node_modules/${name}`)?.version;
}
