// Pipeline step "RecordTaskFailure" of statemachines/goal-pipeline.asl.json: marks a task failed for good and blocks its dependants.
import { recordTaskFailure } from '../../lib/pipeline/tasks';
import { RecordTaskFailureInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('RecordTaskFailure', RecordTaskFailureInputSchema, recordTaskFailure);
