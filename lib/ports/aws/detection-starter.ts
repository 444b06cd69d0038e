// DetectionStarter over Step Functions: StartExecution of the DetectWork state machine. Every run
// is a new execution, named after the trigger and a fresh ULID so runs sort by start time.
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { newUlid } from '../../domain/ids';
import type { DetectionStarter } from '../index';
import { type CellPortFactory, unconfigured } from './cell-ports';
import { sfnClient } from './clients';
import { AWS_PORTS_ENV } from './config';

export interface SfnDetectionStarterOptions {
  stateMachineArn: string;
  /** Defaults to the process-wide traced client. */
  client?: SFNClient;
}

/** `<trigger>-<ULID>`: unique, valid as an execution name, and telling in the console. */
export function detectionExecutionName(trigger: string, now: number = Date.now()): string {
  return `${trigger}-${newUlid(now)}`;
}

export class SfnDetectionStarter implements DetectionStarter {
  private readonly stateMachineArn: string;
  private readonly client: () => SFNClient;

  constructor(options: SfnDetectionStarterOptions) {
    this.stateMachineArn = options.stateMachineArn;
    this.client = options.client ? () => options.client as SFNClient : sfnClient;
  }

  async startDetection(input: { projectId: string; trigger: 'schedule' | 'manual' }): Promise<{ executionId: string }> {
    const started = await this.client().send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name: detectionExecutionName(input.trigger),
        input: JSON.stringify({ projectId: input.projectId, trigger: input.trigger }),
      }),
    );
    if (!started.executionArn) throw new Error('StartExecution returned no executionArn');
    return { executionId: started.executionArn };
  }
}

/** The detection port (DETECT_WORK_STATE_MACHINE_ARN). */
export const cellPort: CellPortFactory<'detection'> = ({ config }) =>
  config.detectWorkStateMachineArn
    ? new SfnDetectionStarter({ stateMachineArn: config.detectWorkStateMachineArn })
    : unconfigured('detection', AWS_PORTS_ENV.detectWorkStateMachineArn);
