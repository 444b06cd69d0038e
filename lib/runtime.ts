// The runtime a handler works in: the store, the ports and the pipeline settings, assembled once
// per process. In Lambda it is built lazily from the environment, with the AWS adapters of the
// ports its handler declared (declareCellPorts); the local runtime and tests install their own with
// setRuntime, so handlers never know which one they got.
import * as z from 'zod';
import { CahootsError } from './domain/errors';
import { SecretNameSchema } from './domain/common';
import { AGENT_ROLES, ProjectDefaultsSchema, type AgentRole } from './domain/settings';
import { DEFAULT_TIMEOUT_MS, parseModelPolicy, PriceOverridesSchema } from './models/index';
import type { Ports } from './ports/index';
import { assembleCellPorts, type CellPortLoaders, loadCellPorts } from './ports/aws/cell-ports';
import { readAwsPortsConfig } from './ports/aws/config';
import { queueUrlVariable, RUNTIME_ENV } from './runtime-env';
import { createStore, type Store } from './store/index';
import { defaultWorkspaceRoot } from './workspace/workspace-root';

export { RUNTIME_ENV };

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const RuntimeConfigSchema = z.object({
  /** Queue URL per agent role (SQS URLs in AWS, local://queues/<role> locally). */
  queueUrls: z.partialRecord(z.enum(AGENT_ROLES), z.string().min(1)),
  /** Models used when a project has no policy for a role, cheapest first (CAHOOTS_MODEL). */
  defaultModels: z.array(z.string()).default([]),
  /** How long one agent task may take before Step Functions fails it with States.Timeout. */
  taskTimeoutSeconds: seconds(1, 86_400).default(3_600),
  /** An agent sends a heartbeat at least this often; missing it fails the task (States.HeartbeatTimeout). */
  heartbeatSeconds: seconds(1, 3_600).default(300),
  /** How long a human approval may wait before the goal is cancelled. */
  approvalTimeoutSeconds: seconds(1, 2_592_000).default(259_200),
  /**
   * Root of the shared workspace: repository mirrors and task working copies (docs/workspace.md).
   * In a cell the EFS mount; locally the data directory's `workspaces` folder.
   */
  workspaceRoot: z.string().min(1).optional(),
  /** Per-model price overrides merged over the built-in table. */
  prices: PriceOverridesSchema.optional(),
  /** Largest reply an agent may ask a model for, per call. */
  maxOutputTokens: z.coerce.number().int().min(256).max(64_000).default(4_096),
  /** Turn limit of one agent run. */
  maxAgentTurns: z.coerce.number().int().min(2).max(500).default(60),
  /**
   * How long one model call may take before it counts as a retryable timeout. The default fits a
   * long answer from a slow model; a local model server may need more, a fault drill much less.
   */
  modelTimeoutSeconds: seconds(1, 900).default(DEFAULT_TIMEOUT_MS / 1000),
  /**
   * Commands agents run get no network (`none`: a private network namespace with loopback only)
   * where the machine allows it; `inherit` gives them the host's. In Lambda, where namespaces are
   * not available, the cell's VPC egress setting is what limits them.
   */
  sandboxNetwork: z.enum(['none', 'inherit']).default('none'),
  /**
   * The network of the dependency install that runs before a working copy's first command (the
   * project's `setup`): `inherit` (the default) lets it reach the package registry; `none` keeps it
   * in the same loopback-only namespace as commands, for setups that install offline. Commands
   * themselves keep `sandboxNetwork` either way.
   */
  installNetwork: z.enum(['none', 'inherit']).default('inherit'),
  /**
   * `cell` in a deployed cell (infra sets it), `local` for the local runtime. A cell refuses what
   * it cannot do, e.g. a project with `repo.path`: every Lambda environment has its own disk.
   */
  deployment: z.enum(['local', 'cell']).default('local'),
  /**
   * The cell's network egress (`nat`: the internet through a NAT gateway, `none`: no route out).
   * Unset locally, where the machine's network applies.
   */
  egress: z.enum(['nat', 'none']).optional(),
  /**
   * The npm registry the dependency detectors ask (advisories, latest versions), from their own
   * process. In a cell without egress they cannot: CodeArtifact offers neither the bulk advisory
   * endpoint nor a way out to npmjs.
   */
  npmRegistry: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).default('https://registry.npmjs.org/'),
  /** The deployment's settings for new projects; unset locally, where the domain defaults apply. */
  projectDefaults: ProjectDefaultsSchema.optional(),
  /**
   * The secret (read through the secrets port) holding the API key for OpenAI-compatible model
   * servers. Unset: the OPENAI_API_KEY variable locally, no key at all in a cell.
   */
  openAiApiKeySecret: SecretNameSchema.optional(),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
export type RuntimeConfigInput = z.input<typeof RuntimeConfigSchema>;


export class RuntimeConfigError extends CahootsError {
  readonly code = 'RuntimeConfig';
  readonly stepFunctionsError = 'Pipeline.RuntimeConfig';
  readonly permanent = true;
}

/** Reads the runtime settings from the environment; a bad value names its variable. */
export function readRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const queueUrls: Partial<Record<AgentRole, string>> = {};
  for (const role of AGENT_ROLES) {
    const url = env[queueUrlVariable(role)];
    if (url) queueUrls[role] = url;
  }
  const prices = jsonVariable(env, RUNTIME_ENV.prices);
  const projectDefaults = jsonVariable(env, RUNTIME_ENV.projectDefaults);
  const raw = {
    queueUrls,
    defaultModels: parseModelPolicy(env[RUNTIME_ENV.defaultModels]) ?? [],
    taskTimeoutSeconds: env[RUNTIME_ENV.taskTimeoutSeconds] || undefined,
    heartbeatSeconds: env[RUNTIME_ENV.heartbeatSeconds] || undefined,
    approvalTimeoutSeconds: env[RUNTIME_ENV.approvalTimeoutSeconds] || undefined,
    workspaceRoot: env[RUNTIME_ENV.workspaceRoot] || undefined,
    prices,
    maxOutputTokens: env[RUNTIME_ENV.maxOutputTokens] || undefined,
    maxAgentTurns: env[RUNTIME_ENV.maxAgentTurns] || undefined,
    modelTimeoutSeconds: env[RUNTIME_ENV.modelTimeoutSeconds] || undefined,
    sandboxNetwork: env[RUNTIME_ENV.sandboxNetwork] || undefined,
    installNetwork: env[RUNTIME_ENV.installNetwork] || undefined,
    deployment: env[RUNTIME_ENV.deployment] || undefined,
    egress: env[RUNTIME_ENV.egress] || undefined,
    npmRegistry: env[RUNTIME_ENV.npmRegistry] || undefined,
    projectDefaults,
    openAiApiKeySecret: env[RUNTIME_ENV.openAiApiKeySecret] || undefined,
  };
  return parseRuntimeConfig(raw);
}

