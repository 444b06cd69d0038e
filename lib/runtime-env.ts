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
  modelTimeoutSeconds: 'MODEL_TIMEOUT_SECONDS',
  sandboxNetwork: 'CAHOOTS_SANDBOX_NETWORK',
  installNetwork: 'CAHOOTS_INSTALL_NETWORK',
  deployment: 'CAHOOTS_DEPLOYMENT',
  egress: 'CAHOOTS_EGRESS',
  /** The npm registry the dependency detectors ask for advisories and latest versions. */
  npmRegistry: 'CAHOOTS_NPM_REGISTRY',
  /** JSON: the customer file's `projectDefaults`, for projects created through the API. */
  projectDefaults: 'CAHOOTS_PROJECT_DEFAULTS',
  /** The secrets-port name of the API key sent to OpenAI-compatible model servers, if they need one. */
  openAiApiKeySecret: 'CAHOOTS_OPENAI_API_KEY_SECRET',
} as const;

/**
 * The secrets each kind of function reads through the secrets port, by purpose. In a cell each is
 * the Secrets Manager secret `cahoots/<customerId>/<name>`; locally `CAHOOTS_SECRET_<NAME>` or the
 * secrets file. The credential names are the ones the repository adapters read
 * (lib/ports/repository/credentials.ts; a test keeps the two lists equal).
 */
export const SECRET_NAMES = {
  /** Git host credentials, created by the customer: a GitHub App, a GitHub token, or a plain git token. */
  gitHostCredentials: ['github/app', 'github/token', 'git/token', 'git/username'],
  /** The shared secret GitHub signs webhook deliveries with (X-Hub-Signature-256); created by the cell. */
  githubWebhookSecret: ['github/webhook-secret'],
} as const;
export type SecretPurpose = keyof typeof SECRET_NAMES;

/** The webhook secret's name. */
export const GITHUB_WEBHOOK_SECRET = SECRET_NAMES.githubWebhookSecret[0];

/** The table the store uses (lib/store/config.ts reads it). */
export const TABLE_NAME_ENV = 'TABLE_NAME';

/** Which role an agent worker Lambda plays (functions/agents/agent-worker.ts). */
export const AGENT_ROLE_ENV = 'AGENT_ROLE';

export function queueUrlVariable(role: string): string {
  return `${RUNTIME_ENV.queueUrlPrefix}${role.toUpperCase()}`;
}
