// PipelineStarter over Step Functions: StartExecution named after the goal (so a retried start is
// idempotent) and StopExecution that treats an already-ended execution as stopped.
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { logger } from '../../powertools';
import type { PipelineStarter } from '../index';
import { sfnClient } from './clients';
import { executionNameForGoal, GoalExecutionConflictError, jsonEqual, taskFailureFields } from '../service-rules';
import { type CellPortFactory, unconfigured } from './cell-ports';
import { AWS_PORTS_ENV } from './config';

/** The `error` recorded on an execution stopped through the port. */
export const STOPPED_ERROR = 'Goal.Stopped';

export interface SfnPipelineStarterOptions {
  stateMachineArn: string;
  /** Defaults to the process-wide traced client. */
  client?: SFNClient;
}

/** The ARN of execution `name` of a state machine: Step Functions derives it the same way. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  const marker = ':stateMachine:';
  const at = stateMachineArn.indexOf(marker);
  if (at < 0) throw new RangeError(`Not a state machine ARN: ${stateMachineArn}`);
  return `${stateMachineArn.slice(0, at)}:execution:${stateMachineArn.slice(at + marker.length)}:${name}`;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class SfnPipelineStarter implements PipelineStarter {
  private readonly stateMachineArn: string;
  private readonly client: () => SFNClient;

  constructor(options: SfnPipelineStarterOptions) {
    this.stateMachineArn = options.stateMachineArn;
    this.client = options.client ? () => options.client as SFNClient : sfnClient;
  }

  async startGoal(input: { goalId: string; projectId: string }): Promise<{ executionId: string }> {
    const name = executionNameForGoal(input.goalId);
    const payload = { goalId: input.goalId, projectId: input.projectId };
    try {
      const started = await this.client().send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(payload) }),
      );
      if (!started.executionArn) throw new Error('StartExecution returned no executionArn');
      return { executionId: started.executionArn };
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      // Step Functions answers ExecutionAlreadyExists for a finished execution of the same name,
      // and for a running one with a different input. Only the input tells a retry from a clash.
      const executionArn = executionArnFor(this.stateMachineArn, name);
      const existing = await this.client().send(new DescribeExecutionCommand({ executionArn }));
      if (!jsonEqual(parseJson(existing.input), payload)) throw new GoalExecutionConflictError(name, executionArn);
      logger.info('Goal pipeline already started; reusing the execution', { goalId: input.goalId, executionArn });
      return { executionId: existing.executionArn ?? executionArn };
    }
  }

  async stopGoal(executionId: string, cause: string): Promise<void> {
    const fields = taskFailureFields(STOPPED_ERROR, cause);
    try {
      await this.client().send(new StopExecutionCommand({ executionArn: executionId, ...fields }));
    } catch (error) {
      // Whatever Step Functions says about stopping an ended execution, the port promises that
      // stopping it is not an error: ask for the status and only rethrow if it is still running.
      const status = await this.statusOf(executionId);
      if (status !== undefined && status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
        logger.info('Execution already ended; nothing to stop', { executionId, status });
        return;
      }
      throw error;
    }
  }

  private async statusOf(executionArn: string): Promise<string | undefined> {
    try {
      const described = await this.client().send(new DescribeExecutionCommand({ executionArn }));
      return described.status;
    } catch {
      return undefined;
    }
  }
}

/** The pipeline port of a function that starts or stops goals (STATE_MACHINE_ARN). */
export const cellPort: CellPortFactory<'pipeline'> = ({ config }) =>
  config.stateMachineArn
    ? new SfnPipelineStarter({ stateMachineArn: config.stateMachineArn })
    : unconfigured('pipeline', AWS_PORTS_ENV.stateMachineArn);
