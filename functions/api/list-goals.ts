// GET /projects/{projectId}/goals — a page of the project's goals, optionally in one status.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { listGoals } from '../../lib/api/goals';
import { ok } from '../../lib/api/http';
import { listGoalsRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

// Answers from the table alone: no port adapter in this bundle.
declareCellPorts({});

export const handler = apiHandler(listGoalsRoute, async ({ params, query }) => ok(await listGoals(await apiDependencies(), params.projectId, query)));
