// The environment infra gives the runtime's functions: the variable names come from the runtime's
// own SDK-free modules (lib/runtime-env.ts, lib/ports/aws/config.ts); the values are infra's.
import type { AgentRole } from '../lib/domain/settings';
import { AWS_PORTS_ENV } from '../lib/ports/aws/config';
import { AGENT_ROLE_ENV, queueUrlVariable, RUNTIME_ENV, TABLE_NAME_ENV } from '../lib/runtime-env';

export { AGENT_ROLE_ENV, AWS_PORTS_ENV, queueUrlVariable, RUNTIME_ENV, TABLE_NAME_ENV };

/** Where Lambda may write: the only writable path, sized by the function's ephemeral storage. */
export const LAMBDA_WORKSPACE_ROOT = '/tmp/cahoots';

/** Agent checkpoints (conversation state of a run that continues in a new invocation) live here. */
export const CHECKPOINTS_PREFIX = 'checkpoints/';

/** `QUEUE_URL_<ROLE>` for each role given. */
export function queueUrlEnvironment(queueUrls: Partial<Record<AgentRole, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(queueUrls).map(([role, url]) => [queueUrlVariable(role as AgentRole), url]));
}
