import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TaskTokenExpiredError } from '../../lib/ports';
import { SfnTaskCallbacks } from '../../lib/ports/aws/task-callbacks';
import { TaskOutputTooLargeError } from '../../lib/ports/service-rules';

const sfn = mockClient(SFNClient);
// Tests share a worker: the next file must meet the real client, not this mock.
afterAll(() => {
  sfn.restore();
});
const callbacks = new SfnTaskCallbacks();

afterEach(() => sfn.reset());

describe('SfnTaskCallbacks', () => {
  it.each([
    ['TaskTimedOut', () => new TaskTimedOut({ message: 'timed out', $metadata: {} })],
    ['InvalidToken', () => new InvalidToken({ message: 'bad token', $metadata: {} })],
    ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: 'gone', $metadata: {} })],
  ] as const)('maps %s to TaskTokenExpiredError for every call', async (reason, make) => {
    sfn.on(SendTaskSuccessCommand).rejects(make());
    sfn.on(SendTaskFailureCommand).rejects(make());
    sfn.on(SendTaskHeartbeatCommand).rejects(make());
    for (const call of [
      () => callbacks.succeed('t', { ok: true }),
      () => callbacks.fail('t', 'Agent.Failed', 'boom'),
      () => callbacks.heartbeat('t'),
    ]) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TaskTokenExpiredError);
      expect((error as TaskTokenExpiredError).reason).toBe(reason);
    }
  });

  it('leaves other errors alone', async () => {
    sfn.on(SendTaskHeartbeatCommand).rejects(new Error('ThrottlingException'));
    await expect(callbacks.heartbeat('t')).rejects.not.toBeInstanceOf(TaskTokenExpiredError);
  });

  it('truncates the error to 256 and the cause to 32768 characters', async () => {
    sfn.on(SendTaskFailureCommand).resolves({});
    await callbacks.fail('t', 'E'.repeat(300), 'c'.repeat(50_000));
    const sent = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(sent?.error).toHaveLength(256);
    expect(sent?.cause).toHaveLength(32_768);
    expect(sent?.cause?.endsWith('[truncated]')).toBe(true);
  });

  it('sends the output as JSON, undefined as null, and refuses outputs over 256 KB', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    await callbacks.succeed('t', { plan: [1, 2] });
    await callbacks.succeed('t', undefined);
    const outputs = sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.output);
    expect(outputs).toEqual(['{"plan":[1,2]}', 'null']);
    await expect(callbacks.succeed('t', 'x'.repeat(300_000))).rejects.toBeInstanceOf(TaskOutputTooLargeError);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(2);
  });
});
