// DetectWork step "PrepareDetection" of statemachines/detect-work.asl.json: a snapshot of the project's default branch and the detectors to run.
import { PrepareDetectionInputSchema } from '../../lib/detection/inputs';
import { prepareDetection } from '../../lib/detection/workflow';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  secrets: () => import('../../lib/ports/aws/secrets'),
  repositories: () => import('../../lib/ports/aws/repository-host'),
  commands: () => import('../../lib/ports/aws/lambda-command-runner'),
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('PrepareDetection', PrepareDetectionInputSchema, (runtime, input) => prepareDetection(runtime, input));
