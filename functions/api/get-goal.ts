// GET /goals/{goalId} — a goal with its plan, tasks, progress and cost.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { getGoalDetail } from '../../lib/api/goals';
import { ok } from '../../lib/api/http';
import { getGoalRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

// Answers from the table alone: no port adapter in this bundle.
declareCellPorts({});

export const handler = apiHandler(getGoalRoute, async ({ params }) => ok(await getGoalDetail(await apiDependencies(), params.goalId)));
