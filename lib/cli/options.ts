// Parses and checks the CLI's flag values. Each failure is a UsageError naming the flag, what was
// wrong and what a good value looks like, so the person can fix the command line at once.
import { isAbsolute, resolve } from 'node:path';
import { GoalIdSchema, ProjectIdSchema } from '../domain/ids';
// The spec parser alone: the model index would load every provider's SDK before a flag is checked.
import { InvalidModelSpecError } from '../models/errors';
import { parseModelSpec, type ParsedModelSpec } from '../models/spec';
import type { RuntimeConfig } from '../runtime';
import { UsageError } from './errors';

export const APPROVE_MODES = ['auto', 'prompt'] as const;
export type ApproveMode = (typeof APPROVE_MODES)[number];

/**
 * `--model` values (repeatable, each may be a comma-separated list) in order, cheapest first;
 * falls back to CAHOOTS_MODEL. Replay paths are made absolute so the worker finds them
 * whatever its working directory.
 */
export function parseModels(values: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ParsedModelSpec[] {
  const fromFlag = (values ?? []).flatMap(splitList);
  const source = fromFlag.length > 0 ? '--model' : 'CAHOOTS_MODEL';
  const specs = fromFlag.length > 0 ? fromFlag : splitList(env.CAHOOTS_MODEL ?? '');
  if (specs.length === 0) {
    throw new UsageError(
      'no model given: pass --model <spec> (e.g. --model bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0, ' +
        '--model openai:llama3.1@http://localhost:11434/v1 or --model replay:script.json) or set CAHOOTS_MODEL',
      '--model',
    );
  }
  if (specs.length > 8) throw new UsageError(`${source}: at most 8 models may be given, cheapest first; got ${specs.length}`, '--model');
  return specs.map((spec) => {
    let parsed: ParsedModelSpec;
    try {
      parsed = parseModelSpec(spec);
    } catch (error) {
      if (error instanceof InvalidModelSpecError) throw new UsageError(`${source}: ${error.message}`, '--model');
      throw error;
    }
    if (parsed.provider !== 'replay' || isAbsolute(parsed.path)) return parsed;
    const path = resolve(cwd, parsed.path);
    if (/\s/.test(path)) throw new UsageError(`${source}: the replay script path ${path} contains whitespace, which a model spec cannot hold; move the file`, '--model');
    return { ...parsed, path, spec: `replay:${path}` };
  });
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseAutonomy(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > 5) {
    throw new UsageError(
      `--autonomy must be a whole number from 1 to 5 (1 asks before planning and delivery, 2 asks to approve the plan, 3 asks only for risky plans, 4-5 never ask); got ${JSON.stringify(value)}`,
      '--autonomy',
    );
  }
  return n;
}

export function parsePositiveInteger(flag: string, value: string | undefined, max = 32): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > max) {
    throw new UsageError(`${flag} must be a positive whole number (at most ${max}); got ${JSON.stringify(value)}`, flag);
  }
  return n;
}

export function parseBudget(value: string | undefined, flag = '--budget-usd'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1_000_000) {
    throw new UsageError(`${flag} must be a positive number of US dollars, e.g. ${flag} 5 or ${flag} 0.50; got ${JSON.stringify(value)}`, flag);
  }
  return n;
}

export function parseApproveMode(value: string | undefined, interactive: boolean): ApproveMode {
  if (value === undefined) return interactive ? 'prompt' : 'auto';
  if ((APPROVE_MODES as readonly string[]).includes(value)) return value as ApproveMode;
  throw new UsageError(`--approve must be "auto" (approve every gate, stop at a budget gate) or "prompt" (ask here); got ${JSON.stringify(value)}`, '--approve');
}

export const DELIVER_FLAG_VALUES = { pr: 'pull-request', branch: 'branch' } as const;
export type DeliverFlag = keyof typeof DELIVER_FLAG_VALUES;

