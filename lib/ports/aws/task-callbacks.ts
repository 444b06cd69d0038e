// TaskCallbacks over Step Functions: SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat, with the
// "nobody is waiting for this token any more" errors turned into TaskTokenExpiredError.
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { type TaskCallbacks, TaskTokenExpiredError, type TaskTokenExpiryReason } from '../index';
import { sfnClient } from './clients';
import { taskFailureFields, taskOutputJson } from '../service-rules';

const EXPIRY_REASONS: ReadonlySet<string> = new Set<TaskTokenExpiryReason>([
  'TaskTimedOut',
  'InvalidToken',
  'TaskDoesNotExist',
]);

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
      if (error instanceof Error && EXPIRY_REASONS.has(error.name)) {
        throw new TaskTokenExpiredError(error.name as TaskTokenExpiryReason, error.message, { cause: error });
      }
      throw error;
    }
  }
}
