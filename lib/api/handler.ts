// Builds a route's Lambda handler: middy with the shared observability middlewares, then the
// request checks every route shares (path ids, query, body size, media type, JSON, schema,
// Idempotency-Key), one call to the route's operation, and the JSON response or error envelope.
// functions/api/*.ts are one call to `apiHandler` each.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Actor } from '../domain/index';
import { observability } from '../middleware';
import { logger, metrics } from '../powertools';
import { apiDependencies } from './dependencies';
import { errorResult, MissingBodyError, RequestValidationError, UnknownResourceError } from './errors';
import { actorOf, basePath, bodyText, header, jsonResponse, parseJson, queryParameters, requireJsonContentType, type ApiResult } from './http';
import { checkIdempotencyKey, IDEMPOTENCY_HEADER, IDEMPOTENT_REPLAY_HEADER, requestFingerprint, runIdempotently } from './idempotency';
import type { RouteDefinition } from './routes';
import { MAX_BODY_BYTES } from './schemas';

type BodyOf<R> = R extends RouteDefinition<z.ZodType, z.ZodType, infer B, z.ZodType> ? z.output<B> : never;

/** A request that passed every check, typed by its route. */
export interface RouteRequest<R extends RouteDefinition> {
  params: z.output<R['params']>;
  query: z.output<R['query']>;
  /** The validated body; `{}`-like defaults when an optional body was empty. Unset for routes without one. */
  body: BodyOf<R>;
  actor: Actor;
  event: APIGatewayProxyEvent;
}

export type RouteOperation<R extends RouteDefinition> = (request: RouteRequest<R>) => Promise<ApiResult>;

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The Lambda handler for `route`: observability middlewares around `handleApiEvent`. */
export function apiHandler<R extends RouteDefinition>(route: R, operation: RouteOperation<R>): ApiHandler {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(observability())
    .handler((event) => handleApiEvent(route, event, operation));
}

/** Checks and runs one request; never throws — every failure becomes an error response. */
export async function handleApiEvent<R extends RouteDefinition>(route: R, event: APIGatewayProxyEvent, operation: RouteOperation<R>): Promise<APIGatewayProxyResult> {
  try {
    const { request, sentBody } = parseRequest(route, event);
    logger.appendKeys({ operation: route.operationId, ...(request.params as Record<string, string>) });
    const idempotencyKey = route.idempotent ? checkIdempotencyKey(header(event, IDEMPOTENCY_HEADER)) : undefined;
    let result: ApiResult;
    let replayed = false;
    if (idempotencyKey === undefined) {
      result = await operation(request);
    } else {
      const { store } = await apiDependencies();
      const fingerprint = requestFingerprint(route.operationId, request.params, sentBody);
      ({ result, replayed } = await runIdempotently(store, { scope: `api.${route.operationId}`, key: idempotencyKey, fingerprint }, () => operation(request)));
    }
    const headers: Record<string, string> = {};
    if (result.location) headers.Location = `${basePath(event)}${result.location}`;
    if (replayed) headers[IDEMPOTENT_REPLAY_HEADER] = 'true';
    recordOutcome(result.status);
    return jsonResponse(result.status, result.body, headers);
  } catch (error) {
    const failure = errorResult(error);
    if (failure.status < 500) logger.info('request refused', { status: failure.status, code: failure.body.error.code });
    recordOutcome(failure.status);
    return jsonResponse(failure.status, failure.body, failure.headers);
  }
}

/**
 * One data point per request for each outcome, zeros included, so the refused and failed shares
 * are averages over all requests — the same figures locally, where there is no API Gateway.
 */
function recordOutcome(status: number): void {
  metrics.addMetric('ApiRequestRefused', MetricUnit.Count, status >= 400 && status < 500 ? 1 : 0);
  metrics.addMetric('ApiRequestFailed', MetricUnit.Count, status >= 500 ? 1 : 0);
}

function parseRequest<R extends RouteDefinition>(route: R, event: APIGatewayProxyEvent): { request: RouteRequest<R>; sentBody: unknown } {
  const params = parsePathParameters(route, event.pathParameters ?? {});
  const query = route.query.safeParse(queryParameters(event));
  if (!query.success) throw new RequestValidationError('query', query.error.issues);
  const body = parseBody(route, event);
  return {
    request: {
      params: params as z.output<R['params']>,
      query: query.data as z.output<R['query']>,
      body: body.parsed as BodyOf<R>,
      actor: actorOf(event),
      event,
    },
    sentBody: body.sent,
  };
}

/**
 * Path ids that do not parse cannot name anything that exists, so they are 404s like any
 * unknown id, not validation errors.
 */
function parsePathParameters(route: RouteDefinition, raw: Record<string, string | undefined>): unknown {
  const parsed = route.params.safeParse(raw);
  if (parsed.success) return parsed.data;
  const name = String(parsed.error.issues[0]?.path[0] ?? 'id');
  throw new UnknownResourceError(name.replace(/Id$/, ''), String(raw[name] ?? ''));
}

/**
 * The body as validated (`parsed`, with defaults) and as sent (`sent`, the JSON value before
 * defaults, which is what tells an idempotent retry from a different request).
 */
function parseBody(route: RouteDefinition, event: APIGatewayProxyEvent): { parsed: unknown; sent: unknown } {
  if (!route.body) return { parsed: undefined, sent: null };
  const text = bodyText(event, MAX_BODY_BYTES);
  const absent = text === undefined || text.trim().length === 0;
  if (absent && route.body.required) throw new MissingBodyError();
  if (!absent) requireJsonContentType(header(event, 'Content-Type'));
  // An optional body left out means `{}`; a body that is JSON `null` is still a wrong body.
  const sent: unknown = absent ? null : parseJson(text);
  const parsed = route.body.schema.safeParse(absent ? {} : sent);
  if (!parsed.success) throw new RequestValidationError('body', parsed.error.issues);
  return { parsed: parsed.data, sent };
}
