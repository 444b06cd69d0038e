// GET /projects/{projectId} — one project with its settings.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { ok } from '../../lib/api/http';
import { getProject } from '../../lib/api/projects';
import { getProjectRoute } from '../../lib/api/routes';

export const handler = apiHandler(getProjectRoute, async ({ params }) => ok(await getProject(await apiDependencies(), params.projectId)));
