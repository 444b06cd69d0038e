// Named errors of the pipeline steps. `stepFunctionsError` is the error type Step Functions sees
// (the step handler reports it as the Lambda errorType), so a state's Catch can match it; the
// message says what is wrong in words a person can act on. All of them are permanent: the goal,
// the configuration or the input must change first.
import { CahootsError } from '../domain/errors';

abstract class PipelineError extends CahootsError {
  readonly permanent = true;
}

export class GoalNotRunnableError extends PipelineError {
  readonly code = 'GoalNotRunnable';
  readonly stepFunctionsError = 'Goal.NotRunnable';
  constructor(goalId: string, status: string) {
    super(`goal ${goalId} is ${status} and cannot run`);
  }
}

export class GoalProjectMismatchError extends PipelineError {
  readonly code = 'GoalProjectMismatch';
  readonly stepFunctionsError = 'Goal.ProjectMismatch';
  constructor(goalId: string, projectId: string) {
    super(`goal ${goalId} does not belong to project ${projectId}`);
  }
}

export class QueueNotConfiguredError extends PipelineError {
  readonly code = 'QueueNotConfigured';
  readonly stepFunctionsError = 'Pipeline.QueueNotConfigured';
  constructor(role: string) {
    super(`no work queue is configured for the ${role} role (set QUEUE_URL_${role.toUpperCase()})`);
  }
}

export class InvalidStepInputError extends PipelineError {
  readonly code = 'InvalidInput';
  readonly stepFunctionsError = 'Pipeline.InvalidInput';
}

/** An agent message reached the worker of another role. */
export class MisroutedMessageError extends PipelineError {
  readonly code = 'MisroutedMessage';
  readonly stepFunctionsError = 'Pipeline.MisroutedMessage';
}

/**
 * The project names no model for the task's role. Reported as its own error rather than
 * `Agent.Failed`: the state machine's retry on a stronger tier cannot find a model either.
 */
export class NoModelConfiguredError extends PipelineError {
  readonly code = 'NoModelConfigured';
  readonly stepFunctionsError = 'Pipeline.NoModelConfigured';
  constructor(role: string) {
    super(`no model is configured for the ${role} role: set the project's modelPolicy.${role} or CAHOOTS_MODEL`);
  }
}

/**
 * A continuation's checkpoint is gone. Reported as `Agent.Failed`, which the state machine
 * retries: the next attempt starts the task afresh, without a checkpoint.
 */
export class CheckpointMissingError extends PipelineError {
  readonly code = 'CheckpointMissing';
  readonly stepFunctionsError = 'Agent.Failed';
  constructor(key: string) {
    super(`the checkpoint ${key} this continuation should resume from does not exist`);
  }
}
