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
} from '../command-runner';
import { lambdaClient } from './clients';
import { type CellPortFactory, PortNotConfiguredError } from './cell-ports';
import { AWS_PORTS_ENV } from './config';

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
  /** The workspace mount as the agent worker sees it (CAHOOTS_WORKSPACE_ROOT). */
  workspaceRoot: string;
  client?: LambdaClient;
}

export class LambdaCommandRunner implements CommandRunner {
  readonly workspaceRoot: string;
  private readonly functionName: string;
  private readonly client: LambdaClient;

  constructor(options: LambdaCommandRunnerOptions) {
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
    const waitMs = request.timeoutMs + INVOKE_GRACE_MS;
    let payloadText: string;
    let functionError: string | undefined;
    try {
      const response = await this.client.send(
        new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(request)) }),
        { abortSignal: AbortSignal.timeout(waitMs) },
      );
      payloadText = response.Payload ? new TextDecoder().decode(response.Payload) : '';
      functionError = response.FunctionError;
    } catch (error) {
      if (error instanceof TooManyRequestsException) {
        throw new SandboxThrottledError(`the sandbox function ${this.functionName} is throttled (${error.Reason ?? 'concurrency limit'}); try the command again later`, { cause: error });
      }
      const name = (error as Error).name;
      if (name === 'AbortError' || name === 'TimeoutError') {
        throw new SandboxTimeoutError(`no answer from the sandbox function within ${Math.round(waitMs / 1000)} s`, { cause: error });
      }
      throw new SandboxInvocationError(`invoking the sandbox function ${this.functionName} failed: ${(error as Error).message}`, { cause: error });
    }
    if (functionError) throw functionFailure(this.functionName, functionError, payloadText);

    let body: unknown;
    try {
      body = JSON.parse(payloadText);
    } catch {
      throw new SandboxInvocationError(`the sandbox function answered with something that is not JSON: ${payloadText.slice(0, 200)}`);
    }
    const answer = CommandResponseSchema.safeParse(body);
    if (!answer.success) {
      throw new SandboxInvocationError(`the sandbox function's answer does not match the command response schema: ${answer.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    if (!answer.data.ok) throw new CommandRefusedError(answer.data.refusal.reason, answer.data.refusal.message);
    return answer.data.outcome;
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
export const cellPort: CellPortFactory<'commands'> = ({ config, workspaceRoot }) =>
  config.sandboxFunctionName
    ? new LambdaCommandRunner({ functionName: config.sandboxFunctionName, workspaceRoot })
    : {
        workspaceRoot,
        run: async () => {
          throw new PortNotConfiguredError('commands', AWS_PORTS_ENV.sandboxFunctionName);
        },
      };
