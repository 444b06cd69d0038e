// Pipeline step "DecidePlanApproval" of statemachines/goal-pipeline.asl.json: asks the autonomy policy whether a human must approve the plan.
import { decidePlanApproval } from '../../lib/pipeline/goals';
import { GoalStepInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('DecidePlanApproval', GoalStepInputSchema, decidePlanApproval);
