// POST /webhooks/github — a GitHub delivery: signature checked, then a goal, an outcome or nothing.
import { githubWebhookHandler } from '../../lib/webhooks/handler';

export const handler = githubWebhookHandler;
