// One client for the Cahoots HTTP API, whatever serves it: a deployed API Gateway (requests signed
// with SigV4), a `cahoots dev` server on this machine, or the route handlers called in-process on
// an open data directory. Responses are checked with the API's own zod schemas.
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { CreateProjectInput, Status } from '../domain/index';
import { ProjectSchema, type Project } from '../domain/project';
import {
  CostReportSchema,
  EventPageSchema,
  GoalDetailSchema,
  GoalPageSchema,
  PublicGoalSchema,
  type CostReport,
  type GoalDetail,
  type PublicGoal,
} from '../api/schemas';
import { LOCAL_PROJECTS_ROUTE } from '../local/http-server';
import { ApiRequestError, ApiUnreachableError } from './errors';

export type EventPage = z.infer<typeof EventPageSchema>;
export type GoalPage = z.infer<typeof GoalPageSchema>;

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH';
  /** Route path as in docs/api.md, e.g. `/goals/goal_…/events`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** How a request reaches the handlers. */
export interface ApiTransport {
  /** Where requests go, for messages. */
  readonly description: string;
  send(request: ApiRequest): Promise<ApiResponse>;
}

/** Signs a request before it is sent (SigV4 for a deployed API). */
export type RequestSigner = (request: { method: string; url: URL; headers: Record<string, string>; body?: string }) => Promise<Record<string, string>>;

/** Over HTTP: a `cahoots dev` server or, with a signer, a deployed API (base URL includes the stage). */
export class HttpTransport implements ApiTransport {
  readonly description: string;

  constructor(
    private readonly baseUrl: string,
    private readonly signer?: RequestSigner,
    private readonly timeoutMs = 30_000,
  ) {
    this.description = baseUrl;
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    const url = new URL(this.baseUrl.replace(/\/+$/, '') + request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    let headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.signer) headers = await this.signer({ method: request.method, url, headers, ...(body !== undefined ? { body } : {}) });
    let response: Response;
    try {
      response = await fetch(url, { method: request.method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new ApiUnreachableError(this.baseUrl, (error as { cause?: unknown }).cause ?? error);
    }
    const text = await response.text();
    return { status: response.status, body: parseBody(text) };
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const ErrorEnvelope = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

export class CahootsApiClient {
  constructor(readonly transport: ApiTransport) {}

  private async call<T extends z.ZodType>(schema: T, request: ApiRequest): Promise<z.output<T>> {
    const response = await this.transport.send(request);
    if (response.status >= 400) {
      const envelope = ErrorEnvelope.safeParse(response.body);
      if (envelope.success) throw new ApiRequestError(response.status, envelope.data.error.code, envelope.data.error.message, envelope.data.error.details);
      // API Gateway's own refusals (403 without a signature, 5xx from the edge) can come bare.
      const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
      throw new ApiRequestError(response.status, `HTTP${response.status}`, text.slice(0, 300) || 'no body');
    }
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      throw new ApiRequestError(response.status, 'UnexpectedResponse', `${request.method} ${request.path} answered in an unexpected shape: ${z.prettifyError(parsed.error).slice(0, 500)}`);
    }
    return parsed.data;
  }

  createProject(body: CreateProjectInput, idempotencyKey: string = randomUUID()): Promise<Project> {
    return this.call(ProjectSchema, { method: 'POST', path: '/projects', body, headers: { 'idempotency-key': idempotencyKey } });
  }

  getProject(projectId: string): Promise<Project> {
    return this.call(ProjectSchema, { method: 'GET', path: `/projects/${encodeURIComponent(projectId)}` });
  }

  updateProject(projectId: string, patch: Record<string, unknown>): Promise<Project> {
    return this.call(ProjectSchema, { method: 'PATCH', path: `/projects/${encodeURIComponent(projectId)}`, body: patch });
  }

  createGoal(projectId: string, body: Record<string, unknown>, idempotencyKey: string = randomUUID()): Promise<PublicGoal> {
    return this.call(PublicGoalSchema, { method: 'POST', path: `/projects/${encodeURIComponent(projectId)}/goals`, body, headers: { 'idempotency-key': idempotencyKey } });
  }

  listGoals(projectId: string, query: { status?: Status; limit?: number; cursor?: string } = {}): Promise<GoalPage> {
    return this.call(GoalPageSchema, { method: 'GET', path: `/projects/${encodeURIComponent(projectId)}/goals`, query: stringQuery(query) });
  }

  /** Every goal of a project, newest first, following cursors. */
  async listAllGoals(projectId: string, status?: Status): Promise<PublicGoal[]> {
    const all: PublicGoal[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listGoals(projectId, { limit: 100, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.items.length > 0 ? page.cursor : undefined;
    } while (cursor);
    return all;
  }

  getGoal(goalId: string): Promise<GoalDetail> {
    return this.call(GoalDetailSchema, { method: 'GET', path: `/goals/${encodeURIComponent(goalId)}` });
  }

  listEvents(goalId: string, after = 0, limit = 100): Promise<EventPage> {
    return this.call(EventPageSchema, { method: 'GET', path: `/goals/${encodeURIComponent(goalId)}/events`, query: stringQuery({ after, limit }) });
  }

  decideApproval(goalId: string, body: { decision: 'approve' | 'reject'; comment?: string; budgetUsd?: number }): Promise<PublicGoal> {
    return this.call(PublicGoalSchema, { method: 'POST', path: `/goals/${encodeURIComponent(goalId)}/approvals`, body });
  }

  cancelGoal(goalId: string, reason?: string): Promise<PublicGoal> {
    return this.call(PublicGoalSchema, { method: 'POST', path: `/goals/${encodeURIComponent(goalId)}/cancel`, body: reason ? { reason } : {} });
  }

  getCosts(projectId: string, query: { from?: string; to?: string } = {}): Promise<CostReport> {
    return this.call(CostReportSchema, { method: 'GET', path: `/projects/${encodeURIComponent(projectId)}/costs`, query: stringQuery(query) });
  }

  /**
   * Every project. Not a route of the deployed API (projects are named in its configuration);
   * `cahoots dev` and an open data directory answer it at LOCAL_PROJECTS_ROUTE.
   */
  listProjects(): Promise<Project[]> {
    return this.call(z.object({ items: z.array(ProjectSchema) }), { method: 'GET', path: LOCAL_PROJECTS_ROUTE }).then((page) => page.items);
  }
}

function stringQuery(query: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) if (value !== undefined) out[name] = String(value);
  return out;
}
