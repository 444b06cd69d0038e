// Outdated dependencies: each direct dependency's installed version (package-lock.json) against
// the registry's `latest` dist-tag, asked from this process. Only whole major versions behind
// count: minor and patch releases are routine upkeep, a major gap is work worth a goal. One
// finding per package, fingerprinted by the package and the latest major, so a new major release
// is a new finding.
import type { Effort } from '../../domain/finding';
import { installedVersion, readLockfile } from '../npm-lockfile';
import { npmRegistryFor } from '../npm-registry';
import { parseVersion } from '../semver-range';
import { type Detector, type DetectedFinding, fingerprintOf } from '../types';

/** Direct dependencies asked about per run, and at once. */
const MAX_PACKAGES = 200;
const CONCURRENCY = 8;

/** How much work catching up is likely to be: one major is a changelog, several are a migration. */
export function effortForMajorGap(gap: number): Effort {
  if (gap <= 1) return 'small';
  if (gap <= 3) return 'medium';
  return 'large';
}

export interface OutdatedPackage {
  name: string;
  installed: string;
  latest: string;
  gap: number;
}

/** Whole major versions `installed` is behind `latest`, or undefined when either is not an exact release version. */
export function majorGap(installed: string, latest: string): number | undefined {
  const have = parseVersion(installed);
  const want = parseVersion(latest);
  if (!have || !want || want.prerelease.length > 0) return undefined;
  // Before 1.0.0 every minor is a breaking release (semver's rule), so 0.x counts minors.
  if (have.major === 0 && want.major === 0) return Math.max(0, want.minor - have.minor);
  return Math.max(0, want.major - have.major);
}

export function findingFor(outdated: OutdatedPackage): DetectedFinding {
  const latestMajor = parseVersion(outdated.latest)!;
  return {
    fingerprint: fingerprintOf('outdated-dependency', outdated.name, latestMajor.major === 0 ? `0.${latestMajor.minor}` : String(latestMajor.major)),
    title: `Outdated dependency ${outdated.name}: ${outdated.installed} is ${outdated.gap} major version${outdated.gap === 1 ? '' : 's'} behind ${outdated.latest}`,
    detail: `package-lock.json installs ${outdated.name}@${outdated.installed}; the registry's latest is ${outdated.latest}. Upgrading across ${outdated.gap} major version(s) means reading the release notes for breaking changes.`,
    severity: 'low',
    effort: effortForMajorGap(outdated.gap),
    confidence: 0.7,
    location: { file: 'package.json' },
  };
}

export const outdatedDependenciesDetector: Detector = {
  name: 'outdated-dependency',
  async detect(context) {
    const lockfile = await readLockfile(context.dir, 'outdated-dependency');
    if (!lockfile) return { findings: [], skipped: 'no package-lock.json' };
    const registry = npmRegistryFor('outdated-dependency', context.registry);
    const candidates = [...lockfile.direct.keys()]
      .sort()
      .map((name) => ({ name, installed: installedVersion(lockfile, name) }))
      // Links, `file:` and git dependencies have no registry version to compare with.
      .filter((entry): entry is { name: string; installed: string } => entry.installed !== undefined)
      .slice(0, MAX_PACKAGES);
    const outdated: OutdatedPackage[] = [];
    for (let start = 0; start < candidates.length; start += CONCURRENCY) {
      const batch = candidates.slice(start, start + CONCURRENCY);
      const latest = await Promise.all(batch.map((entry) => registry.latestVersion(entry.name)));
      batch.forEach((entry, index) => {
        const newest = latest[index];
        const gap = newest === undefined ? undefined : majorGap(entry.installed, newest);
        if (newest !== undefined && gap !== undefined && gap > 0) outdated.push({ ...entry, latest: newest, gap });
      });
    }
    return { findings: outdated.map(findingFor) };
  },
};
