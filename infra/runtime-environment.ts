// Names of the environment variables the runtime reads, as infra sets them. lib/runtime.ts and
// lib/store/config.ts pull the AWS SDK in at import, which synth has no use for, so their names are
// repeated here; test/infra/runtime-environment.test.ts keeps both sides equal.
import type { AgentRole } from '../lib/domain/settings';
import { AWS_PORTS_ENV } from '../lib/ports/aws/config';

export { AWS_PORTS_ENV };

/** lib/runtime.ts RUNTIME_ENV, the fields infra sets. */
export const RUNTIME_ENV_NAMES = {
  queueUrlPrefix: 'QUEUE_URL_',
  defaultModels: 'CAHOOTS_MODEL',
  taskTimeoutSeconds: 'TASK_TIMEOUT_SECONDS',
  heartbeatSeconds: 'HEARTBEAT_SECONDS',
  approvalTimeoutSeconds: 'APPROVAL_TIMEOUT_SECONDS',
  workspaceRoot: 'CAHOOTS_WORKSPACE_ROOT',
} as const;

/** lib/store/config.ts TABLE_NAME_ENV. */
export const TABLE_NAME_ENV = 'TABLE_NAME';

/** Which role an agent worker Lambda plays (functions/agents/agent-worker.ts). */
export const AGENT_ROLE_ENV = 'AGENT_ROLE';

/** Where Lambda may write: the only writable path, sized by the function's ephemeral storage. */
export const LAMBDA_WORKSPACE_ROOT = '/tmp/cahoots';

/** Agent checkpoints (conversation state of a run that continues in a new invocation) live here. */
export const CHECKPOINTS_PREFIX = 'checkpoints/';

export function queueUrlVariable(role: AgentRole): string {
  return `${RUNTIME_ENV_NAMES.queueUrlPrefix}${role.toUpperCase()}`;
}

/** `QUEUE_URL_<ROLE>` for each role given. */
export function queueUrlEnvironment(queueUrls: Partial<Record<AgentRole, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(queueUrls).map(([role, url]) => [queueUrlVariable(role as AgentRole), url]));
}
