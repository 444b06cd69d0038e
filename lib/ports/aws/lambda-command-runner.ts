// The CommandRunner port in a cell: each command is one synchronous invocation of the sandbox
// function, which mounts the same workspace, holds no cell credentials and has no network. The
// request and the answer are parsed with the port's schemas on both sides.
import { InvokeCommand, type LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import * as z from 'zod';
import { CommandRefusedError } from '../../workspace/errors';
import { PortError } from '../errors';
import {
  CommandRequestSchema,
  CommandResponseSchema,
  type CommandOutcome,
  type CommandRequestInput,
  type CommandRunner,
  type RegistryAccess,
  SetupRequestSchema,
  type SetupRequestInput,
  SetupResponseSchema,
  type SetupResult,
} from '../command-runner';
import { lambdaClient } from './clients';
import { type CellPortFactory, PortNotConfiguredError } from './cell-ports';
import { CodeArtifactRegistry } from './codeartifact-registry';
import { AWS_PORTS_ENV, type AwsPortsConfig } from './config';

/** Time beyond the command's own timeout the invocation may take: start-up, kill grace, answer. */
export const INVOKE_GRACE_MS = 30_000;

/**
 * Base class of the sandbox function's failures (not the command's). Transient: a throttle, a
 * timeout or a crashed invocation may go through when the work is redelivered.
 */
export abstract class SandboxFunctionError extends PortError {
  override readonly permanent: boolean = false;
}

/** Lambda throttled the invocation after the SDK's own retries (concurrency limit of the sandbox). */
export class SandboxThrottledError extends SandboxFunctionError {
  readonly code = 'SandboxThrottled';
}

/** The sandbox function, or the wait for its answer, ran out of time before the command's result came back. */
export class SandboxTimeoutError extends SandboxFunctionError {
  readonly code = 'SandboxTimeout';
}

/** The sandbox function failed (an unhandled error, out of memory) or answered something that is not a result. */
export class SandboxInvocationError extends SandboxFunctionError {
  readonly code = 'SandboxInvocation';
}

// What Lambda returns in the payload when the function itself failed.
const FunctionErrorPayloadSchema = z.object({ errorType: z.string().optional(), errorMessage: z.string().optional() }).passthrough();

export interface LambdaCommandRunnerOptions {
  /** Name or ARN of the sandbox function. */
  functionName: string;
  /** Name or ARN of the dependency-setup function (the sandbox image with a way to a registry); absent: setup is refused. */
  setupFunctionName?: string;
  /** Where the setup function installs from, in cells without egress (CodeArtifact); absent: its default registry. */
  registry?: { access(): Promise<RegistryAccess> };
  /** The workspace mount as the agent worker sees it (CAHOOTS_WORKSPACE_ROOT). */
  workspaceRoot: string;
  client?: LambdaClient;
}

/** A cell without a setup function cannot install dependencies; commands would fail without them. */
export class SetupFunctionNotConfiguredError extends SandboxFunctionError {
  readonly code = 'SetupFunctionNotConfigured';
  override readonly permanent = true;
}

export class LambdaCommandRunner implements CommandRunner {
  readonly workspaceRoot: string;
  private readonly functionName: string;
  private readonly client: LambdaClient;

  constructor(private readonly options: LambdaCommandRunnerOptions) {
    this.workspaceRoot = options.workspaceRoot;
    this.functionName = options.functionName;
    this.client = options.client ?? lambdaClient();
  }

  async run(input: CommandRequestInput): Promise<CommandOutcome> {
    const parsed = CommandRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new CommandRefusedError('InvalidRequest', `invalid command request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const request = parsed.data;
    const answer = CommandResponseSchema.safeParse(await this.invoke(this.functionName, request, request.timeoutMs + INVOKE_GRACE_MS));
    if (!answer.success) {
      throw new SandboxInvocationError(`the sandbox function's answer does not match the command response schema: ${answer.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    if (!answer.data.ok) throw new CommandRefusedError(answer.data.refusal.reason, answer.data.refusal.message);
    return answer.data.outcome;
  }

  /**
   * Installs through the setup function. In cells without egress the request carries the
   * CodeArtifact repository URL and a short-lived read-only token fetched here.
   */
  async setup(input: SetupRequestInput): Promise<SetupResult> {
    const functionName = this.options.setupFunctionName;
    if (!functionName) throw new SetupFunctionNotConfiguredError(`dependency setup is not configured in this cell: set ${AWS_PORTS_ENV.setupFunctionName}`);
    const withRegistry = this.options.registry && !input.registry ? { ...input, registry: await this.options.registry.access() } : input;
    const parsed = SetupRequestSchema.safeParse(withRegistry);
    if (!parsed.success) {
      throw new CommandRefusedError('InvalidRequest', `invalid setup request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const answer = SetupResponseSchema.safeParse(await this.invoke(functionName, parsed.data, parsed.data.timeoutMs + INVOKE_GRACE_MS));
    if (!answer.success) {
      throw new SandboxInvocationError(`the setup function's answer does not match the setup response schema: ${answer.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    if (!answer.data.ok) throw new CommandRefusedError(answer.data.refusal.reason, answer.data.refusal.message);
    return answer.data.result;
  }

  /** One synchronous invocation; its answer as JSON, or the function's failure as a SandboxFunctionError. */
  private async invoke(functionName: string, payload: unknown, waitMs: number): Promise<unknown> {
    let payloadText: string;
    let functionError: string | undefined;
    try {
      const response = await this.client.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
        { abortSignal: AbortSignal.timeout(waitMs) },
      );
      payloadText = response.Payload ? new TextDecoder().decode(response.Payload) : '';
      functionError = response.FunctionError;
    } catch (error) {
      if (error instanceof TooManyRequestsException) {
        throw new SandboxThrottledError(`the sandbox function ${functionName} is throttled (${error.Reason ?? 'concurrency limit'}); try the command again later`, { cause: error });
      }
      const name = (error as Error).name;
      if (name === 'AbortError' || name === 'TimeoutError') {
        throw new SandboxTimeoutError(`no answer from the sandbox function ${functionName} within ${Math.round(waitMs / 1000)} s`, { cause: error });
      }
      throw new SandboxInvocationError(`invoking the sandbox function ${functionName} failed: ${(error as Error).message}`, { cause: error });
    }
    if (functionError) throw functionFailure(functionName, functionError, payloadText);
    try {
      return JSON.parse(payloadText) as unknown;
    } catch {
      throw new SandboxInvocationError(`the sandbox function ${functionName} answered with something that is not JSON: ${payloadText.slice(0, 200)}`);
    }
  }
}

function functionFailure(functionName: string, functionError: string, payloadText: string): SandboxFunctionError {
  let detail: z.infer<typeof FunctionErrorPayloadSchema> = {};
  try {
    const parsed = FunctionErrorPayloadSchema.safeParse(JSON.parse(payloadText));
    if (parsed.success) detail = parsed.data;
  } catch {
    // A payload that is not JSON still leaves the FunctionError header to report.
  }
  const message = detail.errorMessage ?? functionError;
  // Lambda's own timeout: errorType Sandbox.Timedout on current runtimes, "Task timed out" in the message on all.
  if (detail.errorType === 'Sandbox.Timedout' || /Task timed out/i.test(message)) {
    return new SandboxTimeoutError(`the sandbox function ${functionName} timed out: ${message}`);
  }
  return new SandboxInvocationError(`the sandbox function ${functionName} failed (${detail.errorType ?? functionError}): ${message}`);
}

/**
 * The commands port (SANDBOX_FUNCTION_NAME). Without a sandbox function a cell runs no commands at
 * all: running them in the agent's own function would hand model-written code the agent's credentials.
 */
export const cellPort: CellPortFactory<'commands'> = ({ config, workspaceRoot }) => {
  if (!config.sandboxFunctionName) {
    const notConfigured = async (): Promise<never> => {
      throw new PortNotConfiguredError('commands', AWS_PORTS_ENV.sandboxFunctionName);
    };
    return { workspaceRoot, run: notConfigured, setup: notConfigured };
  }
  const registry = registryOf(config);
  return new LambdaCommandRunner({
    functionName: config.sandboxFunctionName,
    workspaceRoot,
    ...(config.setupFunctionName ? { setupFunctionName: config.setupFunctionName } : {}),
    ...(registry ? { registry } : {}),
  });
};

/** The cell's CodeArtifact repository, when the environment names one (cells without egress). */
function registryOf(config: AwsPortsConfig): CodeArtifactRegistry | undefined {
  const { codeArtifactDomain: domain, codeArtifactDomainOwner: domainOwner, codeArtifactNpmUrl: registryUrl } = config;
  if (!domain || !domainOwner || !registryUrl) return undefined;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new PortNotConfiguredError('commands (CodeArtifact registry)', 'AWS_REGION');
  return new CodeArtifactRegistry({ domain, domainOwner, registryUrl, region });
}
