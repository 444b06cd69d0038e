// Pipeline step "OpenQualityGate" of statemachines/goal-pipeline.asl.json: creates this round's reviewer and QA tasks.
import { openQualityGate } from '../../lib/pipeline/quality-gate';
import { GoalStepInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('OpenQualityGate', GoalStepInputSchema, openQualityGate);
