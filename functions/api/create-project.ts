// POST /projects — registers a repository as a project (Idempotency-Key honoured).
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { created } from '../../lib/api/http';
import { createProject } from '../../lib/api/projects';
import { createProjectRoute } from '../../lib/api/routes';

export const handler = apiHandler(createProjectRoute, async ({ body, actor }) => {
  const project = await createProject(await apiDependencies(), body, actor);
  return created(project, `/projects/${project.id}`);
});
