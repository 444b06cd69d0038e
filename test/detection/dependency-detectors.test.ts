// The registry-based detectors on a planted lockfile, against a loopback fake of the npm
// registry (never the network): vulnerable-dependency posts the installed versions to the bulk
// advisory endpoint and matches the answer's ranges itself; outdated-dependency compares direct
// dependencies with `dist-tags.latest`. A registry that fails or cannot be asked fails the detector.
import { afterEach, describe, expect, it } from 'vitest';
import { outdatedDependenciesDetector, majorGap, effortForMajorGap } from '../../lib/detection/detectors/outdated-dependencies';
import { vulnerableDependenciesDetector } from '../../lib/detection/detectors/vulnerable-dependencies';
import { DetectorFailedError } from '../../lib/detection/types';
import { startFakeNpmRegistry, type FakeNpmRegistry, type RecordedAdvisory } from '../support/fake-npm-registry';
import { createTempRepo, type TempRepo } from '../support/temp-repo';
import { detectorContextFor } from './detector-context';

const tarball = (name: string, version: string) => `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`;
const locked = (name: string, version: string, extra: Record<string, unknown> = {}) => ({ version, resolved: tarball(name, version), integrity: 'sha512-AAAA', ...extra });

const LOCKFILE = {
  name: 'shop',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': {
      name: 'shop',
      version: '1.0.0',
      dependencies: { lodash: '^4.17.0', 'left-pad': '^1.3.0', mkdirp: '^0.5.1', 'planted-helper': 'file:vendor/planted-helper', '@acme/private': '^1.0.0' },
      devDependencies: { chalk: '^2.4.2' },
    },
    'node_modules/lodash': locked('lodash', '4.17.15'),
    'node_modules/left-pad': locked('left-pad', '1.3.0'),
    'node_modules/mkdirp': locked('mkdirp', '0.5.1', { dependencies: { minimist: '0.0.8' } }),
    'node_modules/mkdirp/node_modules/minimist': locked('minimist', '1.2.0'),
    'node_modules/minimist': locked('minimist', '1.2.8'),
    'node_modules/chalk': locked('chalk', '2.4.2', { dev: true }),
    'node_modules/@acme/private': locked('@acme/private', '1.0.0'),
    'node_modules/planted-helper': { resolved: 'vendor/planted-helper', link: true },
    'vendor/planted-helper': { version: '1.0.0' },
  },
};

