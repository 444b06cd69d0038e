// DetectWork step "RecordDetection" of statemachines/detect-work.asl.json: the run recorded as an event and its snapshot removed.
import { RecordDetectionInputSchema } from '../../lib/detection/inputs';
import { recordDetection } from '../../lib/detection/workflow';
import { pipelineStepHandler } from '../../lib/pipeline/handler';

export const handler = pipelineStepHandler('RecordDetection', RecordDetectionInputSchema, (runtime, input) => recordDetection(runtime, input));
