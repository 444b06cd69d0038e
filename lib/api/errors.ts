// The API's errors and the one mapping from any thrown error to an HTTP status and the
// `{"error": {"code", "message", "details"?}}` body. Bad input always lands on a 4xx; only an
// error nobody anticipated becomes a 500, with a generic message and the error logged.
import { ZodError, type z } from 'zod';
import { CahootsError, IllegalTransitionError, PlanValidationError } from '../domain/index';
import { TaskTokenExpiredError } from '../ports/index';
import { GoalExecutionConflictError } from '../ports/service-rules';
import { logger } from '../powertools';
import {
  AlreadyExistsError,
  ConcurrencyConflictError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  ImmutableFieldError,
  InvalidCursorError,
  NotFoundError,
  StoreInputError,
} from '../store/errors';
import type { ErrorDetail, ErrorResponse } from './schemas';

/** An error the API answers with a specific status and code. */
export class ApiError extends CahootsError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** Never sent to Step Functions; named for completeness of the convention. */
  get stepFunctionsError(): string {
    return `Api.${this.code}`;
  }

  /** A 4xx: the same request fails the same way until the client changes it. */
  get permanent(): boolean {
    return this.status < 500;
  }
}

/** Request parts that fail their schema. `where` prefixes each issue's path (`body`, `query`). */
export class RequestValidationError extends ApiError {
  constructor(where: string, issues: readonly z.core.$ZodIssue[]) {
    const details = issues.slice(0, 50).map((issue) => issueDetail(where, issue));
    const first = details[0];
    super(400, 'ValidationFailed', first ? `${first.path}: ${first.message}` : `invalid ${where}`, details);
  }
}

export class InvalidJsonError extends ApiError {
  constructor(reason: string) {
    super(400, 'InvalidJson', `request body is not valid JSON: ${clip(reason, 200)}`);
  }
}

export class MissingBodyError extends ApiError {
  constructor() {
    super(400, 'ValidationFailed', 'a JSON request body is required', [{ path: 'body', message: 'required' }]);
  }
}

export class DuplicateQueryParameterError extends ApiError {
  constructor(name: string) {
    super(400, 'ValidationFailed', `query parameter ${clip(name, 100)} is given more than once`, [
      { path: `query.${clip(name, 100)}`, message: 'given more than once' },
    ]);
  }
}

