// POST /goals/{goalId}/cancel — stops the goal's pipeline and marks it CANCELLED.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { cancelGoal } from '../../lib/api/goals';
import { ok } from '../../lib/api/http';
import { cancelGoalRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  pipeline: () => import('../../lib/ports/aws/pipeline-starter'),
});

export const handler = apiHandler(cancelGoalRoute, async ({ params, body, actor }) => ok(await cancelGoal(await apiDependencies(), params.goalId, body, actor)));
