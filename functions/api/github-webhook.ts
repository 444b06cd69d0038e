// POST /webhooks/github — a GitHub delivery: signature checked, then a goal, an outcome or nothing.
import { githubWebhookHandler } from '../../lib/webhooks/handler';
import { declareCellPorts } from '../../lib/runtime';

declareCellPorts({
  pipeline: () => import('../../lib/ports/aws/pipeline-starter'),
  secrets: () => import('../../lib/ports/aws/secrets'),
  repositories: () => import('../../lib/ports/aws/repository-host'),
});

export const handler = githubWebhookHandler;
