// Local TaskCallbacks: a registry of task tokens standing in for Step Functions' callback pattern.
// `register` mints a token and a promise the local state machine awaits; succeed/fail/heartbeat
// settle it or push its heartbeat deadline back. Failures reject with an Error whose `name` is the
// Step Functions error, because aws-local-stepfunctions matches Retry/Catch ErrorEquals on `name`.
import { randomBytes } from 'node:crypto';
import { logger } from '../powertools';
import { type TaskCallbacks, TaskTokenExpiredError, type TaskTokenExpiryReason } from '../ports/index';
import { taskFailureFields, taskOutputJson } from '../ports/service-rules';

export const HEARTBEAT_TIMEOUT_ERROR = 'States.HeartbeatTimeout';
export const TASK_TIMEOUT_ERROR = 'States.Timeout';
/** The error a token's waiter sees when its execution is stopped. */
export const TASK_ABORTED_ERROR = 'States.Aborted';

/** Node timers overflow past 2^31-1 ms (about 24.8 days); longer waits are refused rather than firing at once. */
export const MAX_LOCAL_TIMER_SECONDS = Math.floor(2_147_483_647 / 1000);

/**
 * A task failure as the state machine sees it: `name` is the Step Functions error (`Agent.Failed`,
 * `States.HeartbeatTimeout`) and `message` the cause, so Catch output is `{Error: name, Cause: message}`.
 * Deliberately not a CahootsError: it carries another component's error (a worker's, or the state
 * machine's own `States.*`) under the `name` aws-local-stepfunctions matches ErrorEquals against.
 */
export class StepFunctionsTaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

export interface RegisterTaskOptions {
  /** The task fails with States.HeartbeatTimeout when no heartbeat (or answer) comes this long. */
  heartbeatSeconds?: number;
  /** The task fails with States.Timeout after this long. */
  timeoutSeconds?: number;
  /** Shown in logs: which execution and state is waiting. */
  label?: string;
}

export interface PendingTaskToken {
  token: string;
  /** Resolves with the output given to succeed(); rejects with a StepFunctionsTaskError. */
  promise: Promise<unknown>;
}

interface Pending {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  label?: string;
}

function checkSeconds(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!(value > 0 && value <= MAX_LOCAL_TIMER_SECONDS)) {
    throw new RangeError(`${name} must be more than 0 and at most ${MAX_LOCAL_TIMER_SECONDS} locally, got ${value}`);
  }
}

const REMEMBERED_TOKENS = 10_000;

export class LocalTaskCallbacks implements TaskCallbacks {
  private readonly pending = new Map<string, Pending>();
  /** Recently closed tokens, so a late answer gets TaskTimedOut rather than InvalidToken, as in AWS. */
  private readonly closed = new Set<string>();

  /** Mints a token; the returned promise settles when the token is answered, times out or is cancelled. */
  register(options: RegisterTaskOptions = {}): PendingTaskToken {
    checkSeconds('heartbeatSeconds', options.heartbeatSeconds);
    checkSeconds('timeoutSeconds', options.timeoutSeconds);
    const token = `local-task-${randomBytes(24).toString('base64url')}`;
    const promise = new Promise<unknown>((resolve, reject) => {
      const entry: Pending = { resolve, reject, label: options.label };
      if (options.heartbeatSeconds !== undefined) entry.heartbeatMs = options.heartbeatSeconds * 1000;
      this.pending.set(token, entry);
      this.armHeartbeat(token, entry);
      if (options.timeoutSeconds !== undefined) {
        entry.timeoutTimer = setTimeout(
          () => this.expire(token, TASK_TIMEOUT_ERROR, `Task did not finish within ${options.timeoutSeconds} s`),
          options.timeoutSeconds * 1000,
        );
      }
    });
    // The waiter may attach its handler later (or never, after a stop); that must not crash the process.
    promise.catch(() => undefined);
    return { token, promise };
  }

  async succeed(taskToken: string, output: unknown): Promise<void> {
    // Same serialisation and size rule as SendTaskSuccess, so the state sees what AWS would pass on.
    const json = taskOutputJson(output);
    this.close(taskToken).resolve(JSON.parse(json) as unknown);
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    const fields = taskFailureFields(error, cause);
    this.close(taskToken).reject(new StepFunctionsTaskError(fields.error, fields.cause));
  }

  async heartbeat(taskToken: string): Promise<void> {
    const entry = this.pending.get(taskToken);
    if (!entry) throw this.expired(taskToken);
    this.armHeartbeat(taskToken, entry);
  }

  /** Ends a waiting token (its execution stopped); later answers get TaskTimedOut. False if it was not waiting. */
  cancel(taskToken: string, cause = 'Execution stopped'): boolean {
    if (!this.pending.has(taskToken)) return false;
    this.close(taskToken).reject(new StepFunctionsTaskError(TASK_ABORTED_ERROR, cause));
    return true;
  }

  isPending(taskToken: string): boolean {
    return this.pending.has(taskToken);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private armHeartbeat(token: string, entry: Pending): void {
    if (entry.heartbeatMs === undefined) return;
    clearTimeout(entry.heartbeatTimer);
    entry.heartbeatTimer = setTimeout(
      () => this.expire(token, HEARTBEAT_TIMEOUT_ERROR, `No heartbeat within ${entry.heartbeatMs! / 1000} s`),
      entry.heartbeatMs,
    );
  }

  private expire(token: string, error: string, cause: string): void {
    const entry = this.pending.get(token);
    if (!entry) return;
    logger.warn('Task token expired', { error, label: entry.label });
    this.close(token).reject(new StepFunctionsTaskError(error, cause));
  }

  /** Removes a waiting token and returns its settle functions; throws TaskTokenExpiredError if not waiting. */
  private close(token: string): Pending {
    const entry = this.pending.get(token);
    if (!entry) throw this.expired(token);
    clearTimeout(entry.heartbeatTimer);
    clearTimeout(entry.timeoutTimer);
    this.pending.delete(token);
    this.closed.add(token);
    if (this.closed.size > REMEMBERED_TOKENS) {
      const oldest = this.closed.values().next().value;
      if (oldest !== undefined) this.closed.delete(oldest);
    }
    return entry;
  }

  private expired(token: string): TaskTokenExpiredError {
    const reason: TaskTokenExpiryReason = this.closed.has(token) ? 'TaskTimedOut' : 'InvalidToken';
    return new TaskTokenExpiredError(
      reason,
      reason === 'TaskTimedOut'
        ? 'The task token has expired or its task was already closed'
        : 'The task token was not issued by this runtime',
    );
  }
}
