// The environment infra gives the runtime's functions: the variable names come from the runtime's
// own SDK-free modules (lib/runtime-env.ts, lib/ports/aws/config.ts); the values are infra's.
import type { AgentRole } from '../lib/domain/settings';
import { AWS_PORTS_ENV } from '../lib/ports/aws/config';
import { AGENT_ROLE_ENV, queueUrlVariable, RUNTIME_ENV, TABLE_NAME_ENV } from '../lib/runtime-env';
import type { EgressMode } from './config/customer-config';

export { AGENT_ROLE_ENV, AWS_PORTS_ENV, queueUrlVariable, RUNTIME_ENV, TABLE_NAME_ENV };

/**
 * CAHOOTS_WORKSPACE_ROOT of every function that mounts the cell workspace (EFS): where the project
 * mirrors and goal working copies live, shared by every worker, step and continuation. Lambda
 * requires mounts under /mnt.
 */
export const CELL_WORKSPACE_ROOT = '/mnt/workspace';

/** Agent checkpoints (conversation state of a run that continues in a new invocation) live here. */
export const CHECKPOINTS_PREFIX = 'checkpoints/';

/** `QUEUE_URL_<ROLE>` for each role given. */
export function queueUrlEnvironment(queueUrls: Partial<Record<AgentRole, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(queueUrls).map(([role, url]) => [queueUrlVariable(role as AgentRole), url]));
}

/**
 * Tells the runtime it runs in a cell (not the local runtime) and how far the cell's network
 * reaches, so the API can refuse what a cell cannot do (a `repo.path`, a host it cannot reach).
 */
export function cellDeploymentEnvironment(egress: EgressMode): Record<string, string> {
  return { [RUNTIME_ENV.deployment]: 'cell', [RUNTIME_ENV.egress]: egress };
}
