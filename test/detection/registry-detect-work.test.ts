// The registry-based detectors inside DetectWork on the local runtime: the registry comes from the
// runtime config (CAHOOTS_NPM_REGISTRY, here a loopback fake), and a cell without egress reports
// them as failed with the reason instead of trying.
import { afterEach, describe, expect, it } from 'vitest';
import type { DetectionSummary } from '../../lib/detection/inputs';
import { allFindings } from '../../lib/detection/findings';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime';
import type { RuntimeConfigInput } from '../../lib/runtime';
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../support/fake-npm-registry';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

const LOCKFILE = {
  name: 'shop',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'shop', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } },
    'node_modules/left-pad': { version: '1.3.0', resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz', integrity: 'sha512-AAAA' },
  },
};

let repo: TempRepo | undefined;
let local: LocalRuntime | undefined;
let registry: FakeNpmRegistry | undefined;

afterEach(async () => {
  await local?.stop();
  await registry?.close();
  repo?.cleanup();
  [local, registry, repo] = [undefined, undefined, undefined];
});

async function detect(config: Omit<RuntimeConfigInput, 'queueUrls' | 'workspaceRoot'>): Promise<DetectionSummary> {
  repo = createTempRepo({ 'package.json': JSON.stringify({ name: 'shop', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } }), 'package-lock.json': JSON.stringify(LOCKFILE) });
  local = await startLocalRuntime({ config: { ...config, workspaceRoot: repo.scratch }, retryIntervalOverrides: {} });
  const project = await local.store.projects.create({
    name: 'Shop',
    repo: { path: repo.dir, defaultBranch: 'main' },
    autonomyLevel: 2,
    // No setup: these detectors read the lockfile, they need nothing installed.
    setup: [],
    detection: { detectors: ['vulnerable-dependency', 'outdated-dependency'], maxGoalsPerDay: 1 },
  });
  const { executionId } = await local.runtime.ports.detection.startDetection({ projectId: project.id, trigger: 'manual' });
  const outcome = await local.detectionRunner.waitForExecution(executionId);
  if (outcome.status !== 'SUCCEEDED') throw new Error(`DetectWork ended ${outcome.status}: ${JSON.stringify(outcome)}`);
  return outcome.output as DetectionSummary;
}

describe('registry detectors in DetectWork', () => {
  it('ask the registry the runtime config names', async () => {
    registry = await startFakeNpmRegistry({
      advisories: { 'left-pad': [{ id: 9001, url: 'https://github.com/advisories/GHSA-xxxx-yyyy-zzzz', title: 'Padding overflow in left-pad', severity: 'low', vulnerable_versions: '<1.3.1' }] },
      latest: { 'left-pad': '3.0.0' },
    });
    const summary = await detect({ npmRegistry: registry.url });
    expect(summary.detectors).toEqual(
      expect.arrayContaining([
        { detector: 'vulnerable-dependency', ok: true, count: 1 },
        { detector: 'outdated-dependency', ok: true, count: 1 },
      ]),
    );
    const titles = (await allFindings(local!.store, summary.projectId)).map((f) => f.title).sort();
    expect(titles).toEqual(['Outdated dependency left-pad: 1.3.0 is 2 major versions behind 3.0.0', 'Vulnerable dependency left-pad@1.3.0 (low): Padding overflow in left-pad']);
  });

  it('report themselves failed, with the reason, in a cell without egress', async () => {
    const summary = await detect({ egress: 'none', npmRegistry: 'http://127.0.0.1:9/' });
    for (const detector of ['vulnerable-dependency', 'outdated-dependency']) {
      const result = summary.detectors.find((d) => d.detector === detector);
      expect(result).toMatchObject({ ok: false });
      expect(result?.error).toMatch(/^Detection\.DetectorFailed: .*egress "none".*deploy with egress "nat"/);
    }
  });
});
