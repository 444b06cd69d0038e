// Vulnerable dependencies: the versions package-lock.json installs, sent to the registry's bulk
// advisory endpoint from this process (the sandbox is offline, so `npm audit` cannot run there),
// each advisory's `vulnerable_versions` matched against them here. One finding per vulnerable
// package, fingerprinted by the package and its advisory ids, so a new advisory for the same
// package is a new finding and a re-run with the same ones is the same finding.
import type { Severity } from '../../domain/finding';
import { logger } from '../../powertools';
import { readLockfile, type LockedPackage } from '../npm-lockfile';
import { npmRegistryFor, type Advisory } from '../npm-registry';
import { satisfies, UnsupportedRangeError } from '../semver-range';
import { type Detector, type DetectedFinding, excerpt, fingerprintOf } from '../types';

const SEVERITY: Record<Advisory['severity'], Severity> = {
  info: 'low',
  low: 'low',
  moderate: 'medium',
  high: 'high',
  critical: 'critical',
};
const SEVERITY_ORDER: readonly Advisory['severity'][] = ['info', 'low', 'moderate', 'high', 'critical'];

interface Match {
  advisory: Advisory;
  versions: string[];
  /** Set when the range could not be read: the advisory is reported, with less confidence. */
  unreadRange?: string;
}

/** The advisories whose ranges hold one of the installed versions. */
export function matchAdvisories(advisories: readonly Advisory[], installed: readonly string[]): Match[] {
  const matches: Match[] = [];
  for (const advisory of advisories) {
    try {
      const versions = installed.filter((version) => satisfies(version, advisory.vulnerable_versions));
      if (versions.length > 0) matches.push({ advisory, versions });
    } catch (error) {
      if (!(error instanceof UnsupportedRangeError)) throw error;
      matches.push({ advisory, versions: [...installed], unreadRange: error.message });
    }
  }
  return matches;
}

export function findingsFromAdvisories(advisories: ReadonlyMap<string, Advisory[]>, installed: ReadonlyMap<string, LockedPackage[]>, direct: ReadonlySet<string>): DetectedFinding[] {
  const findings: DetectedFinding[] = [];
  for (const [name, candidates] of [...advisories].sort(([a], [b]) => a.localeCompare(b))) {
    const packages = installed.get(name) ?? [];
    const matches = matchAdvisories(candidates, [...new Set(packages.map((entry) => entry.version))]);
    if (matches.length === 0) continue;
    const worst = matches.map((match) => match.advisory.severity).reduce((a, b) => (SEVERITY_ORDER.indexOf(b) > SEVERITY_ORDER.indexOf(a) ? b : a));
    const ids = matches.map((match) => String(match.advisory.id)).sort();
    const versions = [...new Set(matches.flatMap((match) => match.versions))].sort();
    const isDirect = direct.has(name);
    const onlyDev = packages.filter((entry) => versions.includes(entry.version)).every((entry) => entry.dev);
    const first = matches[0]!.advisory;
    findings.push({
      fingerprint: fingerprintOf('vulnerable-dependency', name, ...ids),
      title: `Vulnerable dependency ${name}@${versions.join(', ')} (${worst}): ${excerpt(first.title ?? `advisory ${first.id}`, 120)}`,
      detail: excerpt(
        [
          `${name} ${versions.join(', ')} installed (${isDirect ? 'a direct dependency' : 'an indirect dependency'}${onlyDev ? ', development only' : ''}), per package-lock.json.`,
          ...matches.map(
            ({ advisory, unreadRange }) =>
              `- ${advisory.severity}: ${advisory.title ?? advisory.id} (vulnerable: ${advisory.vulnerable_versions}) ${advisory.url ?? ''}`.trim() + (unreadRange ? `\n  range not evaluated: ${unreadRange}` : ''),
          ),
        ].join('\n'),
        3000,
      ),
      severity: SEVERITY[worst],
      effort: isDirect ? 'trivial' : 'small',
      confidence: matches.every((match) => match.unreadRange) ? 0.5 : isDirect ? 1 : 0.8,
      location: { file: 'package-lock.json' },
    });
  }
  return findings;
}

export const vulnerableDependenciesDetector: Detector = {
  name: 'vulnerable-dependency',
  async detect(context) {
    const lockfile = await readLockfile(context.dir, 'vulnerable-dependency');
    if (!lockfile) return { findings: [], skipped: 'no package-lock.json' };
    if (lockfile.packages.length === 0) return { findings: [] };
    const registry = npmRegistryFor('vulnerable-dependency', context.registry);
    const installed = new Map<string, LockedPackage[]>();
    for (const entry of lockfile.packages) installed.set(entry.name, [...(installed.get(entry.name) ?? []), entry]);
    const versions = new Map([...installed].map(([name, entries]) => [name, new Set(entries.map((entry) => entry.version))]));
    const advisories = await registry.bulkAdvisories(versions);
    logger.info('advisories fetched', { packages: versions.size, withAdvisories: advisories.size });
    return { findings: findingsFromAdvisories(advisories, installed, new Set(lockfile.direct.keys())) };
  },
};
