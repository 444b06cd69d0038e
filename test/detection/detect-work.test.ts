// DetectWork end to end on the local runtime: the real state machine definition, the real step
// handlers, a planted sample repository, dynalite. Findings are filed once across runs, a fixed
// problem is resolved on the next run, and the autonomy level decides what becomes a goal.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../lib/domain/finding';
import type { Project } from '../../lib/domain/project';
import { allFindings } from '../../lib/detection/findings';
import type { DetectionSummary } from '../../lib/detection/inputs';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime';
import { projectStream } from '../../lib/store/index';
import type { TempRepo } from '../support/temp-repo';
import { commitChange, createPlantedRepo, FAILING_TEST, PLANTED_FILES } from './planted-repo';

let repo: TempRepo;
let local: LocalRuntime;

beforeEach(async () => {
  repo = createPlantedRepo();
  local = await startLocalRuntime({ config: { workspaceRoot: repo.scratch }, retryIntervalOverrides: {} });
});

afterEach(async () => {
  await local.stop();
  repo.cleanup();
});

async function createProject(settings: Partial<Pick<Project, 'autonomyLevel'>> & { maxGoalsPerDay?: number } = {}): Promise<Project> {
  return local.store.projects.create({
    name: 'Planted',
    repo: { path: repo.dir, defaultBranch: 'main' },
    autonomyLevel: settings.autonomyLevel ?? 2,
    detection: { detectors: ['failing-tests', 'todo', 'type-errors'], maxGoalsPerDay: settings.maxGoalsPerDay ?? 1 },
  });
}

async function detect(project: Project): Promise<DetectionSummary> {
  const { executionId } = await local.runtime.ports.detection.startDetection({ projectId: project.id, trigger: 'manual' });
  const outcome = await local.detectionRunner.waitForExecution(executionId);
  if (outcome.status !== 'SUCCEEDED') throw new Error(`DetectWork ended ${outcome.status}: ${JSON.stringify(outcome)}`);
  return outcome.output as DetectionSummary;
}

const byDetector = (findings: Finding[], detector: string) => findings.filter((f) => f.detector === detector);

describe('DetectWork on the local runtime', () => {
  it('files each problem once, keeps fingerprints across runs, and resolves what was fixed', async () => {
    const project = await createProject();
    const first = await detect(project);
    expect(first.outcome).toBe('completed');
    expect(first.detectors).toEqual(
      expect.arrayContaining([
        { detector: 'failing-tests', ok: true, count: 1 },
        { detector: 'todo', ok: true, count: 2 },
        { detector: 'type-errors', ok: true, count: 0, skipped: 'no tsconfig.json' },
      ]),
    );
    const filed = await allFindings(local.store, project.id);
    expect(filed).toHaveLength(3);
    const failing = byDetector(filed, 'failing-tests')[0]!;
    expect(failing).toMatchObject({ status: 'open', severity: 'high', seenCount: 1 });
    expect(failing.title).toContain(FAILING_TEST);
    expect(failing.detail).toContain('3');
    expect(byDetector(filed, 'todo').map((f) => f.location.file)).toEqual(['src/math.js', 'src/math.js']);

    // Unrelated lines above the debt move it down; it is still the same finding.
    commitChange(repo, { 'src/math.js': `// Arithmetic helpers.\n\n${PLANTED_FILES['src/math.js']}` }, 'Add a header');
    const second = await detect(project);
    expect(second.merged).toMatchObject({ created: [], resolved: [], detected: 3 });
    const again = await allFindings(local.store, project.id);
    expect(again.map((f) => f.fingerprint).sort()).toEqual(filed.map((f) => f.fingerprint).sort());
    expect(again.every((f) => f.seenCount === 2)).toBe(true);
    expect(byDetector(again, 'todo').map((f) => f.location.line).sort()).toEqual([4, 9]);

    // Fix the test and one debt comment; dismiss the other, which then stays dismissed.
    const fixme = byDetector(again, 'todo').find((f) => f.title.startsWith('FIXME'))!;
    const todo = byDetector(again, 'todo').find((f) => f.title.startsWith('TODO'))!;
    await local.store.findings.setStatus(project.id, todo.fingerprint, 'dismissed');
    commitChange(
      repo,
      {
        'src/math.js': PLANTED_FILES['src/math.js']!.replace('  // FIXME handle division by zero\n', ''),
        'test/math.test.js': PLANTED_FILES['test/math.test.js']!.replace('divide(7, 2), 3', 'divide(7, 2), 3.5'),
      },
      'Fix the quotient test',
    );
    const third = await detect(project);
    expect(new Set(third.merged?.resolved)).toEqual(new Set([failing.fingerprint, fixme.fingerprint]));
    const after = await allFindings(local.store, project.id);
    expect(after.find((f) => f.fingerprint === failing.fingerprint)).toMatchObject({ status: 'resolved', resolvedAt: expect.any(String) });
    expect(after.find((f) => f.fingerprint === todo.fingerprint)?.status).toBe('dismissed');

    // The problem comes back: the same finding reopens.
    commitChange(repo, { 'test/math.test.js': PLANTED_FILES['test/math.test.js']! }, 'Break the test again');
    const fourth = await detect(project);
    expect(fourth.merged?.reopened).toEqual([failing.fingerprint]);

    const events = await local.store.events.readEvents(projectStream(project.id), 0, 100);
    const types = events.events.map((e) => e.type);
    expect(types.filter((t) => t === 'Detection.Completed')).toHaveLength(4);
    expect(types.filter((t) => t === 'Finding.Detected')).toHaveLength(3);
    expect(types).toContain('Finding.Resolved');
    expect(types).toContain('Finding.Reopened');
  });

  it('at level 4 starts a goal for the top finding and no more than the daily limit', async () => {
    const project = await createProject({ autonomyLevel: 4, maxGoalsPerDay: 1 });
    const first = await detect(project);
    expect(first.goals).toMatchObject({ mode: 'start', goals: [expect.objectContaining({ fingerprint: expect.stringMatching(/^failing-tests:/) })] });
    const goalId = first.goals!.goals[0]!.goalId;
    const goal = await local.store.goals.get(goalId);
    expect(goal).toMatchObject({ source: 'detection', sourceRef: first.goals!.goals[0]!.fingerprint, priority: 'HIGH', executionId: expect.any(String) });
    expect(goal.autonomyOverride).toBeUndefined();
    const finding = await local.store.findings.get(project.id, goal.sourceRef!);
    expect(finding.goalId).toBe(goalId);

    const second = await detect(project);
    expect(second.goals).toMatchObject({ mode: 'start', goals: [], limitedBy: 'daily-limit' });
    const goals = await local.store.goals.listByProject(project.id);
    expect(goals.items.filter((g) => g.source === 'detection')).toHaveLength(1);
  });

  it('at level 3 proposes the top finding as a goal whose plan waits for approval; at level 2 only reports', async () => {
    const proposing = await createProject({ autonomyLevel: 3, maxGoalsPerDay: 1 });
    const proposed = await detect(proposing);
    expect(proposed.goals?.mode).toBe('propose');
    const goal = await local.store.goals.get(proposed.goals!.goals[0]!.goalId);
    // Level 2 asks a person to approve the plan before any code is written.
    expect(goal.autonomyOverride).toBe(2);

    const reporting = await createProject({ autonomyLevel: 2 });
    const reported = await detect(reporting);
    expect(reported.goals).toEqual({ autonomyLevel: 2, mode: 'report', goals: [] });
    expect((await local.store.goals.listByProject(reporting.id)).items).toHaveLength(0);
  });
});
