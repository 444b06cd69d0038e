// GET /openapi.json — the API's OpenAPI 3 document, generated from the route table.
import { apiHandler } from '../../lib/api/handler';
import { ok } from '../../lib/api/http';
import { openApiDocument } from '../../lib/api/openapi';
import { getOpenApiRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

// Answers from the table alone: no port adapter in this bundle.
declareCellPorts({});

export const handler = apiHandler(getOpenApiRoute, async () => ok(openApiDocument()));
