// Limits and naming rules of the AWS services behind the ports. The AWS adapters apply them before
// a call fails remotely, and the local adapters apply the same ones so a payload that works locally
// also fits in AWS. It lives beside the port interfaces, not under aws/, because both adapters
// share it; pure functions only, no SDK import.
import { createHash } from 'node:crypto';
import { PortError } from './errors';

export const STEP_FUNCTIONS_LIMITS = {
  /** SendTaskFailure / StopExecution `error`. */
  errorMaxLength: 256,
  /** SendTaskFailure / StopExecution `cause`. */
  causeMaxLength: 32_768,
  /** Execution input, state output and SendTaskSuccess output, in UTF-8 bytes. */
  payloadMaxBytes: 262_144,
  executionNameMaxLength: 80,
} as const;

export const EVENTBRIDGE_LIMITS = {
  entriesPerCall: 10,
  /** One PutEvents entry, measured the way EventBridge measures it (see eventBridgeEntrySize). */
  maxEntryBytes: 262_144,
  /** A whole PutEvents request. */
  maxRequestBytes: 262_144,
} as const;

export const SQS_LIMITS = {
  maxDelaySeconds: 900,
  /** The default MaximumMessageSize of a queue; a queue may be configured up to 1 MiB. */
  defaultMaxMessageBytes: 262_144,
} as const;

export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Cuts `text` to `max` characters, marking the cut so a reader knows the tail is missing. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = '…[truncated]';
  return text.slice(0, Math.max(0, max - marker.length)) + marker;
}

/** The `error` and `cause` of a task failure, cut to the lengths SendTaskFailure accepts. */
export function taskFailureFields(error: string, cause: string): { error: string; cause: string } {
  return {
    error: error.slice(0, STEP_FUNCTIONS_LIMITS.errorMaxLength),
    cause: truncateText(cause, STEP_FUNCTIONS_LIMITS.causeMaxLength),
  };
}

/** Thrown when a task's output is too large for Step Functions (SendTaskSuccess would refuse it). */
export class TaskOutputTooLargeError extends PortError {
  readonly code = 'TaskOutputTooLarge';
  constructor(readonly bytes: number) {
    super(`Task output is ${bytes} bytes; Step Functions accepts at most ${STEP_FUNCTIONS_LIMITS.payloadMaxBytes}`);
  }
}

/** Serialises a task's output the way SendTaskSuccess needs it: JSON, `undefined` as `null`, size-checked. */
export function taskOutputJson(output: unknown): string {
  const json = JSON.stringify(output ?? null);
  const bytes = utf8ByteLength(json);
  if (bytes > STEP_FUNCTIONS_LIMITS.payloadMaxBytes) throw new TaskOutputTooLargeError(bytes);
  return json;
}

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** Execution names Step Functions accepts and CloudWatch Logs can carry: letters, digits, `-`, `_`. */
export function isValidExecutionName(name: string): boolean {
  return EXECUTION_NAME.test(name);
}

/**
 * The execution name of a goal's pipeline. Deterministic, so starting the same goal twice hits the
 * same name and Step Functions' own idempotency; ids with odd characters or too long are made safe
 * with a hash suffix so two different goal ids never share a name.
 */
export function executionNameForGoal(goalId: string): string {
  if (goalId.length === 0) throw new RangeError('goalId must not be empty');
  const plain = `goal-${goalId}`;
  if (isValidExecutionName(plain)) return plain;
  const hash = createHash('sha256').update(goalId).digest('hex').slice(0, 12);
  const safe = plain.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, STEP_FUNCTIONS_LIMITS.executionNameMaxLength - 13);
  return `${safe}-${hash}`;
}

/** A goal's execution name is taken by an execution that was started with a different input. */
export class GoalExecutionConflictError extends PortError {
  readonly code = 'GoalExecutionConflict';
  constructor(
    readonly executionName: string,
    readonly executionId: string,
  ) {
    super(`Execution ${executionName} already exists with a different input (${executionId})`);
  }
}

/** A PutEvents entry, reduced to the fields that count towards its size. */
export interface SizedEventEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  Time?: Date;
}

/** The size EventBridge charges an entry against the 256 KB limit: Time counts 14 bytes, strings their UTF-8 bytes. */
export function eventBridgeEntrySize(entry: SizedEventEntry): number {
  let size = entry.Time ? 14 : 0;
  for (const text of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (text) size += utf8ByteLength(text);
  }
  return size;
}

/** An event is too large for one PutEvents entry; nothing of the batch was published. */
export class EventTooLargeError extends PortError {
  readonly code = 'EventTooLarge';
  constructor(
    readonly eventId: string,
    readonly bytes: number,
  ) {
    super(
      `Event ${eventId} is ${bytes} bytes; an EventBridge entry may be at most ${EVENTBRIDGE_LIMITS.maxEntryBytes}. ` +
        'Put large data in the artifact store and send its key instead.',
    );
  }
}

/** SQS accepts a delay of 0–900 whole seconds. */
export class InvalidDelaySecondsError extends PortError {
  readonly code = 'InvalidDelaySeconds';
  /** As the SQS integration of Step Functions names it, like the local queue's own errors. */
  override get stepFunctionsError(): string {
    return 'SQS.InvalidDelaySecondsException';
  }
  constructor(readonly delaySeconds: number) {
    super(`delaySeconds must be a whole number from 0 to ${SQS_LIMITS.maxDelaySeconds}, got ${delaySeconds}`);
  }
}

export function assertDelaySeconds(delaySeconds: number): void {
  if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > SQS_LIMITS.maxDelaySeconds) {
    throw new InvalidDelaySecondsError(delaySeconds);
  }
}

/** Structural equality of two JSON values (object key order ignored), for comparing execution inputs. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]));
}

/** An artifact key S3 would refuse or that would read ambiguously (empty, leading `/`, too long). */
export class InvalidArtifactKeyError extends PortError {
  readonly code = 'InvalidArtifactKey';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Invalid artifact key ${JSON.stringify(key)}: ${reason}`);
  }
}
