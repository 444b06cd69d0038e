// GET /goals/{goalId}/events — the goal's event log after a sequence number.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { listGoalEvents } from '../../lib/api/goals';
import { ok } from '../../lib/api/http';
import { listGoalEventsRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

// Answers from the table alone: no port adapter in this bundle.
declareCellPorts({});

export const handler = apiHandler(listGoalEventsRoute, async ({ params, query }) => {
  const { events, lastSeq, hasMore } = await listGoalEvents(await apiDependencies(), params.goalId, query);
  return ok({ items: events, lastSeq, hasMore });
});
