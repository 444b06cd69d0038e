// PATCH /projects/{projectId} — changes some of a project's settings.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { ok } from '../../lib/api/http';
import { updateProject } from '../../lib/api/projects';
import { updateProjectRoute } from '../../lib/api/routes';

export const handler = apiHandler(updateProjectRoute, async ({ params, body, actor }) =>
  ok(await updateProject(await apiDependencies(), params.projectId, body, actor)),
);
