// The OpenAPI 3 document of the API, generated from the route table and its zod schemas — the
// same schemas the handlers validate with — so the document cannot describe a different API.
// Served at GET /openapi.json and written to docs/openapi.json by scripts/openapi.ts.
import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { IDEMPOTENCY_HEADER, IDEMPOTENT_REPLAY_HEADER } from './idempotency';
import { GITHUB_HEADERS } from '../webhooks/github-payloads';
import { API_ROUTES, type RouteDefinition } from './routes';
import { ErrorResponseSchema, MAX_BODY_BYTES } from './schemas';

export const API_VERSION = '1.0.0';

type OpenApiDocument = ReturnType<OpenApiGeneratorV3['generateDocument']>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request: invalid JSON (`InvalidJson`), a field or parameter that fails validation (`ValidationFailed`, with `details`), or a cursor this listing did not issue (`InvalidCursor`).',
  401: 'A webhook delivery without a valid `X-Hub-Signature-256` (`InvalidSignature`); nothing was stored.',
  404: 'No such project or goal (`NotFound`).',
  409: 'Conflict with the current state: wrong status, stale `expectedVersion`, `Idempotency-Key` reused with a different request, or already in progress.',
  413: `Request body larger than ${MAX_BODY_BYTES} bytes (\`PayloadTooLarge\`).`,
  415: 'A body that is not `application/json` (`UnsupportedMediaType`).',
  422: 'Well-formed but not applicable (`BudgetNotApplicable`, `InvalidInput`), or a repository this deployment cannot work on (`RepositoryNotAccessible`, `RepositoryPathNotSupported`, `RepositoryHostUnreachable`).',
  500: 'Unexpected server error (`InternalError`); logged, safe to retry idempotent calls.',
  503: 'The webhook secret is not configured, so no delivery can be verified (`WebhookNotConfigured`).',
};

const COMMON_ERRORS = [400, 404, 500] as const;

let cached: OpenApiDocument | undefined;

/** The document, built once per process. */
export function openApiDocument(): OpenApiDocument {
  cached ??= buildOpenApiDocument();
  return cached;
}

export function buildOpenApiDocument(routes: readonly RouteDefinition[] = API_ROUTES): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'sigv4', {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    description: 'AWS Signature Version 4 with the caller’s IAM credentials (API Gateway AWS_IAM authorization).',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  });

  for (const route of routes) {
    const statuses = [...new Set([...COMMON_ERRORS, ...route.errors])].sort((a, b) => a - b);
    const responses: Record<string, object> = {
      [route.response.status]: {
        description: route.response.description,
        ...(route.response.status === 200 ? {} : { headers: { Location: { description: 'Where the created resource can be read.', schema: { type: 'string' } } } }),
        content: { 'application/json': { schema: route.response.schema } },
      },
    };
    for (const status of statuses) {
      responses[status] = { description: ERROR_DESCRIPTIONS[status] ?? 'Error.', content: { 'application/json': { schema: ErrorResponseSchema } } };
    }
    if (route.idempotent) {
      const success = responses[route.response.status] as { headers?: Record<string, object> };
      success.headers = {
        ...success.headers,
        [IDEMPOTENT_REPLAY_HEADER]: { description: 'Present (`true`) when this is the stored response of an earlier request with the same key.', schema: { type: 'string' } },
      };
    }

    const signedByGitHub = route.auth === 'github-signature';
    registry.registerPath({
      method: route.method.toLowerCase() as 'get' | 'post' | 'patch',
      // GitHub signs the body instead of the request; no SigV4.
      ...(signedByGitHub ? { security: [] } : {}),
      path: route.path,
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description: route.description,
      request: {
        params: route.params as z.ZodObject,
        query: route.query as z.ZodObject,
        ...(route.idempotent
          ? {
              headers: z.object({
                [IDEMPOTENCY_HEADER]: z
                  .string()
                  .min(1)
                  .max(255)
                  .optional()
                  .meta({ description: 'Makes a retry safe: the same key with the same request returns the first response; with a different request, 409. Kept 24 hours.' }),
              }),
            }
          : {}),
        ...(signedByGitHub
          ? {
              headers: z.object({
                [GITHUB_HEADERS.signature]: z.string().meta({ description: '`sha256=` and the hex HMAC-SHA256 of the raw body with the webhook secret.' }),
                [GITHUB_HEADERS.event]: z.string().meta({ description: 'The event name: `issues`, `issue_comment`, `pull_request`, `ping` …', example: 'issues' }),
                [GITHUB_HEADERS.delivery]: z.string().meta({ description: 'The delivery id; a repeated id gets the first answer.' }),
              }),
            }
          : {}),
        ...(route.body
          ? { body: { required: route.body.required, content: { 'application/json': { schema: route.body.schema } } } }
          : {}),
      },
      responses,
    });
  }

  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Cahoots API',
      version: API_VERSION,
      description:
        'Give the Cahoots team goals, follow and steer their work, and read what it costs. Every error is `{"error": {"code", "message", "details"?}}`. See docs/api.md.',
    },
    security: [{ sigv4: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
  });
}
