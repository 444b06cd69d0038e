// The CommandRunner port on top of the sandbox runner, and the one function that serves a command
// request: the local runtime calls it in-process, the sandbox function (functions/sandbox) calls it
// on the cell's shared workspace. Both judge the request the same way: schema, working copy
// confined to the workspace root, cwd confined to the working copy, allow-list, limits.
import { promises as fsp } from 'node:fs';
import { isAbsolute } from 'node:path';
import { RUNTIME_ENV } from '../runtime-env';
import {
  CommandRequestSchema,
  type CommandOutcome,
  type CommandRefusalReason,
  type CommandRequestInput,
  type CommandResponse,
  type CommandRunner,
  type SetupRequestInput,
  type SetupResult,
} from '../domain/commands';
import { serveSetupRequest, setupResultOf } from './dependency-setup';
import { CommandNotAllowedError, CommandRefusedError, NotADirectoryError, PathOutsideWorkspaceError } from './errors';
import { resolveInside } from './paths';
import { logger } from '../powertools';
import { networkIsolationAvailable, runCommand } from './sandbox';

export interface ServeCommandOptions {
  /** The workspace root as this process sees it (the EFS mount in the sandbox function). */
  workspaceRoot: string;
  /** 'none': a private network namespace per command (where the machine allows it). */
  network?: 'inherit' | 'none';
}

/**
 * Validates and runs one request. Never throws for a bad request: refusals come back as data so
 * the sandbox function answers them as a result, not as a function error. Anything else that
 * throws is a broken sandbox and propagates.
 */
export async function serveCommandRequest(raw: unknown, options: ServeCommandOptions): Promise<CommandResponse> {
  const parsed = CommandRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`);
    return refusal('InvalidRequest', `invalid command request: ${problems.join('; ')}`);
  }
  const request = parsed.data;
  try {
    const workingCopy = await resolveInside(options.workspaceRoot, request.workingCopy);
    if (!workingCopy.exists || !(await fsp.stat(workingCopy.absolute)).isDirectory()) {
      return refusal('NotADirectory', `the working copy ${request.workingCopy} does not exist under the workspace root`);
    }
    const outcome = await runCommand(request.argv, {
      root: workingCopy.absolute,
      cwd: request.cwd,
      allowedCommands: request.allowedCommands,
      timeoutMs: request.timeoutMs,
      maxOutputBytes: request.maxOutputBytes,
      ...(options.network ? { network: options.network } : {}),
    });
    return { ok: true, outcome };
  } catch (error) {
    if (error instanceof CommandNotAllowedError) return refusal('CommandNotAllowed', error.message);
    if (error instanceof PathOutsideWorkspaceError) return refusal('PathOutsideWorkspace', error.message);
    if (error instanceof NotADirectoryError) return refusal('NotADirectory', error.message);
    throw error;
  }
}

function refusal(reason: CommandRefusalReason, message: string): CommandResponse {
  return { ok: false, refusal: { reason, message } };
}

export class SandboxFunctionConfigError extends Error {
  override readonly name = 'SandboxFunctionConfigError';
}

/**
 * The sandbox function's settings: the workspace mount (the same variable the agent workers read).
 * Commands there run with the function's network, which the cell gives none: Lambda has no
 * network namespaces, so the isolated subnets and security group are the boundary.
 */
export function readSandboxFunctionSettings(env: NodeJS.ProcessEnv = process.env): ServeCommandOptions {
  const workspaceRoot = env[RUNTIME_ENV.workspaceRoot]?.trim();
  if (!workspaceRoot || !isAbsolute(workspaceRoot)) {
    throw new SandboxFunctionConfigError(`${RUNTIME_ENV.workspaceRoot} must be the absolute path of the workspace mount (got ${JSON.stringify(workspaceRoot ?? '')})`);
  }
  return { workspaceRoot, network: 'inherit' };
}

export interface SandboxCommandRunnerOptions {
  /** Network of commands: `none` keeps them in a loopback-only namespace. */
  network?: 'inherit' | 'none';
  /** Network of the dependency install (setup): `inherit` lets it reach the registry. Default `inherit`. */
  installNetwork?: 'inherit' | 'none';
}

/** The local adapter: commands run as children of this process, under the sandbox runner's rules. */
export class SandboxCommandRunner implements CommandRunner {
  constructor(
    readonly workspaceRoot: string,
    private readonly options: SandboxCommandRunnerOptions = {},
  ) {}

  async run(request: CommandRequestInput): Promise<CommandOutcome> {
    const response = await serveCommandRequest(request, {
      workspaceRoot: this.workspaceRoot,
      ...(this.options.network ? { network: this.options.network } : {}),
    });
    if (!response.ok) throw new CommandRefusedError(response.refusal.reason, response.refusal.message);
    return response.outcome;
  }

  async setup(request: SetupRequestInput): Promise<SetupResult> {
    return setupResultOf(await serveSetupRequest(request, { workspaceRoot: this.workspaceRoot, network: this.options.installNetwork ?? 'inherit' }));
  }
}

let warnedNoIsolation = false;

/** `none` where this machine can isolate commands from the network, else the host's network (said once). */
export function effectiveSandboxNetwork(wanted: 'none' | 'inherit'): 'none' | 'inherit' {
  if (wanted === 'inherit' || networkIsolationAvailable()) return wanted;
  if (!warnedNoIsolation) {
    warnedNoIsolation = true;
    logger.warn('commands run with the host network: network namespaces are not available here');
  }
  return 'inherit';
}
