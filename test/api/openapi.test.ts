import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../lib/api/openapi';
import { API_ROUTES } from '../../lib/api/routes';
import { OPENAPI_FILE, openApiFileText } from '../../scripts/openapi';

describe('OpenAPI document', () => {
  it('docs/openapi.json is what the code generates (run `npm run openapi` after changing the API)', () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    expect(committed === openApiFileText(), 'docs/openapi.json is out of date: run `npm run openapi`').toBe(true);
  });

  it('describes every route of the table with its operation, parameters, body and responses', () => {
    const document = buildOpenApiDocument();
    for (const route of API_ROUTES) {
      const operation = document.paths?.[route.path]?.[route.method.toLowerCase() as 'get'];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation?.operationId).toBe(route.operationId);
      expect(Object.keys(operation?.responses ?? {})).toContain(String(route.response.status));
      for (const status of [400, 404, 500, ...route.errors]) expect(Object.keys(operation?.responses ?? {})).toContain(String(status));
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const documented = (operation?.parameters ?? []).filter((p) => 'in' in p && p.in === 'path').map((p) => ('name' in p ? p.name : ''));
      expect(documented).toEqual(pathParameters);
      expect(operation?.requestBody !== undefined).toBe(route.body !== undefined);
      const headers = (operation?.parameters ?? []).filter((p) => 'in' in p && p.in === 'header').map((p) => ('name' in p ? p.name : ''));
      const signed = route.auth === 'github-signature';
      expect(headers).toEqual(route.idempotent ? ['Idempotency-Key'] : signed ? ['X-Hub-Signature-256', 'X-GitHub-Event', 'X-GitHub-Delivery'] : []);
      // The webhook is the one operation that opts out of SigV4.
      expect(operation?.security).toEqual(signed ? [] : undefined);
    }
    expect(Object.values(document.paths ?? {}).flatMap((item) => Object.keys(item)).length).toBe(API_ROUTES.length);
  });

  it('resolves every $ref to a component and never exposes the approval task token', () => {
    const document = buildOpenApiDocument();
    const text = JSON.stringify(document);
    for (const [, name] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      expect(document.components?.schemas?.[name as string], name).toBeDefined();
    }
    expect(text).not.toContain('taskToken');
    expect(document.security).toEqual([{ sigv4: [] }]);
  });
});
