// Ports: the few places where the cloud and the local runtime differ. Each port is an interface
// here, with an AWS adapter (aws/*) and a local adapter (lib/local/*); the service limits both
// adapters apply live beside them (service-rules.ts, event-entries.ts). Code that uses a port is
// handed one and never asks which it got.
import type { Schedule } from '../domain/project';
import type { AlarmReader } from './alarm-reader';
import type { CommandRunner } from './command-runner';
import { PortError } from './errors';
import type { RepositoryHost } from './repository-host';

export type * from './repository-host';
export type { AlarmInAlarm, AlarmReader } from './alarm-reader';
export { AlarmsUnavailableError } from './alarm-reader';

/** Starts and stops goal pipeline executions (Step Functions in AWS, the local runner locally). */
export interface PipelineStarter {
  /** Starts the goal pipeline; the execution name is derived from the goal id, so a retry is idempotent. */
  startGoal(input: { goalId: string; projectId: string }): Promise<{ executionId: string }>;
  /** Stops a running execution; stopping one that already ended is not an error. */
  stopGoal(executionId: string, cause: string): Promise<void>;
}

/** Why a detection run starts: its project's schedule fired, or someone asked (API, CLI). */
export type DetectionTrigger = 'schedule' | 'manual';

/** The DetectWork workflow's input (statemachines/detect-work.asl.json), the same from a schedule or a request. */
export interface DetectionRequest {
  projectId: string;
  trigger: DetectionTrigger;
}

/** Starts one run of the DetectWork workflow for a project (Step Functions in AWS, the local runner locally). */
export interface DetectionStarter {
  startDetection(request: DetectionRequest): Promise<{ executionId: string }>;
}

/**
 * Keeps each project's work-detection schedule in step with its settings: EventBridge Scheduler in
 * a cell (one schedule per project, targeting DetectWork), timers locally. Both evaluate the same
 * expression in the project's time zone (lib/domain/schedule-expression.ts).
 */
export interface DetectionScheduler {
  /**
   * Creates the project's schedule or replaces it with this one. A schedule that is not `enabled`
   * is removed, so only projects whose detection is on have one.
   */
  upsert(projectId: string, schedule: Schedule): Promise<void>;
  /** Removes the project's schedule; removing one that does not exist is not an error. */
  delete(projectId: string): Promise<void>;
}

/** Answers a task token the state machine is waiting on (SendTaskSuccess/Failure/Heartbeat). */
export interface TaskCallbacks {
  succeed(taskToken: string, output: unknown): Promise<void>;
  /** `error` is the name a Catch/Retry matches on, e.g. `Agent.Failed` or `Budget.Exceeded`. */
  fail(taskToken: string, error: string, cause: string): Promise<void>;
  heartbeat(taskToken: string): Promise<void>;
}

/** Sends a message to an agent role's work queue. */
export interface WorkQueue {
  send(queueUrl: string, body: unknown, options?: { delaySeconds?: number }): Promise<void>;
}

/** A domain event as it travels on the bus (the event-log envelope). */
export interface BusEvent {
  eventId: string;
  type: string;
  projectId: string;
  goalId?: string;
  [key: string]: unknown;
}

/** Publishes domain events on the customer's bus (EventBridge in AWS, in-process locally). */
export interface EventPublisher {
  publish(events: readonly BusEvent[]): Promise<void>;
}

/** Stores agent checkpoints and other artifacts (S3 in AWS, a directory locally). */
export interface ArtifactStore {
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** Returns undefined when the key does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
}

/** Reads named secrets (Secrets Manager in AWS, environment/local file locally). */
export interface Secrets {
  /** Returns undefined when the secret does not exist. */
  get(name: string): Promise<string | undefined>;
}

/** Everything a handler may need from the outside world, assembled once per process. */
export interface Ports {
  pipeline: PipelineStarter;
  /** Starts work detection runs. */
  detection: DetectionStarter;
  callbacks: TaskCallbacks;
  queue: WorkQueue;
  events: EventPublisher;
  artifacts: ArtifactStore;
  secrets: Secrets;
  /** Where project repositories live: local path, HTTPS git or GitHub (lib/ports/repository). */
  repositories: RepositoryHost;
  /** Where agents' commands run: the sandbox runner locally, the sandbox function in a cell. */
  commands: CommandRunner;
  /** Projects' work-detection schedules: EventBridge Scheduler in a cell, timers locally. */
  schedules: DetectionScheduler;
  /** The customer's CloudWatch alarms in ALARM, for the alarm detector; unavailable locally. */
  alarms: AlarmReader;
}

/**
 * Why a task token can no longer be answered, in Step Functions' own words: `TaskTimedOut`
 * (the task's timeout or heartbeat passed, or its execution ended), `InvalidToken` (never issued),
 * `TaskDoesNotExist` (already answered or unknown to the service).
 */
export type TaskTokenExpiryReason = 'TaskTimedOut' | 'InvalidToken' | 'TaskDoesNotExist';

/**
 * Thrown by every TaskCallbacks adapter when the token cannot be answered any more. It is part of
 * the port's contract, so callers (an agent that finished after its heartbeat lapsed, a late
 * approval) can treat it as "nobody is waiting" instead of a failure, whichever adapter they hold.
 */
export class TaskTokenExpiredError extends PortError {
  readonly code = 'TaskTokenExpired';
  constructor(
    readonly reason: TaskTokenExpiryReason,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? `The task token can no longer be answered (${reason})`, options);
  }
}
