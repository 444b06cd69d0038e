// POST /findings/{findingId}/goal — turns an open finding into a goal and starts it (202).
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { createGoalFromFinding } from '../../lib/api/findings';
import { accepted } from '../../lib/api/http';
import { createFindingGoalRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  pipeline: () => import('../../lib/ports/aws/pipeline-starter'),
});

export const handler = apiHandler(createFindingGoalRoute, async ({ params, body, actor }) => {
  const goal = await createGoalFromFinding(await apiDependencies(), params.findingId, body ?? {}, actor);
  return accepted(goal, `/goals/${goal.id}`);
});
