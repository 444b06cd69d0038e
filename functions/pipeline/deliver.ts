// Pipeline step "Deliver" of statemachines/goal-pipeline.asl.json: merges task branches into the
// goal branch and hands it to the delivery target.
import { deliverGoal } from '../../lib/pipeline/delivery';
import { GoalStepInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
  secrets: () => import('../../lib/ports/aws/secrets'),
  repositories: () => import('../../lib/ports/aws/repository-host'),
});

export const handler = pipelineStepHandler('Deliver', GoalStepInputSchema, (runtime, input) => deliverGoal(runtime, input));
