// DetectWork step "MergeFindings" of statemachines/detect-work.asl.json: the run's findings filed, scored and merged; what is gone resolved.
import { MergeFindingsInputSchema } from '../../lib/detection/inputs';
import { mergeFindings } from '../../lib/detection/workflow';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  artifacts: () => import('../../lib/ports/aws/artifact-store'),
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('MergeFindings', MergeFindingsInputSchema, (runtime, input) => mergeFindings(runtime, input));
