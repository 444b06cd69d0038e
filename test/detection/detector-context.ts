// A detector's context for a temporary repository, with commands run by the local sandbox runner:
// the unit tests call one detector on a planted repository without the DetectWork state machine.
import { basename, dirname } from 'node:path';
import type { DetectorContext, NpmRegistryAccess } from '../../lib/detection/types';
import { UnavailableAlarmReader } from '../../lib/local/alarm-reader';
import { createRepositoryHost } from '../../lib/ports/repository/index';
import { SandboxCommandRunner } from '../../lib/workspace/index';
import { secretsWith, storedProject } from '../support/repository-fixtures';
import type { TempRepo } from '../support/temp-repo';

export function detectorContextFor(repo: TempRepo, options: { registry?: NpmRegistryAccess; now?: Date } = {}): DetectorContext {
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
    now: options.now ?? new Date(),
  };
}
