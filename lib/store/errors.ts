// Named errors the store raises, each with a stable `code` the API maps to a status
// (NotFound → 404, ConcurrencyConflict → 409/412, InvalidCursor → 400 …). A pipeline step that
// fails with one reports `Store.<code>`; lost races report `Store.Conflict`, which the state
// machine retries.
import { CahootsError } from '../domain/errors';

/** Base of the store's errors: permanent unless a class says otherwise. */
export abstract class StoreError extends CahootsError {
  get stepFunctionsError(): string {
    return `Store.${this.code}`;
  }
  readonly permanent: boolean = true;
}

export class NotFoundError extends StoreError {
  readonly code = 'NotFound';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} not found`);
  }
}

export class AlreadyExistsError extends StoreError {
  readonly code = 'AlreadyExists';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} already exists`);
  }
}

/** The item changed since it was read: re-read and apply the change again (see updateWithRetry). */
export class ConcurrencyConflictError extends StoreError {
  readonly code = 'ConcurrencyConflict';
  override readonly permanent = false;
  override get stepFunctionsError(): string {
    return 'Store.Conflict';
  }
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly expectedVersion: number,
    readonly actualVersion?: number,
  ) {
    super(
      `${entity} ${id} was changed concurrently: expected version ${expectedVersion}` +
        (actualVersion === undefined ? '' : `, found ${actualVersion}`),
    );
  }
}

export class InvalidCursorError extends StoreError {
  readonly code = 'InvalidCursor';
  constructor(readonly reason: string) {
    super(`invalid paging cursor: ${reason}`);
  }
}

/** A store call got arguments it cannot act on (page size out of range, reversed day range …). */
export class StoreInputError extends StoreError {
  readonly code = 'InvalidInput';
}

/** A stored item no longer matches its schema — data written by other code or a bad migration. */
export class ItemDecodeError extends StoreError {
  readonly code = 'ItemDecode';
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly detail: string,
  ) {
    super(`stored ${entity} ${id} does not match its schema: ${detail}`);
  }
}

export class ImmutableFieldError extends StoreError {
  readonly code = 'ImmutableField';
  constructor(
    readonly entity: string,
    readonly field: string,
  ) {
    super(`${entity}.${field} cannot be changed after creation`);
  }
}

/** The same eventId was appended again with different content — a caller bug, not a retry. */
export class EventIdReusedError extends StoreError {
  readonly code = 'EventIdReused';
  constructor(
    readonly eventId: string,
    readonly detail: string,
  ) {
    super(`eventId ${eventId} was already used for a different event: ${detail}`);
  }
}

export class EventStreamMismatchError extends StoreError {
  readonly code = 'EventStreamMismatch';
}

/** Too many writers raced for the same stream head for too long. Safe to retry the append. */
export class AppendContentionError extends StoreError {
  readonly code = 'AppendContention';
  override readonly permanent = false;
  override get stepFunctionsError(): string {
    return 'Store.Conflict';
  }
  constructor(
    readonly stream: string,
    readonly attempts: number,
  ) {
    super(`could not append to ${stream} after ${attempts} attempts`);
  }
}

export class IdempotencyInProgressError extends StoreError {
  readonly code = 'IdempotencyInProgress';
  override readonly permanent = false;
  constructor(readonly key: string) {
    super(`a request with idempotency key ${key} is still in progress`);
  }
}

export class IdempotencyKeyReusedError extends StoreError {
  readonly code = 'IdempotencyKeyReused';
  constructor(readonly key: string) {
    super(`idempotency key ${key} was already used for a different request`);
  }
}

export class StoreConfigError extends StoreError {
  readonly code = 'StoreConfig';
}
