// A detector's context for a temporary repository, with commands run by the local sandbox runner:
// the unit tests call one detector on a planted repository without the DetectWork state machine.
import { basename, dirname } from 'node:path';
import type { DetectorContext, DetectorModels, NpmRegistryAccess } from '../../lib/detection/types';
import { UnavailableAlarmReader } from '../../lib/local/alarm-reader';
import { createRepositoryHost } from '../../lib/ports/repository/index';
import { SandboxCommandRunner } from '../../lib/workspace/index';
import { secretsWith, storedProject } from '../support/repository-fixtures';
import type { TempRepo } from '../support/temp-repo';

/** Detectors other than the analyst use no model; a call would be a bug, so these throw. */
export const NO_MODELS: DetectorModels = {
  policyFor: () => {
    throw new Error('this detector uses no model');
  },
  gateway: () => {
    throw new Error('this detector uses no model');
  },
  projectBudgets: () => Promise.reject(new Error('this detector uses no model')),
};

export function detectorContextFor(repo: TempRepo, options: { registry?: NpmRegistryAccess; models?: DetectorModels; now?: Date } = {}): DetectorContext {
  return {
    project: storedProject('prj_01HZZZZZZZZZZZZZZZZZZZZZZZ', { path: repo.dir, defaultBranch: 'main' }),
    commands: new SandboxCommandRunner(dirname(repo.dir)),
    workingCopy: basename(repo.dir),
    dir: repo.dir,
    // The repository's own files are what these detectors read; no credentials, no alarms.
    repositories: createRepositoryHost({ secrets: secretsWith({}), workspaceRoot: dirname(repo.dir) }),
    alarms: new UnavailableAlarmReader(),
    // Detectors that must not ask a registry fail loudly if they try.
    registry: options.registry ?? { unavailable: 'no registry in this test' },
    models: options.models ?? NO_MODELS,
    earlierFindings: async () => [],
    now: options.now ?? new Date(),
  };
}
