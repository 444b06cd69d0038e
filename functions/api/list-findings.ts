// GET /projects/{projectId}/findings — a page of detected work, optionally in one status.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { listFindings } from '../../lib/api/findings';
import { ok } from '../../lib/api/http';
import { listFindingsRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

// Answers from the table alone: no port adapter in this bundle.
declareCellPorts({});

export const handler = apiHandler(listFindingsRoute, async ({ params, query }) => ok(await listFindings(await apiDependencies(), params.projectId, query)));
