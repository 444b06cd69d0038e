// PipelineStarter over the local state machine runner, with the AWS adapter's rules: the execution
// is named after the goal, a start repeated with the same input returns the existing execution, and
// stopping an execution that already ended is not an error.
import type { PipelineStarter } from '../ports/index';
import { executionNameForGoal, GoalExecutionConflictError, jsonEqual } from '../ports/service-rules';
import { ExecutionAlreadyExistsError, type LocalStateMachineRunner } from './state-machine-runner';

export class LocalPipelineStarter implements PipelineStarter {
  constructor(private readonly runner: LocalStateMachineRunner) {}

  async startGoal(input: { goalId: string; projectId: string }): Promise<{ executionId: string }> {
    const executionName = executionNameForGoal(input.goalId);
    const payload = { goalId: input.goalId, projectId: input.projectId };
    try {
      return { executionId: this.runner.start(payload, { executionName }).executionId };
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExistsError)) throw error;
      if (!jsonEqual(error.input, payload)) throw new GoalExecutionConflictError(executionName, error.executionId);
      return { executionId: error.executionId };
    }
  }

  async stopGoal(executionId: string, cause: string): Promise<void> {
    await this.runner.stop(executionId, cause);
  }
}
