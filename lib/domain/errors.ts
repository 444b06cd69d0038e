// Base class for errors raised by domain rules, so callers (API, Step Functions) can map them by
// a stable `code` instead of matching messages.

export abstract class DomainError extends Error {
  /** Stable machine-readable code, e.g. for `{"error": {"code"}}` or a Step Functions error name. */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
