// Pipeline step "StartGoal" of statemachines/goal-pipeline.asl.json: marks the goal running and prepares its planning task.
import { startGoal } from '../../lib/pipeline/goals';
import { StartGoalInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('StartGoal', StartGoalInputSchema, startGoal);