/** A variable holding JSON, parsed; undefined when unset or empty. */
function jsonVariable(env: NodeJS.ProcessEnv, name: string): unknown {
  const text = env[name];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RuntimeConfigError(`${name} is not valid JSON`);
  }
}

export function parseRuntimeConfig(input: RuntimeConfigInput | Record<string, unknown>): RuntimeConfig {
  const result = RuntimeConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    if (field === 'queueUrls') return `${queueUrlVariable(String(issue.path[1] ?? ''))}: ${issue.message}`;
    const variable = RUNTIME_ENV[field as keyof typeof RUNTIME_ENV] ?? field;
    // JSON variables: say where inside the value the problem is.
    const inside = issue.path.slice(1).map(String).join('.');
    return `${variable}${inside ? ` at ${inside}` : ''}: ${issue.message}`;
  });
  throw new RuntimeConfigError(`Invalid runtime configuration: ${problems.join('; ')}`);
}

export interface Runtime {
  store: Store;
  ports: Ports;
  config: RuntimeConfig;
}

let installed: Runtime | undefined;
let building: Promise<Runtime> | undefined;
let declaredPorts: CellPortLoaders = {};

/**
 * Declares the ports this function uses in a cell, each with its AWS adapter module; a handler
 * calls it once at module scope, e.g.
 * `declareCellPorts({ pipeline: () => import('../../lib/ports/aws/pipeline-starter') })`.
 * Only the adapters named here end up in the function's bundle; a port left out fails on use with
 * PortNotDeclaredError. The modules load when the cell runtime is first built, so the local
 * runtime and tests, which install all their ports with setRuntime, never load them.
 */
export function declareCellPorts(loaders: CellPortLoaders): void {
  declaredPorts = { ...declaredPorts, ...loaders };
}

/** Installs the runtime for this process (local runtime, tests). */
export function setRuntime(runtime: Runtime | undefined): void {
  installed = runtime;
  building = undefined;
}

/** The runtime of this process; in Lambda, built on first use from the environment and the declared ports. */
export function getRuntime(): Promise<Runtime> {
  if (installed) return Promise.resolve(installed);
  building ??= (async () => {
    const config = readRuntimeConfig();
    const factories = await loadCellPorts(declaredPorts);
    const ports = assembleCellPorts(factories, readAwsPortsConfig(), config.workspaceRoot ?? defaultWorkspaceRoot());
    installed = { store: createStore(), ports, config };
    return installed;
  })().catch((error: unknown) => {
    // A missing variable must not poison the process for good; the next call tries again.
    building = undefined;
    throw error;
  });
  return building;
}
