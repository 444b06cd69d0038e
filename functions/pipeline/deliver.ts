// Pipeline step "Deliver" of statemachines/goal-pipeline.asl.json: merges task branches into the
// goal branch and hands it to the delivery target.
import { deliverGoal } from '../../lib/pipeline/delivery';
import { GoalStepInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';

export const handler = pipelineStepHandler('Deliver', GoalStepInputSchema, (runtime, input) => deliverGoal(runtime, input));
