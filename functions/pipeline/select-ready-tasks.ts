// Pipeline step "SelectReadyTasks" of statemachines/goal-pipeline.asl.json: picks the next wave of tasks whose dependencies succeeded.
import { selectReadyTasks } from '../../lib/pipeline/tasks';
import { GoalStepInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('SelectReadyTasks', GoalStepInputSchema, selectReadyTasks);
