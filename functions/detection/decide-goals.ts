// DetectWork step "DecideGoals" of statemachines/detect-work.asl.json: goals for the top findings, as the autonomy level allows.
import { DecideGoalsInputSchema } from '../../lib/detection/inputs';
import { decideGoals } from '../../lib/detection/workflow';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  pipeline: () => import('../../lib/ports/aws/pipeline-starter'),
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('DecideGoals', DecideGoalsInputSchema, (runtime, input) => decideGoals(runtime, input));
