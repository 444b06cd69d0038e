// DetectWork step "RecordDetection" of statemachines/detect-work.asl.json: the run recorded as an event and its snapshot removed.
import { RecordDetectionInputSchema } from '../../lib/detection/inputs';
import { recordDetection } from '../../lib/detection/workflow';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  secrets: () => import('../../lib/ports/aws/secrets'),
  repositories: () => import('../../lib/ports/aws/repository-host'),
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('RecordDetection', RecordDetectionInputSchema, (runtime, input) => recordDetection(runtime, input));
