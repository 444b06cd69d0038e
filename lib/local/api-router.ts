// The API's router for the local runtime, its stand-in for API Gateway's routing: matches (method,
// path) against the route table and calls that route's Lambda handler (functions/api/*) with an
// API-Gateway-shaped event, answering unknown paths with 404 and unknown methods with 405 the way
// the error envelope describes them. Loading the deployed handlers is the local runtime's job (it
// plays Lambda here), which is why this lives in lib/local and not in lib/api.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorResult, MethodNotAllowedError, RouteNotFoundError } from '../api/errors';
import type { ApiHandler } from '../api/handler';
import { jsonResponse } from '../api/http';
import { API_ROUTES, type RouteDefinition } from '../api/routes';
import { createLambdaContext } from './lambda-context';
import { createProxyEvent, type HttpRequestInput } from './proxy-event';

/**
 * Each route's handler module, by the `handler` name in the route table. Loaded on first use, like
 * a cold start, so serving one route never loads the others. Literal paths keep bundlers and the
 * type checker able to follow them.
 */
export const HANDLER_MODULES: Readonly<Record<string, () => Promise<{ handler: ApiHandler }>>> = {
  'create-project': () => import('../../functions/api/create-project'),
  'get-project': () => import('../../functions/api/get-project'),
  'update-project': () => import('../../functions/api/update-project'),
  'create-goal': () => import('../../functions/api/create-goal'),
  'list-goals': () => import('../../functions/api/list-goals'),
  'list-projects': () => import('../../functions/api/list-projects'),
  'get-goal': () => import('../../functions/api/get-goal'),
  'list-goal-events': () => import('../../functions/api/list-goal-events'),
  'decide-approval': () => import('../../functions/api/decide-approval'),
  'cancel-goal': () => import('../../functions/api/cancel-goal'),
  'list-findings': () => import('../../functions/api/list-findings'),
  'start-detection': () => import('../../functions/api/start-detection'),
  'update-finding': () => import('../../functions/api/update-finding'),
  'create-finding-goal': () => import('../../functions/api/create-finding-goal'),
  'get-costs': () => import('../../functions/api/get-costs'),
  'github-webhook': () => import('../../functions/api/github-webhook'),
  'get-openapi': () => import('../../functions/api/get-openapi'),
};

export type RouteMatch =
  | { kind: 'matched'; route: RouteDefinition; pathParameters: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

interface CompiledRoute {
  route: RouteDefinition;
  segments: Array<{ literal: string } | { parameter: string }>;
}

function compile(routes: readonly RouteDefinition[]): CompiledRoute[] {
  return routes.map((route) => ({
    route,
    segments: route.path
      .split('/')
      .slice(1)
      .map((segment) => {
        const parameter = /^\{([A-Za-z0-9_]+)\}$/.exec(segment)?.[1];
        return parameter ? { parameter } : { literal: segment };
      }),
  }));
}

const COMPILED = compile(API_ROUTES);

/** Which route serves `method path`. Path parameters come back percent-decoded, as API Gateway passes them. */
export function matchRoute(method: string, path: string, routes: readonly CompiledRoute[] = COMPILED): RouteMatch {
  const parts = path.split('/');
  if (parts[0] !== '' || parts.length < 2) return { kind: 'not-found' };
  const segments = parts.slice(1);
  const allowed = new Set<string>();
  for (const candidate of routes) {
    const pathParameters = matchSegments(candidate.segments, segments);
    if (!pathParameters) continue;
    if (candidate.route.method === method.toUpperCase()) return { kind: 'matched', route: candidate.route, pathParameters };
    allowed.add(candidate.route.method);
  }
  return allowed.size > 0 ? { kind: 'method-not-allowed', allowed: [...allowed].sort() } : { kind: 'not-found' };
}

function matchSegments(pattern: CompiledRoute['segments'], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const parameters: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i] as CompiledRoute['segments'][number];
    const actual = segments[i] as string;
    if ('literal' in expected) {
      if (expected.literal !== actual) return undefined;
    } else {
      if (actual.length === 0) return undefined;
      parameters[expected.parameter] = decodeSegment(actual);
    }
  }
  return parameters;
}

/** A malformed escape stays as sent; the route's id check then answers 404. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Routes an API-Gateway-shaped event to its handler; never throws. */
export async function routeProxyEvent(event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> {
  try {
    const match = matchRoute(event.httpMethod, event.path);
    if (match.kind === 'not-found') throw new RouteNotFoundError(event.path);
    if (match.kind === 'method-not-allowed') throw new MethodNotAllowedError(event.httpMethod, event.path, match.allowed);
    const load = HANDLER_MODULES[match.route.handler];
    if (!load) throw new Error(`route ${match.route.operationId} names handler ${match.route.handler}, which the router does not know`);
    const { handler } = await load();
    const routed: APIGatewayProxyEvent = {
      ...event,
      resource: match.route.path,
      pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : null,
      requestContext: { ...event.requestContext, resourcePath: match.route.path, httpMethod: match.route.method },
    };
    return await handler(routed, context ?? createLambdaContext({ functionName: `cahoots-api-${match.route.handler}` }));
  } catch (error) {
    const failure = errorResult(error);
    return jsonResponse(failure.status, failure.body, failure.headers);
  }
}

/** Convenience for the local HTTP server: build the event from a plain request and route it. */
export function routeHttpRequest(request: HttpRequestInput, context?: Context): Promise<APIGatewayProxyResult> {
  return routeProxyEvent(createProxyEvent(request), context);
}
