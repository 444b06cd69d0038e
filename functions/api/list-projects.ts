// GET /projects — a page of the deployment's projects, newest first.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { ok } from '../../lib/api/http';
import { listProjects } from '../../lib/api/projects';
import { listProjectsRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

// Answers from the table alone: no port adapter in this bundle.
declareCellPorts({});

export const handler = apiHandler(listProjectsRoute, async ({ query }) => ok(await listProjects(await apiDependencies(), query)));
