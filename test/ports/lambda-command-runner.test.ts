// The cell's CommandRunner: one synchronous InvokeFunction of the sandbox function per command.
// Lambda has no local stand-in, so the client is mocked; where the function answers, the answer
// comes from the sandbox function's own lib code on a real directory.
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  LambdaCommandRunner,
  SandboxInvocationError,
  SandboxThrottledError,
  SandboxTimeoutError,
} from '../../lib/ports/aws/lambda-command-runner';
import { CommandRequestSchema } from '../../lib/ports/command-runner';
import { CommandRefusedError, ToolError } from '../../lib/workspace/errors';
import { serveCommandRequest } from '../../lib/workspace/sandbox-runner';

const lambda = mockClient(LambdaClient);
// Tests share a worker: the next file must meet the real client, not this mock.
afterAll(() => {
  lambda.restore();
});
afterEach(() => lambda.reset());

const base = mkdtempSync(join(tmpdir(), 'cahoots-lambda-runner-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const FUNCTION = 'cahoots-acme-sandbox';
const runner = new LambdaCommandRunner({ functionName: FUNCTION, workspaceRoot: '/mnt/workspace', client: new LambdaClient({ region: 'eu-west-1' }) });
const request = { workingCopy: 'p/goal_A/task_B', argv: ['npm', 'test'], allowedCommands: ['npm test'], timeoutMs: 60_000 };
const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e);

describe('LambdaCommandRunner', () => {
  it('invokes the sandbox function synchronously with the validated request and returns its outcome', async () => {
    const outcome = { argv: ['npm', 'test'], exitCode: 0, signal: null, stdout: '# pass 3', stderr: '', timedOut: false, truncated: false, durationMs: 812 };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode({ ok: true, outcome }) as never });
    await expect(runner.run(request)).resolves.toEqual(outcome);
    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call!.args[0].input).toMatchObject({ FunctionName: FUNCTION, InvocationType: 'RequestResponse' });
    const sent = JSON.parse(new TextDecoder().decode(call!.args[0].input.Payload as Uint8Array)) as unknown;
    expect(CommandRequestSchema.parse(sent)).toEqual({ ...request, cwd: '.', maxOutputBytes: 65_536 });
  });

  it('runs a real command through the function code on a workspace the function mounts at another path', async () => {
    const agentView = join(base, 'agent-mount');
    mkdirSync(join(agentView, 'p/goal_A/task_B'), { recursive: true });
    writeFileSync(join(agentView, 'p/goal_A/task_B/hello.js'), "console.log('hello from the sandbox')\n");
    const functionView = join(base, 'function-mount');
    symlinkSync(agentView, functionView);
    lambda.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => ({
      StatusCode: 200,
      Payload: encode(await serveCommandRequest(JSON.parse(new TextDecoder().decode(input.Payload)), { workspaceRoot: functionView })),
    }));
    const remote = new LambdaCommandRunner({ functionName: FUNCTION, workspaceRoot: agentView, client: new LambdaClient({ region: 'eu-west-1' }) });
    const outcome = await remote.run({ ...request, argv: ['node', 'hello.js'], allowedCommands: ['node'] });
    expect(outcome).toMatchObject({ exitCode: 0, stdout: 'hello from the sandbox\n', timedOut: false });
    const refused = await failure(remote.run({ ...request, argv: ['curl', 'example.test'] }));
    expect(refused).toBeInstanceOf(CommandRefusedError);
    expect(refused).toBeInstanceOf(ToolError);
    expect(refused).toMatchObject({ reason: 'CommandNotAllowed' });
  });

  it('maps Lambda throttling to SandboxThrottledError', async () => {
    lambda.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {}, Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' }));
    const error = await failure(runner.run(request));
    expect(error).toBeInstanceOf(SandboxThrottledError);
    expect((error as Error).message).toContain('ReservedFunctionConcurrentInvocationLimitExceeded');
  });

  it("maps the function's own timeout to SandboxTimeoutError", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({ errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: 1 Error: Task timed out after 900.00 seconds' }) as never,
    });
    expect(await failure(runner.run(request))).toBeInstanceOf(SandboxTimeoutError);
  });

  it('maps a function error to SandboxInvocationError naming the error type', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({ errorType: 'Runtime.OutOfMemory', errorMessage: 'Runtime exited with error: signal: killed' }) as never,
    });
    const error = await failure(runner.run(request));
    expect(error).toBeInstanceOf(SandboxInvocationError);
    expect((error as Error).message).toContain('Runtime.OutOfMemory');
    expect(error).not.toBeInstanceOf(ToolError);
  });

  it('refuses an answer that is not a command response', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode({ ok: true, outcome: { exitCode: 'zero' } }) as never });
    expect(await failure(runner.run(request))).toBeInstanceOf(SandboxInvocationError);
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode('not json') as never });
    expect(await failure(runner.run(request))).toBeInstanceOf(SandboxInvocationError);
  });

  it('refuses a bad request before invoking anything', async () => {
    const error = await failure(runner.run({ ...request, workingCopy: '../other-cell' }));
    expect(error).toMatchObject({ reason: 'InvalidRequest' });
    expect((error as Error).message).toContain('workingCopy');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
