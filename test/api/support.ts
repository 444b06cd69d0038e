// Test support for the HTTP API: API-Gateway-shaped events, calls through the router (which runs
// the real functions/api handlers), pipeline/callback ports that record what they were asked, and
// a dynalite-backed store wired in through setApiDependencies.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { expect } from 'vitest';
import { resetApiDependencies, setApiDependencies, type ApiDependencies } from '../../lib/api/dependencies';
import { createProxyEvent, type HttpRequestInput } from '../../lib/local/proxy-event';
import { routeProxyEvent } from '../../lib/local/api-router';
import type { RouteDefinition } from '../../lib/api/routes';
import { TaskTokenExpiredError, type PipelineStarter, type TaskCallbacks } from '../../lib/ports/index';
import { createStore, type Store } from '../../lib/store/index';
import { startDynalite, type LocalDynamo } from '../support/dynalite';

export const TEST_PRINCIPAL = 'arn:aws:iam::123456789012:user/alice';

/** A PipelineStarter that records starts and stops and can be told to fail. */
export class RecordingPipeline implements PipelineStarter {
  readonly starts: Array<{ goalId: string; projectId: string }> = [];
  readonly stops: Array<{ executionId: string; cause: string }> = [];
  failStartsWith: Error | undefined;

  async startGoal(input: { goalId: string; projectId: string }): Promise<{ executionId: string }> {
    this.starts.push(input);
    if (this.failStartsWith) throw this.failStartsWith;
    return { executionId: `local:goal-pipeline:goal-${input.goalId}` };
  }

  async stopGoal(executionId: string, cause: string): Promise<void> {
    this.stops.push({ executionId, cause });
  }
}

/** TaskCallbacks that records answers; tokens in `expired` behave like a lapsed Step Functions wait. */
export class RecordingCallbacks implements TaskCallbacks {
  readonly succeeded: Array<{ taskToken: string; output: unknown }> = [];
  readonly failed: Array<{ taskToken: string; error: string; cause: string }> = [];
  readonly expired = new Set<string>();

  async succeed(taskToken: string, output: unknown): Promise<void> {
    this.refuseExpired(taskToken);
    this.succeeded.push({ taskToken, output });
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    this.refuseExpired(taskToken);
    this.failed.push({ taskToken, error, cause });
  }

  async heartbeat(taskToken: string): Promise<void> {
    this.refuseExpired(taskToken);
  }

  private refuseExpired(taskToken: string): void {
    if (this.expired.has(taskToken)) throw new TaskTokenExpiredError('TaskTimedOut');
  }
}

export interface ApiTestContext {
  db: LocalDynamo;
  store: Store;
  pipeline: RecordingPipeline;
  callbacks: RecordingCallbacks;
  deps: ApiDependencies;
  stop(): Promise<void>;
}

export async function startApi(): Promise<ApiTestContext> {
  const db = await startDynalite();
  const store = createStore(db.store);
  const pipeline = new RecordingPipeline();
  const callbacks = new RecordingCallbacks();
  const deps: ApiDependencies = { store, pipeline, callbacks };
  setApiDependencies(deps);
  return {
    db,
    store,
    pipeline,
    callbacks,
    deps,
    async stop() {
      resetApiDependencies();
      await db.stop();
    },
  };
}

export interface RequestOptions {
  /** Serialized as JSON with `Content-Type: application/json` unless `rawBody` is given. */
  json?: unknown;
  /** Sent as is (bad JSON, other media types). */
  rawBody?: string | Uint8Array;
  query?: HttpRequestInput['query'];
  headers?: Record<string, string>;
  principal?: string | null;
  stage?: string;
}

/** The API-Gateway proxy event for a request, as a deployed REST API would deliver it. */
export function apiEvent(method: string, path: string, options: RequestOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array | undefined = options.rawBody;
  if (options.json !== undefined && body === undefined) {
    body = JSON.stringify(options.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  return createProxyEvent({
    method,
    path,
    query: options.query,
    headers,
    body,
    principal: options.principal === null ? undefined : (options.principal ?? TEST_PRINCIPAL),
    stage: options.stage,
  });
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string>;
  body: T;
  raw: APIGatewayProxyResult;
}

export function decode(raw: APIGatewayProxyResult): ApiResponse {
  const headers = Object.fromEntries(Object.entries(raw.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return { status: raw.statusCode, headers, body: raw.body ? JSON.parse(raw.body) : undefined, raw };
}

/** Sends a request through the router to the route's real Lambda handler. */
export async function request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  return decode(await routeProxyEvent(apiEvent(method, path, options)));
}

/** Asserts the `{"error": {"code", "message"}}` envelope with the given status and code. */
export function expectError(response: ApiResponse, status: number, code?: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(typeof response.body?.error?.code).toBe('string');
  expect(typeof response.body?.error?.message).toBe('string');
  if (code) expect(response.body.error.code).toBe(code);
}

/** Asserts a success with the route's documented status and a body its response schema accepts. */
export function expectRouteSuccess(route: RouteDefinition, response: ApiResponse): void {
  expect(response.status, JSON.stringify(response.body)).toBe(route.response.status);
  const parsed = route.response.schema.safeParse(response.body);
  expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
}

export const newProjectBody = (name = 'shop') => ({ name, repo: { url: 'https://github.com/acme/shop.git' } });