export function parseDeliver(value: string | undefined): DeliverFlag | undefined {
  if (value === undefined) return undefined;
  if (Object.hasOwn(DELIVER_FLAG_VALUES, value)) return value as DeliverFlag;
  throw new UsageError(`--deliver must be "pr" (push the goal branch and open a pull request) or "branch" (push the branch only); got ${JSON.stringify(value)}`, '--deliver');
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An https:// URL (plain http:// only for a loopback host, where nothing leaves the machine)
 * without credentials in it; anything else is a usage error naming `source`.
 */
export function parseHttpsUrl(source: string, value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source}: ${JSON.stringify(value)} is not a URL; give ${what}`, source);
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname.toLowerCase())) {
    throw new UsageError(`${source}: plain http:// would send the token unencrypted; use https:// (http:// is accepted for 127.0.0.1, localhost and [::1] only)`, source);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${source}: ${url.protocol.replace(':', '')}:// is not supported; give ${what}`, source);
  }
  if (url.username || url.password) {
    throw new UsageError(`${source}: the URL must not contain credentials; put the token in GITHUB_TOKEN (GitHub) or CAHOOTS_SECRET_GIT_TOKEN (other git hosts)`, source);
  }
  return url;
}

/** `scheme://…` */
export function hasUrlScheme(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value);
}

/** Whether `--repo` names a remote (a URL or an ssh `user@host:path`) rather than a directory. */
export function looksLikeRemote(value: string): boolean {
  return hasUrlScheme(value) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(value);
}

/**
 * The GitHub REST API base for a repository URL: `--github-api-url` always; `GITHUB_API_URL`
 * only when it belongs to the repository's host (github.com ↔ api.github.com, or the same
 * Enterprise Server), since CI systems set it whatever repository a job works on.
 */
export function resolveGitHubApiUrl(repoUrl: URL, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined) return parseHttpsUrl('--github-api-url', flag, 'the REST API base URL, e.g. https://github.example.com/api/v3').href.replace(/\/+$/, '');
  const fromEnv = env.GITHUB_API_URL?.trim();
  if (!fromEnv) return undefined;
  const api = parseHttpsUrl('GITHUB_API_URL', fromEnv, 'the REST API base URL, e.g. https://github.example.com/api/v3');
  const apiHost = api.hostname.toLowerCase().replace(/^api\./, '');
  const repoHost = repoUrl.hostname.toLowerCase().replace(/^www\./, '');
  if (apiHost !== repoHost) return undefined;
  // github.com needs no setting: it is the default.
  return apiHost === 'github.com' ? undefined : api.href.replace(/\/+$/, '');
}

export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n > 65_535) {
    throw new UsageError(`--port must be a TCP port from 0 to 65535 (0 picks a free one); got ${JSON.stringify(value)}`, '--port');
  }
  return n;
}

export function parseDay(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(value) && new Date(`${value}T00:00:00.000Z`).toISOString().startsWith(value);
  if (!ok) throw new UsageError(`${flag} must be a calendar day written YYYY-MM-DD, e.g. ${flag} 2026-01-31; got ${JSON.stringify(value)}`, flag);
  return value;
}

export function parseSeq(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value)) throw new UsageError(`${flag} must be an event sequence number (0 or more); got ${JSON.stringify(value)}`, flag);
  return Number(value);
}

export function parseGoalId(value: string | undefined): string {
  if (!value || !GoalIdSchema.safeParse(value).success) {
    throw new UsageError(`expected a goal id like goal_01J9Z3R2B4C6D8E0F2G4H6J8K0; got ${JSON.stringify(value ?? '')} (cahoots status lists them)`, '<goalId>');
  }
  return value;
}

export function parseProjectId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!ProjectIdSchema.safeParse(value).success) {
    throw new UsageError(`--project expects a project id like prj_01J9Z3Q4X8M2N5P7R9T1V3W5Y7; got ${JSON.stringify(value)} (cahoots status lists them)`, '--project');
  }
  return value;
}

/**
 * The runtime settings from the environment; a bad variable is a usage error naming it. Loaded on
 * demand: the runtime module pulls in the store and its SDK, which a mistyped flag should not wait for.
 */
export async function readRuntimeSettings(env: NodeJS.ProcessEnv = process.env): Promise<RuntimeConfig> {
  const { readRuntimeConfig, RuntimeConfigError } = await import('../runtime');
  try {
    return readRuntimeConfig(env);
  } catch (error) {
    if (error instanceof RuntimeConfigError) throw new UsageError(`${error.message}; fix the environment variable`);
    throw error;
  }
}
