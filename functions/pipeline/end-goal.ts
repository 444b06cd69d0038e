// Pipeline step "EndGoal" of statemachines/goal-pipeline.asl.json: ends a goal as failed or cancelled with its cause.
import { endGoal } from '../../lib/pipeline/goals';
import { EndGoalInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('EndGoal', EndGoalInputSchema, endGoal);
