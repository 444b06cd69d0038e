// What the API handlers need from outside themselves — the store, the two pipeline ports, the
// repository host and secrets (projects, the GitHub webhook) — taken from the process runtime (lib/runtime.ts), so the API, the pipeline and the local runtime
// share one seam. Tests may inject their own with setApiDependencies.
import type { ProjectDefaults } from '../domain/settings';
import type { DetectionScheduler, DetectionStarter, PipelineStarter, Secrets, TaskCallbacks } from '../ports/index';
import type { RepositoryHost } from '../ports/repository-host';
import { getRuntime, setRuntime, type Runtime, type RuntimeConfig } from '../runtime';
import type { Store } from '../store/index';

export interface ApiDependencies {
  store: Store;
  /** Starts and stops goal pipelines (Step Functions in AWS, the local runner locally). */
  pipeline: PipelineStarter;
  /** Starts work detection runs; absent where none can run (POST /projects/{id}/detections answers 503). */
  detection?: DetectionStarter;
  /** Answers the task token a goal's approval step waits on. */
  callbacks: TaskCallbacks;
  /** Time source for API-side timestamps (decisions, default cost ranges). Defaults to the wall clock. */
  clock?: () => Date;
  /** Checks repositories of new projects, comments on issues, asks who may write (webhook). */
  repositories?: RepositoryHost;
  /** The webhook secret. */
  secrets?: Secrets;
  /** Where the API runs: a cell refuses `repo.path` and hosts its egress cannot reach. Local when absent. */
  deployment?: Pick<RuntimeConfig, 'deployment' | 'egress'>;
  /** The deployment's settings for new projects (the customer file's `projectDefaults`); none locally. */
  projectDefaults?: ProjectDefaults;
  /** Projects' work-detection schedules, kept in step with their settings (EventBridge Scheduler, local timers). */
  schedules?: DetectionScheduler;
}

let injected: ApiDependencies | undefined;
let derived: { runtime: Runtime; dependencies: ApiDependencies } | undefined;

/** Makes every API handler in this process use `dependencies` (tests). */
export function setApiDependencies(dependencies: ApiDependencies): void {
  injected = dependencies;
}

/** Forgets injected dependencies and the process runtime, so the next request builds them again. */
export function resetApiDependencies(): void {
  injected = undefined;
  derived = undefined;
  setRuntime(undefined);
}

/**
 * The injected dependencies, or the ones of the process runtime (lib/runtime.ts): in Lambda built
 * on first use from the environment, in the local runtime the one it installed.
 */
export async function apiDependencies(): Promise<ApiDependencies> {
  if (injected) return injected;
  const runtime = await getRuntime();
  if (derived?.runtime !== runtime) {
    derived = {
      runtime,
      dependencies: {
        store: runtime.store,
        pipeline: runtime.ports.pipeline,
        detection: runtime.ports.detection,
        callbacks: runtime.ports.callbacks,
        repositories: runtime.ports.repositories,
        secrets: runtime.ports.secrets,
        schedules: runtime.ports.schedules,
        deployment: { deployment: runtime.config.deployment, egress: runtime.config.egress },
        ...(runtime.config.projectDefaults ? { projectDefaults: runtime.config.projectDefaults } : {}),
      },
    };
  }
  return derived.dependencies;
}

export function nowFrom(dependencies: ApiDependencies): Date {
  return dependencies.clock ? dependencies.clock() : dependencies.store.config.clock ? dependencies.store.config.clock() : new Date();
}
