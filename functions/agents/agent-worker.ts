// Agent worker Lambda, one deployment per role (AGENT_ROLE): consumes its role queue with batch
// size 1 and reports partial batch failures, so a message that hit a transient error is
// redelivered (and, after maxReceiveCount, lands in the dead-letter queue for a person to see).
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AgentRoleSchema } from '../../lib/domain/settings';
import { observability } from '../../lib/middleware';
import { AgentMessageSchema, parseStepInput } from '../../lib/pipeline/inputs';
import { workAgentMessage } from '../../lib/pipeline/agent-worker';
import { logger } from '../../lib/powertools';
import { declareCellPorts, getRuntime } from '../../lib/runtime';
import { AGENT_ROLE_ENV } from '../../lib/runtime-env';

declareCellPorts({
  callbacks: () => import('../../lib/ports/aws/task-callbacks'),
  queue: () => import('../../lib/ports/aws/work-queue'),
  events: () => import('../../lib/ports/aws/event-publisher'),
  artifacts: () => import('../../lib/ports/aws/artifact-store'),
  secrets: () => import('../../lib/ports/aws/secrets'),
  repositories: () => import('../../lib/ports/aws/repository-host'),
  commands: () => import('../../lib/ports/aws/lambda-command-runner'),
});

const servedRole = process.env[AGENT_ROLE_ENV] ? AgentRoleSchema.parse(process.env[AGENT_ROLE_ENV]) : undefined;

export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const runtime = await getRuntime();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const message = parseStepInput(AgentMessageSchema, JSON.parse(record.body), 'agent worker');
      logger.appendKeys({ goalId: message.goalId, taskId: message.taskId, role: message.role });
      await workAgentMessage(runtime, message, {
        messageId: record.messageId,
        sentAtMs: Number(record.attributes?.SentTimestamp) || Date.now(),
        remainingMs: () => context.getRemainingTimeInMillis(),
        ...(servedRole ? { role: servedRole } : {}),
      });
    } catch (error) {
      logger.error('agent message failed; it will be redelivered', { messageId: record.messageId, error: error as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}).use(observability());
