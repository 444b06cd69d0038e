// Pipeline step "RequestApproval" of statemachines/goal-pipeline.asl.json: stores the approval task token and announces the gate.
import { requestApproval } from '../../lib/pipeline/goals';
import { RequestApprovalInputSchema } from '../../lib/pipeline/inputs';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = pipelineStepHandler('RequestApproval', RequestApprovalInputSchema, requestApproval);
