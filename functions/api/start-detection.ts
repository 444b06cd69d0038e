// POST /projects/{projectId}/detections — starts a DetectWork run now (202).
import { apiHandler } from '../../lib/api/handler';
import { apiDependencies } from '../../lib/api/dependencies';
import { startDetection } from '../../lib/api/findings';
import { accepted } from '../../lib/api/http';
import { startDetectionRoute } from '../../lib/api/routes';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  detection: () => import('../../lib/ports/aws/detection-starter'),
});

export const handler = apiHandler(startDetectionRoute, async ({ params }) => {
  const started = await startDetection(await apiDependencies(), params.projectId);
  return accepted(started, `/projects/${params.projectId}/findings`);
});
