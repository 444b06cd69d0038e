// PATCH /findings/{findingId} — dismisses or reopens a finding.
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { updateFinding } from '../../lib/api/findings';
import { ok } from '../../lib/api/http';
import { updateFindingRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({});

export const handler = apiHandler(updateFindingRoute, async ({ params, body, actor }) => ok(await updateFinding(await apiDependencies(), params.findingId, body, actor)));
