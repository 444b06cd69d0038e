// DetectWork step "RunDetector" of statemachines/detect-work.asl.json: one detector on the snapshot; its findings go to the artifact store.
import { RunDetectorInputSchema } from '../../lib/detection/inputs';
import { runDetector } from '../../lib/detection/workflow';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  commands: () => import('../../lib/ports/aws/lambda-command-runner'),
  artifacts: () => import('../../lib/ports/aws/artifact-store'),
  events: () => import('../../lib/ports/aws/event-publisher'),
  // The issue detector lists labelled issues through the repository host, which reads its token from
  // secrets; the analyst's model gateway reads the OpenAI-compatible key there too (Bedrock needs none).
  repositories: () => import('../../lib/ports/aws/repository-host'),
  secrets: () => import('../../lib/ports/aws/secrets'),
  // The alarm detector reads the project's CloudWatch alarms.
  alarms: () => import('../../lib/ports/aws/alarm-reader'),
});

export const handler = pipelineStepHandler('RunDetector', RunDetectorInputSchema, (runtime, input) => runDetector(runtime, input));
