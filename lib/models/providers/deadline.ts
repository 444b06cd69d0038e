// Per-attempt deadlines: one AbortSignal that fires on the caller's abort or on a timeout, and
// the means to tell afterwards which of the two it was (a timeout is retried, an abort is not).
import { ModelCallAbortedError, ModelProviderError } from '../errors';

export interface Deadline {
  signal: AbortSignal;
  /** The caller aborted: stop everything. */
  aborted(): boolean;
  /** Our own timeout fired: a retryable failure of this attempt. */
  timedOut(): boolean;
  /** The error matching whichever fired, or undefined if neither did. */
  failure(spec: string, cause: unknown): Error | undefined;
}

export function startDeadline(callerSignal: AbortSignal | undefined, timeoutMs: number | undefined): Deadline {
  const timeout = timeoutMs !== undefined && timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  const signals = [callerSignal, timeout].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
  const deadline: Deadline = {
    signal,
    aborted: () => callerSignal?.aborted === true,
    timedOut: () => timeout?.aborted === true && callerSignal?.aborted !== true,
    failure(spec, cause) {
      if (deadline.aborted()) return new ModelCallAbortedError(spec, { cause });
      if (deadline.timedOut()) {
        return new ModelProviderError(`${spec} did not answer within ${timeoutMs} ms`, {
          spec,
          kind: 'timeout',
          retryable: true,
          cause,
        });
      }
      return undefined;
    },
  };
  return deadline;
}

