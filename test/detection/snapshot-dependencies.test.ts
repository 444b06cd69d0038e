// DetectWork installs the snapshot's dependencies before detectors run the project's own tools:
// a planted repository whose tests import a local `file:` dependency (installed offline by the
// default `npm ci`), and one whose `setup` fails, which the tool-running detectors report while
// the others still run.
import { afterEach, describe, expect, it } from 'vitest';
import type { Project } from '../../lib/domain/project';
import { allFindings } from '../../lib/detection/findings';
import type { DetectionSummary } from '../../lib/detection/inputs';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime';
import type { TempRepo } from '../support/temp-repo';
import { createTempRepo } from '../support/temp-repo';
import { FAILING_TEST, PLANTED_WITH_DEPENDENCY } from './planted-repo';

let repo: TempRepo | undefined;
let local: LocalRuntime | undefined;

afterEach(async () => {
  await local?.stop();
  repo?.cleanup();
});

async function detectOnce(setup?: Project['setup']): Promise<{ summary: DetectionSummary; project: Project; local: LocalRuntime }> {
  repo = createTempRepo(PLANTED_WITH_DEPENDENCY);
  local = await startLocalRuntime({ config: { workspaceRoot: repo.scratch }, retryIntervalOverrides: {} });
  const project = await local.store.projects.create({
    name: 'Planted',
    repo: { path: repo.dir, defaultBranch: 'main' },
    autonomyLevel: 2,
    ...(setup ? { setup } : {}),
    detection: { detectors: ['failing-tests', 'todo'], maxGoalsPerDay: 1 },
  });
  const { executionId } = await local.runtime.ports.detection.startDetection({ projectId: project.id, trigger: 'manual' });
  const outcome = await local.detectionRunner.waitForExecution(executionId);
  if (outcome.status !== 'SUCCEEDED') throw new Error(`DetectWork ended ${outcome.status}: ${JSON.stringify(outcome)}`);
  return { summary: outcome.output as DetectionSummary, project, local };
}

describe('the detection snapshot gets the project dependencies', () => {
  it('installs them (npm ci from the lockfile) so the tests run and the failing one is named', async () => {
    const { summary, project, local } = await detectOnce();
    expect(summary.detectors).toContainEqual({ detector: 'failing-tests', ok: true, count: 1 });
    const [finding] = await allFindings(local.store, project.id);
    // Without node_modules the test file would not load and no test would be named.
    expect(finding?.title).toBe(`Failing test: ${FAILING_TEST}`);
  });

  it('reports a failed install for the detectors that run project tools, and runs the others', async () => {
    const { summary } = await detectOnce([['npm', 'run', 'no-such-script']]);
    const failing = summary.detectors.find((d) => d.detector === 'failing-tests');
    expect(failing).toMatchObject({ ok: false });
    expect(failing?.error).toMatch(/^Detection\.DependencySetupFailed: installing the dependencies failed: \["npm","run","no-such-script"\] exited with 1\./);
    expect(summary.detectors).toContainEqual({ detector: 'todo', ok: true, count: 0 });
  });
});
