// Answering the task token an agent message carries: the state machine waits on it until the
// agent worker reports success, failure or a heartbeat.
import { stepFunctionsErrorOf } from '../domain/errors';
import { logger } from '../powertools';
import { TaskTokenExpiredError } from '../ports/index';
import type { Runtime } from '../runtime';
import type { AgentMessage } from './inputs';

/** Answers a task token; one the state machine no longer waits on (timed out, stopped) is only logged. */
export async function answer(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof TaskTokenExpiredError) {
      logger.warn('the state machine no longer waits for this task', { error });
      return;
    }
    throw error;
  }
}

/** SendTaskFailure with the error's Step Functions name. */
export async function answerFailure(runtime: Runtime, message: AgentMessage, error: Error): Promise<void> {
  await answer(() => runtime.ports.callbacks.fail(message.taskToken, stepFunctionsErrorOf(error), error.message));
}
