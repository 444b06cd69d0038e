import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LocalTaskCallbacks, StepFunctionsTaskError } from '../../lib/local/task-tokens';
import { TaskTokenExpiredError } from '../../lib/ports';
import { TaskOutputTooLargeError } from '../../lib/ports/service-rules';

const settle = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error }),
  );

describe('LocalTaskCallbacks', () => {
  it('mints unique tokens and resolves with the output as JSON would carry it', async () => {
    const callbacks = new LocalTaskCallbacks();
    const a = callbacks.register();
    const b = callbacks.register();
    expect(a.token).not.toBe(b.token);
    await callbacks.succeed(a.token, { plan: ['t1'], at: new Date('2026-01-01T00:00:00Z'), skip: undefined });
    expect(await a.promise).toEqual({ plan: ['t1'], at: '2026-01-01T00:00:00.000Z' });
    expect(callbacks.isPending(b.token)).toBe(true);
  });

  it('rejects with an Error named after the Step Functions error, cause as message, truncated like AWS', async () => {
    const callbacks = new LocalTaskCallbacks();
    const { token, promise } = callbacks.register();
    await callbacks.fail(token, 'Budget.Exceeded', 'goal budget of $5 reached');
    const outcome = await settle(promise);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toBeInstanceOf(StepFunctionsTaskError);
    expect(outcome.error.name).toBe('Budget.Exceeded');
    expect(outcome.error.message).toBe('goal budget of $5 reached');

    const long = callbacks.register();
    await callbacks.fail(long.token, 'E'.repeat(300), 'c'.repeat(40_000));
    const longOutcome = await settle(long.promise);
    if (longOutcome.ok) throw new Error('expected failure');
    expect(longOutcome.error.name).toHaveLength(256);
    expect(longOutcome.error.message).toHaveLength(32_768);
  });

  it('fails with States.HeartbeatTimeout when heartbeats stop, and heartbeats push the deadline back', async () => {
    const callbacks = new LocalTaskCallbacks();
    const { token, promise } = callbacks.register({ heartbeatSeconds: 0.06 });
    for (let i = 0; i < 4; i++) {
      await sleep(30);
      await callbacks.heartbeat(token);
    }
    // 120 ms have passed, twice the heartbeat interval, and the task is still waiting.
    expect(callbacks.isPending(token)).toBe(true);
    const outcome = await settle(promise);
    if (outcome.ok) throw new Error('expected a heartbeat timeout');
    expect(outcome.error.name).toBe('States.HeartbeatTimeout');
    await expect(callbacks.heartbeat(token)).rejects.toBeInstanceOf(TaskTokenExpiredError);
  });

  it('fails with States.Timeout after timeoutSeconds even with heartbeats', async () => {
    const callbacks = new LocalTaskCallbacks();
    const { token, promise } = callbacks.register({ heartbeatSeconds: 1, timeoutSeconds: 0.05 });
    await callbacks.heartbeat(token);
    const outcome = await settle(promise);
    if (outcome.ok) throw new Error('expected a timeout');
    expect(outcome.error.name).toBe('States.Timeout');
  });

  it('answers TaskTimedOut for a closed token and InvalidToken for one it never issued', async () => {
    const callbacks = new LocalTaskCallbacks();
    const { token } = callbacks.register();
    await callbacks.succeed(token, 1);
    const late = await callbacks.succeed(token, 2).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(TaskTokenExpiredError);
    expect((late as TaskTokenExpiredError).reason).toBe('TaskTimedOut');
    const unknown = await callbacks.fail('forged', 'X', 'y').catch((e: unknown) => e);
    expect((unknown as TaskTokenExpiredError).reason).toBe('InvalidToken');
  });

  it('cancels a waiting token so later answers are refused', async () => {
    const callbacks = new LocalTaskCallbacks();
    const { token, promise } = callbacks.register();
    expect(callbacks.cancel(token)).toBe(true);
    expect(callbacks.cancel(token)).toBe(false);
    expect((await settle(promise)).ok).toBe(false);
    await expect(callbacks.succeed(token, {})).rejects.toBeInstanceOf(TaskTokenExpiredError);
    expect(callbacks.pendingCount).toBe(0);
  });

  it('refuses outputs Step Functions would refuse, leaving the task waiting', async () => {
    const callbacks = new LocalTaskCallbacks();
    const { token } = callbacks.register();
    await expect(callbacks.succeed(token, 'x'.repeat(300_000))).rejects.toBeInstanceOf(TaskOutputTooLargeError);
    expect(callbacks.isPending(token)).toBe(true);
    expect(() => callbacks.register({ timeoutSeconds: 99_999_999 })).toThrow(RangeError);
  });
});
