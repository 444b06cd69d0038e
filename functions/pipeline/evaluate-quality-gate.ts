// Pipeline step "EvaluateQualityGate" of statemachines/goal-pipeline.asl.json: turns verdicts into deliver, rework or failure.
import { evaluateQualityGate } from '../../lib/pipeline/quality-gate';
import { GoalStepInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('EvaluateQualityGate', GoalStepInputSchema, evaluateQualityGate);
