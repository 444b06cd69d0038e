// TaskCallbacks over Step Functions: SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat, with the
// "nobody is waiting for this token any more" errors turned into TaskTokenExpiredError.
import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { type TaskCallbacks, TaskTokenExpiredError, type TaskTokenExpiryReason } from '../index';
import { sfnClient } from './clients';
import { taskFailureFields, taskOutputJson } from '../service-rules';
import type { CellPortFactory } from './cell-ports';

/** The Step Functions errors that mean nobody waits for the token any more, by the reason they give. */
function expiryReasonOf(error: unknown): TaskTokenExpiryReason | undefined {
  if (error instanceof TaskTimedOut) return 'TaskTimedOut';
  if (error instanceof InvalidToken) return 'InvalidToken';
  if (error instanceof TaskDoesNotExist) return 'TaskDoesNotExist';
  return undefined;
}

export interface SfnTaskCallbacksOptions {
  /** Defaults to the process-wide traced client. */
  client?: SFNClient;
}

export class SfnTaskCallbacks implements TaskCallbacks {
  private readonly client: () => SFNClient;

  constructor(options: SfnTaskCallbacksOptions = {}) {
    this.client = options.client ? () => options.client as SFNClient : sfnClient;
  }

  async succeed(taskToken: string, output: unknown): Promise<void> {
    const json = taskOutputJson(output);
    await this.call(() => this.client().send(new SendTaskSuccessCommand({ taskToken, output: json })));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    const fields = taskFailureFields(error, cause);
    await this.call(() => this.client().send(new SendTaskFailureCommand({ taskToken, ...fields })));
  }

  async heartbeat(taskToken: string): Promise<void> {
    await this.call(() => this.client().send(new SendTaskHeartbeatCommand({ taskToken })));
  }

  private async call(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      const reason = expiryReasonOf(error);
      if (reason) throw new TaskTokenExpiredError(reason, (error as Error).message, { cause: error });
      throw error;
    }
  }
}

/** The callbacks port of a function that answers task tokens (approvals, agent workers). */
export const cellPort: CellPortFactory<'callbacks'> = () => new SfnTaskCallbacks();
