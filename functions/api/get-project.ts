// GET /projects/{projectId} — one project with its settings.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { ok } from '../../lib/api/http';
import { getProject } from '../../lib/api/projects';
import { getProjectRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

// Answers from the table alone: no port adapter in this bundle.
declareCellPorts({});

export const handler = apiHandler(getProjectRoute, async ({ params }) => ok(await getProject(await apiDependencies(), params.projectId)));
