// Named errors of the pipeline steps. `name` is what Step Functions sees as the error type, so a
// state's Catch can match it; the message says what is wrong in words a person can act on.

export class GoalNotRunnableError extends Error {
  override readonly name = 'Goal.NotRunnable';
  constructor(goalId: string, status: string) {
    super(`goal ${goalId} is ${status} and cannot run`);
  }
}

export class GoalProjectMismatchError extends Error {
  override readonly name = 'Goal.ProjectMismatch';
  constructor(goalId: string, projectId: string) {
    super(`goal ${goalId} does not belong to project ${projectId}`);
  }
}

export class QueueNotConfiguredError extends Error {
  override readonly name = 'Pipeline.QueueNotConfigured';
  constructor(role: string) {
    super(`no work queue is configured for the ${role} role (set QUEUE_URL_${role.toUpperCase()})`);
  }
}

export class InvalidStepInputError extends Error {
  override readonly name = 'Pipeline.InvalidInput';
}
