// Pipeline step "AssessGoal" of statemachines/goal-pipeline.asl.json: outcome metrics, lessons,
// and the goal marked SUCCEEDED.
import { assessGoal } from '../../lib/pipeline/assess';
import { GoalStepInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';

export const handler = pipelineStepHandler('AssessGoal', GoalStepInputSchema, assessGoal);
