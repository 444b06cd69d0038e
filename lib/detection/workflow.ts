// The steps of the DetectWork state machine (statemachines/detect-work.asl.json): prepare a
// snapshot of the default branch, run one detector, merge, decide goals (goals.ts), record the
// run. Each is safe to repeat: Lambda and Step Functions retry.
import { relative, resolve, sep } from 'node:path';
import type { KnownDetector } from '../domain/finding';
import { ulidFor } from '../domain/ids';
import { detectionSettingsOf, type Project } from '../domain/project';
import { openProjectWorkspace } from '../pipeline/workspace';
import { DependencySetupFailedError, DependencySetupRunner, describeSetupFailure } from '../workspace/dependency-setup';
import { logger, metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { detectorFor } from './detectors/index';
import { recordProjectEvent } from './events';
import { allFindings } from './findings';
import type {
  CheckoutRef,
  DetectionSummary,
  DetectorResult,
  PrepareDetectionInput,
  PreparedRun,
  RecordDetectionInput,
  RunDetectorInput,
} from './inputs';
import { detectorResultKey, type StoredDetectorFindings } from './merge';
import { detectorModels } from './models';
import { DetectorFailedError, type NpmRegistryAccess } from './types';
import { CahootsError } from '../domain/errors';

export { decideGoals } from './goals';
export { mergeFindings } from './merge';

/** The name under which a run's snapshot lives in the project's workspace folder. */
const snapshotName = (runId: string) => `detection-${runId}`;

/** Detectors the project enables that can run for it: `alarm` needs alarm names. */
export function runnableDetectors(project: Project): KnownDetector[] {
  const settings = detectionSettingsOf(project);
  return settings.detectors.filter((name) => detectorFor(name) !== undefined && (name !== 'alarm' || settings.alarmNames.length > 0));
}

export class SnapshotOutsideWorkspaceError extends CahootsError {
  readonly code = 'SnapshotOutsideWorkspace';
  readonly stepFunctionsError = 'Detection.SnapshotOutsideWorkspace';
  readonly permanent = true;
}

export async function prepareDetection(runtime: Runtime, input: PrepareDetectionInput, now: Date = new Date()): Promise<PreparedRun> {
  const project = await runtime.store.projects.get(input.projectId);
  const runId = ulidFor(input.executionId, now.getTime());
  const workspace = await openProjectWorkspace(runtime, project, { id: snapshotName(runId) });
  const sha = await workspace.resolve(`refs/heads/${project.repo.defaultBranch}`);
  const { dir } = await workspace.createSnapshot(snapshotName(runId), sha);
  const root = resolve(runtime.ports.commands.workspaceRoot);
  const workingCopy = relative(root, dir);
  if (workingCopy === '' || workingCopy.startsWith('..') || resolve(root, workingCopy) !== dir) {
    throw new SnapshotOutsideWorkspaceError(`The snapshot ${dir} is not under the command runner's workspace root ${root}`);
  }
  const detectors = runnableDetectors(project);
  const checkout: CheckoutRef = { workingCopy: workingCopy.split(sep).join('/'), sha };
  if (detectors.some((name) => detectorFor(name)?.needsDependencies)) {
    const setupFailure = await installDependencies(runtime, project, checkout.workingCopy);
    if (setupFailure) checkout.setupFailure = setupFailure;
  }
  logger.info('detection prepared', { projectId: project.id, runId, sha, trigger: input.trigger, ...(checkout.setupFailure ? { setupFailure: checkout.setupFailure } : {}) });
  return { runId, startedAt: now.toISOString(), checkout, detectors };
}

/**
 * Installs the project's dependencies in the snapshot once, before the detectors run side by side
 * in it, the way an agent's working copy gets them (the project's `setup`, cached by lockfile).
 * A failed install is the run's evidence, not its end: returns why, for the detectors to report.
 */
async function installDependencies(runtime: Runtime, project: Project, workingCopy: string): Promise<string | undefined> {
  const runner = new DependencySetupRunner(runtime.ports.commands, { projectId: project.id, ...(project.setup ? { setup: project.setup } : {}) });
  try {
    await runner.prepare(workingCopy);
    return undefined;
  } catch (error) {
    if (!(error instanceof DependencySetupFailedError)) throw error;
    return describeSetupFailure(error.outcome);
  }
}

export async function runDetector(runtime: Runtime, input: RunDetectorInput, now: Date = new Date()): Promise<DetectorResult> {
  const detector = detectorFor(input.detector);
  if (!detector) return { detector: input.detector, ok: false, error: 'Detection.UnknownDetector', cause: `No detector named ${input.detector}` };
  const project = await runtime.store.projects.get(input.projectId);
  const dir = resolve(runtime.ports.commands.workspaceRoot, input.checkout.workingCopy);
  if (detector.needsDependencies && input.checkout.setupFailure) {
    return { detector: detector.name, ok: false, error: 'Detection.DependencySetupFailed', cause: input.checkout.setupFailure };
  }
  try {
    const outcome = await detector.detect({
      project,
      commands: runtime.ports.commands,
      workingCopy: input.checkout.workingCopy,
      dir,
      repositories: runtime.ports.repositories,
      alarms: runtime.ports.alarms,
      registry: npmRegistryAccess(runtime),
      models: detectorModels(runtime, project),
      earlierFindings: async () => (await allFindings(runtime.store, project.id, { detector: detector.name })).filter((f) => f.status !== 'resolved'),
      now,
    });
    const stored: StoredDetectorFindings = { detector: detector.name, findings: outcome.findings };
    const resultKey = detectorResultKey(project.id, input.runId, detector.name);
    await runtime.ports.artifacts.put(resultKey, JSON.stringify(stored), 'application/json');
    metrics.addMetric('FindingsDetected', 'Count', outcome.findings.length);
    return {
      detector: detector.name,
      ok: true,
      count: outcome.findings.length,
      resultKey,
      ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
      ...(outcome.dropped !== undefined ? { dropped: outcome.dropped } : {}),
      ...(outcome.costUsd !== undefined ? { costUsd: outcome.costUsd } : {}),
    };
  } catch (error) {
    // A detector that cannot run says so in the run's result; the run goes on with the others.
    if (!(error instanceof DetectorFailedError)) throw error;
    logger.warn('detector failed', { detector: detector.name, error });
    return { detector: detector.name, ok: false, error: error.stepFunctionsError, cause: error.message.slice(0, 4000) };
  }
}

/** The registry the dependency detectors ask, unless the cell has no way out to it. */
function npmRegistryAccess(runtime: Runtime): NpmRegistryAccess {
  if (runtime.config.egress === 'none') {
    return {
      unavailable:
        'this cell is deployed with egress "none": the npm registry cannot be reached, and the cell\'s CodeArtifact repository offers neither security advisories nor a way out to npmjs; deploy with egress "nat" for the dependency detectors',
    };
  }
  return { url: runtime.config.npmRegistry };
}

/** Records the run (Detection.Completed or Detection.Failed) and removes its snapshot. */
export async function recordDetection(runtime: Runtime, input: RecordDetectionInput): Promise<DetectionSummary> {
  const run = input.run ?? input.state?.run;
  const failed = input.error !== undefined;
  const summary: DetectionSummary = {
    projectId: input.projectId,
    ...(run ? { runId: run.runId } : {}),
    trigger: input.trigger,
    outcome: failed ? 'failed' : 'completed',
    ...(input.merged ? { merged: input.merged } : {}),
    ...(input.goals ? { goals: input.goals } : {}),
    detectors: (input.results ?? []).map((result) => {
      if (!result.ok) return { detector: result.detector, ok: false, error: `${result.error}: ${result.cause ?? ''}`.slice(0, 1000) };
      // What the detector reported, without where its findings were stored.
      const { resultKey: _resultKey, ...reported } = result;
      return reported;
    }),
    ...(input.error ? { error: `${input.error.Error}: ${input.error.Cause ?? ''}`.slice(0, 2000) } : {}),
  };
  const project = await runtime.store.projects.find(input.projectId);
  if (run && project) {
    const workspace = await openProjectWorkspace(runtime, project, { id: snapshotName(run.runId) });
    await workspace.removeSnapshot(snapshotName(run.runId));
  }
  if (project) {
    await recordProjectEvent(runtime, {
      projectId: input.projectId,
      type: failed ? 'Detection.Failed' : 'Detection.Completed',
      idempotencyKey: `detection:${run?.runId ?? input.error?.Cause ?? 'unknown'}:${summary.outcome}`,
      correlationId: run?.runId ?? input.projectId,
      // Counts rather than every fingerprint: an event holds at most 64 KB.
      data: {
        ...summary,
        ...(input.merged
          ? { merged: { ...input.merged, created: input.merged.created.length, resolved: input.merged.resolved.length, reopened: input.merged.reopened.length } }
          : {}),
      },
    });
  }
  metrics.addMetric(failed ? 'DetectionFailed' : 'DetectionCompleted', 'Count', 1);
  return summary;
}
