// POST /projects/{projectId}/goals — stores a goal and starts its pipeline; 202 with a Location.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { createGoal } from '../../lib/api/goals';
import { accepted } from '../../lib/api/http';
import { createGoalRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  pipeline: () => import('../../lib/ports/aws/pipeline-starter'),
});

export const handler = apiHandler(createGoalRoute, async ({ params, body, actor }) => {
  const goal = await createGoal(await apiDependencies(), params.projectId, body, actor);
  return accepted(goal, `/goals/${goal.id}`);
});
