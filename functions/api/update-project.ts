// PATCH /projects/{projectId} — changes some of a project's settings.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { ok } from '../../lib/api/http';
import { updateProject } from '../../lib/api/projects';
import { updateProjectRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  secrets: () => import('../../lib/ports/aws/secrets'),
  repositories: () => import('../../lib/ports/aws/repository-host'),
  schedules: () => import('../../lib/ports/aws/detection-scheduler'),
});

export const handler = apiHandler(updateProjectRoute, async ({ params, body, actor }) =>
  ok(await updateProject(await apiDependencies(), params.projectId, body, actor)),
);
