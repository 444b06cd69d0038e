// POST /goals/{goalId}/approvals — approves or rejects what the goal's pipeline waits on.
import { decideApproval } from '../../lib/api/approvals';
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { ok } from '../../lib/api/http';
import { decideApprovalRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  callbacks: () => import('../../lib/ports/aws/task-callbacks'),
});

export const handler = apiHandler(decideApprovalRoute, async ({ params, body, actor }) =>
  ok(await decideApproval(await apiDependencies(), params.goalId, body, actor)),
);
