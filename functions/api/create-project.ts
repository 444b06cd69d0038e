// POST /projects — registers a repository as a project (Idempotency-Key honoured).
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { created } from '../../lib/api/http';
import { createProject } from '../../lib/api/projects';
import { createProjectRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  secrets: () => import('../../lib/ports/aws/secrets'),
  repositories: () => import('../../lib/ports/aws/repository-host'),
  schedules: () => import('../../lib/ports/aws/detection-scheduler'),
});

export const handler = apiHandler(createProjectRoute, async ({ body, actor }) => {
  const project = await createProject(await apiDependencies(), body, actor);
  return created(project, `/projects/${project.id}`);
});
