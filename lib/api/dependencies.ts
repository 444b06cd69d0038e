// What the API handlers need from outside themselves — the store and the two pipeline ports —
// assembled once per process. In Lambda the default is built lazily from the environment (the
// table named by TABLE_NAME and the AWS adapters); the local runtime and tests inject their own
// with setApiDependencies before the first request.
import type { PipelineStarter, TaskCallbacks } from '../ports/index';
import type { Store } from '../store/index';

export interface ApiDependencies {
  store: Store;
  /** Starts and stops goal pipelines (Step Functions in AWS, the local runner locally). */
  pipeline: PipelineStarter;
  /** Answers the task token a goal's approval step waits on. */
  callbacks: TaskCallbacks;
  /** Time source for API-side timestamps (decisions, default cost ranges). Defaults to the wall clock. */
  clock?: () => Date;
}

let injected: ApiDependencies | undefined;
let fromEnvironment: Promise<ApiDependencies> | undefined;

/** Makes every API handler in this process use `dependencies` (local runtime, tests). */
export function setApiDependencies(dependencies: ApiDependencies): void {
  injected = dependencies;
}

/** Forgets injected and cached dependencies, so the next request builds them again. */
export function resetApiDependencies(): void {
  injected = undefined;
  fromEnvironment = undefined;
}

/** The injected dependencies, or the AWS defaults built on first use. */
export function apiDependencies(): Promise<ApiDependencies> {
  if (injected) return Promise.resolve(injected);
  fromEnvironment ??= buildFromEnvironment().catch((error: unknown) => {
    // A missing variable should not poison the process for good; the next request tries again.
    fromEnvironment = undefined;
    throw error;
  });
  return fromEnvironment;
}

export function nowFrom(dependencies: ApiDependencies): Date {
  return dependencies.clock ? dependencies.clock() : dependencies.store.config.clock ? dependencies.store.config.clock() : new Date();
}

// Imported on first use so that the local runtime, which injects its own adapters, never loads
// the Step Functions, SQS, S3 or EventBridge clients.
async function buildFromEnvironment(): Promise<ApiDependencies> {
  const [{ createStore }, { createAwsPorts }] = await Promise.all([import('../store/index'), import('../ports/aws/index')]);
  const ports = createAwsPorts();
  return { store: createStore(), pipeline: ports.pipeline, callbacks: ports.callbacks };
}
