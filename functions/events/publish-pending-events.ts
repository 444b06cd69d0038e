// Outbox sweeper, run every minute by EventBridge Scheduler (infra/constructs/outbox-sweeper.ts):
// publishes domain events whose first publication failed, so the bus sees every logged event.
// The schedule's event carries nothing this handler reads, so there is no input to parse.
import middy from '@middy/core';
import { observability } from '../../lib/middleware';
import { publishPendingEvents } from '../../lib/pipeline/events';
import { logger, metrics } from '../../lib/powertools';
import { declareCellPorts, getRuntime } from '../../lib/runtime';

declareCellPorts({
  events: () => import('../../lib/ports/aws/event-publisher'),
});

export const handler = middy(async (): Promise<{ published: number }> => {
  const published = await publishPendingEvents(await getRuntime());
  // A non-zero count means the bus was unreachable for a while; the metric shows how often.
  metrics.addMetric('OutboxEventsPublished', 'Count', published);
  if (published > 0) logger.info('published deferred events', { published });
  return { published };
}).use(observability());
