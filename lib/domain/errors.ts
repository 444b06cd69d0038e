// The one base of the product's named errors. Callers classify an error with `instanceof` and the
// fields below, never by its `name` or its message: `name` is the class name, for people reading
// logs, and a minifying bundler may shorten it; the fields are literals that survive bundling.
import { ZodError } from 'zod';

export abstract class CahootsError extends Error {
  /** Stable machine-readable code, e.g. the API's `{"error": {"code"}}` or an event's error field. */
  abstract readonly code: string;
  /**
   * The error type Step Functions sees for this error: the `errorType` of a failed Lambda step (see
   * `asStepFunctionsFailure`) or the error of a SendTaskFailure. States' Retry and Catch match it
   * (`Agent.Failed`, `Budget.Exceeded`, `Store.Conflict` …).
   */
  abstract readonly stepFunctionsError: string;
  /**
   * Running the same operation again, unchanged, cannot succeed: bad input, bad configuration,
   * something missing. A transient error (a lost race, a lock, an unavailable service) is not
   * permanent and may be retried or redelivered. A new attempt that changes something (a stronger
   * model, a raised budget) is the state machine's decision, made on `stepFunctionsError`.
   */
  abstract readonly permanent: boolean;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Whether retrying or redelivering the same work is pointless: our errors say so themselves; data
 * that fails its schema (a ZodError from any boundary) fails again. Anything else is unknown and
 * treated as transient.
 */
export function isPermanent(error: unknown): boolean {
  return (error instanceof CahootsError && error.permanent) || error instanceof ZodError;
}

/** The error type Step Functions should see for any thrown value; errors not of ours keep their name. */
export function stepFunctionsErrorOf(error: unknown): string {
  if (error instanceof CahootsError) return error.stepFunctionsError;
  return error instanceof Error ? error.name : 'Error';
}

/**
 * Lambda reports a thrown error's `name` as its `errorType`, which is what a state's Retry and
 * Catch match: a pipeline step rethrows its errors through this, so the state machine sees
 * `stepFunctionsError` while the error stays the same object (and `instanceof` still holds).
 */
export function asStepFunctionsFailure(error: unknown): unknown {
  if (error instanceof CahootsError) error.name = error.stepFunctionsError;
  return error;
}
