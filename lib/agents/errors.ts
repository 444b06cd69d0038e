// Named errors of the agent loop, each carrying the error name the goal pipeline reports to
// Step Functions (`fail(token, err.stepFunctionsError, err.message)`), in one place.
import { CahootsError, type AgentRun } from '../domain/index';
import type { AgentCheckpoint } from './checkpoint';

/** The Step Functions error names an agent can end with; the state machine retries and catches on these. */
export const STEP_FUNCTIONS_ERRORS = {
  budgetExceeded: 'Budget.Exceeded',
  stuck: 'Agent.Stuck',
  failed: 'Agent.Failed',
  cancelled: 'Agent.Cancelled',
} as const;
export type StepFunctionsErrorName = (typeof STEP_FUNCTIONS_ERRORS)[keyof typeof STEP_FUNCTIONS_ERRORS];

/**
 * Base of every way an agent run can end without a result. `run` is the AgentRun record of the
 * run up to the failure, so the caller can store what it cost even though it failed.
 */
export abstract class AgentError extends CahootsError {
  abstract override readonly stepFunctionsError: StepFunctionsErrorName;
  /** Repeating this run unchanged ends the same way; the state machine may start a new attempt. */
  readonly permanent = true;
  run?: AgentRun;
}

/** The next model call could cost more than the budget has left; the call was not made. */
export class BudgetExceededError extends AgentError {
  readonly code = 'BudgetExceeded';
  readonly stepFunctionsError = STEP_FUNCTIONS_ERRORS.budgetExceeded;

  constructor(
    readonly worstCaseUsd: number,
    readonly remainingUsd: number,
    readonly limitUsd: number,
    /** Which budget refused, e.g. "goal" or "project-daily"; "fixed" for createFixedBudget. */
    readonly scope: string = 'fixed',
  ) {
    super(
      `the next model call could cost up to $${worstCaseUsd.toFixed(6)} but the ${scope} budget has ` +
        `$${Math.max(0, remainingUsd).toFixed(6)} left of $${limitUsd.toFixed(6)}; the call was not made`,
    );
  }
}

/** The agent repeated the same tool call with the same result too often: it is going in circles. */
export class AgentStuckError extends AgentError {
  readonly code = 'AgentStuck';
  readonly stepFunctionsError = STEP_FUNCTIONS_ERRORS.stuck;

  constructor(
    readonly toolName: string,
    readonly canonicalInput: string,
    readonly repeats: number,
  ) {
    super(
      `the agent called ${toolName} with the same input and got the same result ${repeats} times ` +
        `(input ${canonicalInput.length > 300 ? `${canonicalInput.slice(0, 300)}…` : canonicalInput}); stopped before spending more`,
    );
  }
}

export const AGENT_FAILURE_REASONS = [
  'invalid-finish',
  'turn-limit',
  'wall-time',
  'model-unavailable',
  'model-refused',
  'context-overflow',
] as const;
export type AgentFailureReason = (typeof AGENT_FAILURE_REASONS)[number];

/** The agent could not produce a valid result within its limits; a retry (usually one tier up) may. */
export class AgentFailedError extends AgentError {
  readonly code = 'AgentFailed';
  readonly stepFunctionsError = STEP_FUNCTIONS_ERRORS.failed;

  constructor(
    readonly reason: AgentFailureReason,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${reason}: ${detail}`, options);
  }
}

/** The caller's AbortSignal fired (the goal was cancelled); nothing should retry this. */
export class AgentCancelledError extends AgentError {
  readonly code = 'AgentCancelled';
  readonly stepFunctionsError = STEP_FUNCTIONS_ERRORS.cancelled;

  constructor(options?: ErrorOptions) {
    super('the agent run was cancelled by its caller', options);
  }
}

/**
 * Not a failure, so deliberately not a CahootsError: a signal the worker catches right where it
 * calls the loop, which never reaches Step Functions, the API or a retry decision.
 * `shouldSuspend()` asked the loop to stop (the Lambda is about to time out).
 * The checkpoint resumes the run with `runAgent({ ..., resumeFrom: checkpoint })`; `run` is the
 * record so far (outcome `continued`, same run id as the resumed run will have).
 */
export class AgentSuspendedError extends Error {
  override readonly name = 'AgentSuspendedError';

  constructor(
    readonly checkpoint: AgentCheckpoint,
    readonly run: AgentRun,
  ) {
    super(`the agent run was suspended after turn ${checkpoint.turns} and can be resumed from its checkpoint`);
  }
}

/** A checkpoint that does not parse or belongs to another task or role. */
export class InvalidCheckpointError extends CahootsError {
  readonly code = 'InvalidCheckpoint';
  /** A new attempt starts afresh without the checkpoint, so the state machine's retry may succeed. */
  readonly stepFunctionsError = STEP_FUNCTIONS_ERRORS.failed;
  readonly permanent = true;
}
