// Named errors of the model gateway. Providers turn every failure into a ModelProviderError
// whose `retryable` flag drives the gateway's retry-then-fall-back decision.
import { CahootsError } from '../domain/errors';

/** Why a call failed, in provider-neutral words. */
export type ModelErrorKind =
  | 'throttled'
  | 'unavailable'
  | 'timeout'
  | 'invalid_request'
  | 'access_denied'
  | 'not_found'
  | 'quota_exceeded'
  | 'malformed_reply'
  | 'replay'
  | 'unknown';

export interface ModelProviderErrorOptions {
  spec: string;
  kind: ModelErrorKind;
  retryable: boolean;
  status?: number;
  /** The provider's own error code, e.g. `ThrottlingException`. */
  providerCode?: string;
  /** A server-suggested wait (Retry-After), which the gateway honours up to its cap. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ModelProviderError extends CahootsError {
  readonly code: string = 'ModelCallFailed';
  readonly spec: string;
  readonly kind: ModelErrorKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly providerCode?: string;
  readonly retryAfterMs?: number;

  constructor(message: string, options: ModelProviderErrorOptions) {
    super(message, { cause: options.cause });
    this.spec = options.spec;
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.status = options.status;
    this.providerCode = options.providerCode;
    this.retryAfterMs = options.retryAfterMs;
  }

  get stepFunctionsError(): string {
    return `Model.${this.code}`;
  }

  get permanent(): boolean {
    return !this.retryable;
  }
}

export class InvalidModelSpecError extends CahootsError {
  readonly code = 'InvalidModelSpec';
  readonly stepFunctionsError = 'Model.InvalidModelSpec';
  readonly permanent = true;
  constructor(
    readonly spec: string,
    reason: string,
  ) {
    super(
      `invalid model spec ${JSON.stringify(spec)}: ${reason}. Valid forms: ` +
        '"bedrock:<modelId | inference-profile id | ARN>" (e.g. bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0), ' +
        '"openai:<model>@<baseUrl>" (e.g. openai:llama3.1@http://localhost:11434/v1), ' +
        '"replay:<path to script.json>"',
    );
  }
}

/** The caller's AbortSignal fired; not a model failure, so nothing is retried or fallen back. */
export class ModelCallAbortedError extends CahootsError {
  readonly code = 'ModelCallAborted';
  readonly stepFunctionsError = 'Model.CallAborted';
  readonly permanent = true;
  constructor(
    readonly spec: string,
    options?: { cause?: unknown },
  ) {
    super(`model call to ${spec} was aborted by the caller`, options);
  }
}

export interface ModelFailure {
  spec: string;
  attempts: number;
  error: Error;
}

/** Every model of the policy failed; each one's last error is listed. Later, one may answer again. */
export class ModelUnavailableError extends CahootsError {
  readonly code = 'ModelUnavailable';
  readonly stepFunctionsError = 'Model.Unavailable';
  readonly permanent = false;
  constructor(readonly failures: ModelFailure[]) {
    super(
      `no model could answer (${failures.length} tried): ` +
        failures
          .map((f) => `${f.spec} after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}: ${f.error.message}`)
          .join(' | '),
    );
  }
}

/** A replay script cannot be loaded or does not validate. */
export class ReplayScriptError extends ModelProviderError {
  override readonly code = 'ReplayScript';
  constructor(spec: string, message: string, cause?: unknown) {
    super(message, { spec, kind: 'replay', retryable: false, cause });
  }
}

/** No conversation in a replay script matches the request. */
export class ReplayNoMatchError extends ModelProviderError {
  override readonly code = 'ReplayNoMatch';
  constructor(spec: string, message: string) {
    super(message, { spec, kind: 'replay', retryable: false });
  }
}

/** The matching conversation has no turn left for the step the request is at. */
export class ReplayExhaustedError extends ModelProviderError {
  override readonly code = 'ReplayExhausted';
  constructor(spec: string, message: string) {
    super(message, { spec, kind: 'replay', retryable: false });
  }
}

/** A scripted turn's `expect` did not hold: the run has drifted from what the script assumed. */
export class ReplayMismatchError extends ModelProviderError {
  override readonly code = 'ReplayMismatch';
  constructor(spec: string, message: string) {
    super(message, { spec, kind: 'replay', retryable: false });
  }
}
