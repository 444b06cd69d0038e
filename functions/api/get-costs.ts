// GET /projects/{projectId}/costs — spend over a range of UTC days: total, by day, by model.
import { getCosts } from '../../lib/api/costs';
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { ok } from '../../lib/api/http';
import { getCostsRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

// Answers from the table alone: no port adapter in this bundle.
declareCellPorts({});

export const handler = apiHandler(getCostsRoute, async ({ params, query }) => ok(await getCosts(await apiDependencies(), params.projectId, query)));