/** Advisories in the shape the bulk endpoint answers (recorded from registry.npmjs.org answers). */
const ADVISORIES: Record<string, RecordedAdvisory[]> = {
  lodash: [
    { id: 1523, url: 'https://github.com/advisories/GHSA-p6mc-m468-83gw', title: 'Prototype Pollution in lodash', severity: 'high', vulnerable_versions: '<4.17.19', cwe: ['CWE-770'], cvss: { score: 7.4, vectorString: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H' } },
    { id: 1065, url: 'https://github.com/advisories/GHSA-jf85-cpcp-j695', title: 'Prototype Pollution in lodash', severity: 'critical', vulnerable_versions: '<4.17.12', cwe: ['CWE-20'], cvss: { score: 9.1, vectorString: null } },
  ],
  minimist: [
    { id: 1179, url: 'https://github.com/advisories/GHSA-vh95-rmgr-6w4m', title: 'Prototype Pollution in minimist', severity: 'moderate', vulnerable_versions: '<0.2.1 || >=1.0.0 <1.2.3', cwe: ['CWE-1321'], cvss: { score: 5.6, vectorString: null } },
  ],
};

let repo: TempRepo | undefined;
let registry: FakeNpmRegistry | undefined;

afterEach(async () => {
  await registry?.close();
  repo?.cleanup();
  [registry, repo] = [undefined, undefined];
});

function plantLockfile(lockfile: unknown = LOCKFILE): TempRepo {
  repo = createTempRepo({ 'package.json': JSON.stringify({ name: 'shop', version: '1.0.0' }), 'package-lock.json': JSON.stringify(lockfile, null, 2) });
  return repo;
}

describe('vulnerable-dependency', () => {
  it('asks the registry for every installed registry version and reports the packages whose advisories match', async () => {
    registry = await startFakeNpmRegistry({ advisories: ADVISORIES });
    const context = detectorContextFor(plantLockfile(), { registry: { url: registry.url } });
    const { findings } = await vulnerableDependenciesDetector.detect(context);

    expect(registry.bulkRequests).toHaveLength(1);
    expect(registry.bulkRequests[0]).toEqual({
      '@acme/private': ['1.0.0'],
      chalk: ['2.4.2'],
      'left-pad': ['1.3.0'],
      lodash: ['4.17.15'],
      minimist: ['1.2.0', '1.2.8'],
      mkdirp: ['0.5.1'],
    });
    expect(findings.map((f) => [f.title, f.severity, f.confidence])).toEqual([
      // Only the advisory whose range holds 4.17.15; the <4.17.12 one does not apply.
      ['Vulnerable dependency lodash@4.17.15 (high): Prototype Pollution in lodash', 'high', 1],
      // The nested 1.2.0 is vulnerable, the top-level 1.2.8 is not; minimist is indirect.
      ['Vulnerable dependency minimist@1.2.0 (moderate): Prototype Pollution in minimist', 'medium', 0.8],
    ]);
    expect(findings[0]!.detail).toContain('GHSA-p6mc-m468-83gw');
    expect(findings[0]!.detail).not.toContain('GHSA-jf85-cpcp-j695');

    // The same advisories give the same fingerprints; a new advisory for the package is a new finding.
    const again = await vulnerableDependenciesDetector.detect(context);
    expect(again.findings.map((f) => f.fingerprint)).toEqual(findings.map((f) => f.fingerprint));
    await registry.close();
    registry = await startFakeNpmRegistry({
      advisories: { ...ADVISORIES, lodash: [...ADVISORIES.lodash!, { id: 1673, url: 'https://github.com/advisories/GHSA-35jh-r3h4-6jhm', title: 'Command Injection in lodash', severity: 'high', vulnerable_versions: '<4.17.21' }] },
    });
    const newer = await vulnerableDependenciesDetector.detect({ ...context, registry: { url: registry.url } });
    expect(newer.findings[0]!.fingerprint).not.toBe(findings[0]!.fingerprint);
    expect(newer.findings[1]!.fingerprint).toBe(findings[1]!.fingerprint);
  });

  it('is skipped without a lockfile and fails with the reason when the registry cannot be asked', async () => {
    repo = createTempRepo({ 'package.json': '{"name":"x","version":"1.0.0"}' });
    expect(await vulnerableDependenciesDetector.detect(detectorContextFor(repo))).toEqual({ findings: [], skipped: 'no package-lock.json' });
    repo.cleanup();

    const context = detectorContextFor(plantLockfile(), { registry: { unavailable: 'this cell is deployed with egress "none"' } });
    await expect(vulnerableDependenciesDetector.detect(context)).rejects.toThrow(new DetectorFailedError('vulnerable-dependency', 'this cell is deployed with egress "none"'));

    registry = await startFakeNpmRegistry({ failWith: 503 });
    await expect(vulnerableDependenciesDetector.detect({ ...context, registry: { url: registry.url } })).rejects.toThrow(
      /vulnerable-dependency: POST \/-\/npm\/v1\/security\/advisories\/bulk answered 503: registry unavailable/,
    );
  });

  it('refuses a lockfile from npm 6 with a message that says so', async () => {
    const context = detectorContextFor(plantLockfile({ name: 'old', lockfileVersion: 1, dependencies: {} }), { registry: { url: 'http://127.0.0.1:9/' } });
    await expect(vulnerableDependenciesDetector.detect(context)).rejects.toThrow(/package-lock.json cannot be read: lockfileVersion: only lockfileVersion 2 and 3/);
  });
});

describe('outdated-dependency', () => {
  it('reports direct dependencies whole major versions behind the registry latest, one finding each', async () => {
    registry = await startFakeNpmRegistry({ latest: { lodash: '4.17.21', 'left-pad': '3.0.0', chalk: '5.3.0', mkdirp: '3.0.1', minimist: '1.2.8' } });
    const { findings } = await outdatedDependenciesDetector.detect(detectorContextFor(plantLockfile(), { registry: { url: registry.url } }));
    expect(findings.map((f) => [f.title, f.severity, f.effort])).toEqual([
      ['Outdated dependency chalk: 2.4.2 is 3 major versions behind 5.3.0', 'low', 'medium'],
      ['Outdated dependency left-pad: 1.3.0 is 2 major versions behind 3.0.0', 'low', 'medium'],
      // 0.x: every minor is breaking, 0.5 → 3.0 counts the majors.
      ['Outdated dependency mkdirp: 0.5.1 is 3 major versions behind 3.0.1', 'low', 'medium'],
    ]);
    // Only direct registry dependencies are asked (not the link, not the indirect minimist), as abbreviated metadata.
    expect(registry.metadataRequests.map((r) => r.name).sort()).toEqual(['@acme/private', 'chalk', 'left-pad', 'lodash', 'mkdirp']);
    expect(new Set(registry.metadataRequests.map((r) => r.accept))).toEqual(new Set(['application/vnd.npm.install-v1+json']));
  });

  it('counts major gaps, and minors below 1.0.0', () => {
    expect(majorGap('1.2.3', '1.9.0')).toBe(0);
    expect(majorGap('1.2.3', '4.0.0')).toBe(3);
    expect(majorGap('0.3.1', '0.7.0')).toBe(4);
    expect(majorGap('2.0.0', '1.0.0')).toBe(0);
    expect(majorGap('1.0.0', '2.0.0-beta.1')).toBeUndefined();
    expect([1, 2, 3, 4, 9].map(effortForMajorGap)).toEqual(['small', 'medium', 'medium', 'large', 'large']);
  });
});
