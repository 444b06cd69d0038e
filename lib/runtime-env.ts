// The environment variables the runtime reads, in a module with no imports, so infra can name
// them when it sets a function's environment without loading the runtime (or the AWS SDK).
/** The environment variables the runtime config reads. */
export const RUNTIME_ENV = {
  queueUrlPrefix: 'QUEUE_URL_',
  defaultModels: 'CAHOOTS_MODEL',
  taskTimeoutSeconds: 'TASK_TIMEOUT_SECONDS',
  heartbeatSeconds: 'HEARTBEAT_SECONDS',
  approvalTimeoutSeconds: 'APPROVAL_TIMEOUT_SECONDS',
  workspaceRoot: 'CAHOOTS_WORKSPACE_ROOT',
  prices: 'CAHOOTS_PRICES',
  maxOutputTokens: 'MAX_OUTPUT_TOKENS',
  maxAgentTurns: 'MAX_AGENT_TURNS',
  sandboxNetwork: 'CAHOOTS_SANDBOX_NETWORK',
} as const;

/** The table the store uses (lib/store/config.ts reads it). */
export const TABLE_NAME_ENV = 'TABLE_NAME';

/** Which role an agent worker Lambda plays (functions/agents/agent-worker.ts). */
export const AGENT_ROLE_ENV = 'AGENT_ROLE';

export function queueUrlVariable(role: string): string {
  return `${RUNTIME_ENV.queueUrlPrefix}${role.toUpperCase()}`;
}