export class InvalidIdempotencyKeyError extends ApiError {
  constructor() {
    super(400, 'ValidationFailed', 'Idempotency-Key must be 1-255 printable ASCII characters', [
      { path: 'headers.Idempotency-Key', message: 'must be 1-255 printable ASCII characters' },
    ]);
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limitBytes: number) {
    super(413, 'PayloadTooLarge', `request body exceeds ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  constructor(contentType: string | undefined) {
    super(
      415,
      'UnsupportedMediaType',
      contentType ? `content type ${clip(contentType, 100)} is not supported; send application/json` : 'a request body needs Content-Type: application/json',
    );
  }
}

/** A path parameter that cannot name anything (wrong prefix, not a ULID): nothing is there. */
export class UnknownResourceError extends ApiError {
  constructor(entity: string, id: string) {
    super(404, 'NotFound', `${entity} ${clip(id, 100)} not found`);
  }
}

export class RouteNotFoundError extends ApiError {
  constructor(path: string) {
    super(404, 'RouteNotFound', `no route matches ${clip(path, 200)}`);
  }
}

export class MethodNotAllowedError extends ApiError {
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(405, 'MethodNotAllowed', `${clip(method, 20)} is not allowed on ${clip(path, 200)}; use ${allowed.join(', ')}`, undefined, {
      Allow: allowed.join(', '),
    });
  }
}

/** Cancel of a goal that already ended: a finished goal never reopens. */
export class GoalAlreadyFinishedError extends ApiError {
  constructor(goalId: string, status: string) {
    super(409, 'GoalFinished', `goal ${goalId} already ended with status ${status}`);
  }
}

/** An approval decision for a goal that is not waiting on one. */
export class NothingAwaitingApprovalError extends ApiError {
  constructor(goalId: string) {
    super(409, 'NothingAwaitingApproval', `goal ${goalId} is not waiting for an approval`);
  }
}

/** The pipeline stopped waiting (timeout, execution ended) before the decision arrived. */
export class ApprovalExpiredError extends ApiError {
  constructor(goalId: string) {
    super(409, 'ApprovalExpired', `the approval of goal ${goalId} can no longer be answered; the pipeline stopped waiting`);
  }
}

/** `budgetUsd` sent with a decision it does not belong to. */
export class BudgetNotApplicableError extends ApiError {
  constructor(message: string) {
    super(422, 'BudgetNotApplicable', message, [{ path: 'body.budgetUsd', message }]);
  }
}

export class DayRangeError extends ApiError {
  constructor(message: string, path: string) {
    super(400, 'ValidationFailed', message, [{ path, message }]);
  }
}

export interface ErrorResult {
  status: number;
  body: ErrorResponse;
  headers: Record<string, string>;
}

/** Maps any thrown value to the response the client gets. */
export function errorResult(error: unknown): ErrorResult {
  const known = classify(error);
  if (known) {
    if (known.status >= 500) logger.error('request failed', { error });
    const body: ErrorResponse = { error: { code: known.code, message: known.message } };
    if (known.details && known.details.length > 0) body.error.details = known.details;
    return { status: known.status, body, headers: known.headers ?? {} };
  }
  logger.error('unexpected error while handling a request', { error });
  return { status: 500, body: { error: { code: 'InternalError', message: 'the request could not be completed; it has been logged' } }, headers: {} };
}

interface Classified {
  status: number;
  code: string;
  message: string;
  details?: ErrorDetail[];
  headers?: Record<string, string>;
}

function classify(error: unknown): Classified | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) {
    // A schema inside the domain or store refused a value the API schemas let through.
    const validation = new RequestValidationError('input', error.issues);
    return { status: 422, code: 'InvalidInput', message: validation.message, details: validation.details };
  }
  if (error instanceof NotFoundError) return { status: 404, code: 'NotFound', message: error.message };
  if (error instanceof InvalidCursorError) {
    return { status: 400, code: 'InvalidCursor', message: error.message, details: [{ path: 'query.cursor', message: error.reason }] };
  }
  if (error instanceof ConcurrencyConflictError) return { status: 409, code: 'VersionConflict', message: error.message };
  if (error instanceof IdempotencyKeyReusedError) return { status: 409, code: 'IdempotencyKeyReused', message: error.message };
  if (error instanceof IdempotencyInProgressError) return { status: 409, code: 'IdempotencyInProgress', message: error.message, headers: { 'Retry-After': '1' } };
  if (error instanceof AlreadyExistsError) return { status: 409, code: 'AlreadyExists', message: error.message };
  if (error instanceof IllegalTransitionError) return { status: 409, code: 'IllegalTransition', message: error.message };
  if (error instanceof GoalExecutionConflictError) return { status: 409, code: 'ExecutionConflict', message: error.message };
  if (error instanceof TaskTokenExpiredError) return { status: 409, code: 'ApprovalExpired', message: 'the pipeline is no longer waiting for this answer' };
  if (error instanceof PlanValidationError) {
    return { status: 422, code: 'PlanInvalid', message: error.message, details: error.issues.map((i) => ({ message: i.message, code: i.kind })) };
  }
  if (error instanceof ImmutableFieldError) return { status: 422, code: 'ImmutableField', message: error.message };
  if (error instanceof StoreInputError) return { status: 422, code: 'InvalidInput', message: error.message };
  return undefined;
}

function issueDetail(where: string, issue: z.core.$ZodIssue): ErrorDetail {
  const path = [where, ...issue.path.map((p) => clip(String(p), 100))].join('.');
  return { path, message: clip(issue.message, 500), code: issue.code };
}

/** Keeps client-supplied text (ids, names) in messages short, whatever was sent. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
