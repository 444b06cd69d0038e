// Pipeline step "AssessGoal" of statemachines/goal-pipeline.asl.json: outcome metrics, lessons,
// and the goal marked SUCCEEDED.
import { assessGoal } from '../../lib/pipeline/assess';
import { GoalStepInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
  secrets: () => import('../../lib/ports/aws/secrets'),
  repositories: () => import('../../lib/ports/aws/repository-host'),
});

export const handler = pipelineStepHandler('AssessGoal', GoalStepInputSchema, assessGoal);
