import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { SQSEvent } from 'aws-lambda';
import { prepareDefinition } from '../../lib/local/asl-preparation';
import { LocalPipelineStarter } from '../../lib/local/pipeline-starter';
import { LocalQueueConsumer } from '../../lib/local/queue-consumer';
import { LocalQueues } from '../../lib/local/queues';
import {
  applyDefinitionSubstitutions,
  ExecutionAlreadyExistsError,
  type ExecutionHistoryEvent,
  LambdaFunctionNotFoundError,
  LocalStateMachineRunner,
  MissingSubstitutionError,
  UnsupportedDefinitionError,
} from '../../lib/local/state-machine-runner';
import { LocalTaskCallbacks, MAX_LOCAL_TIMER_SECONDS } from '../../lib/local/task-tokens';
import { TaskTokenExpiredError } from '../../lib/ports';
import { GoalExecutionConflictError } from '../../lib/ports/service-rules';

const fixture = readFileSync(new URL('./fixtures/pipeline.asl.json', import.meta.url), 'utf8');
const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** A Lambda error the way handlers should raise one: `name` is the Step Functions error. */
class GoalNotFoundError extends Error {
  override readonly name = 'Goal.NotFound';
}

interface DispatchMessage {
  taskToken: string;
  goalId: string;
  script: string[];
}

async function eventually(check: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

const consumers: LocalQueueConsumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});

/**
 * The fixture wired to in-process handlers and a fake agent worker. The worker consumes the local
 * queue with the SQS handler signature and follows the message's script, one step per delivery:
 * `succeed`, `fail:<Error>` or `silent` (never answers).
 */
function harness(options: { startError?: Error } = {}) {
  const queues = new LocalQueues();
  const workerQueue = queues.createQueue('worker', { visibilityTimeoutSeconds: 5 });
  const callbacks = new LocalTaskCallbacks();
  const received: DispatchMessage[] = [];
  const markFailed: unknown[] = [];
  const startEvents: unknown[] = [];
  const history: ExecutionHistoryEvent[] = [];
  const work = { running: 0, peak: 0, calls: 0 };

  const runner = new LocalStateMachineRunner({
    definition: fixture,
    definitionSubstitutions: {
      StartFunctionArn: fn('start'),
      WorkerQueueUrl: workerQueue,
      WorkFunctionArn: fn('work'),
      MarkFailedFunctionArn: fn('mark-failed'),
    },
    stateMachineName: 'GoalPipeline',
    functions: {
      [fn('start')]: async (event: { goalId: string }) => {
        startEvents.push(event);
        if (options.startError) throw options.startError;
        return { started: event.goalId };
      },
      [fn('work')]: async (event: { item: number; index: number }) => {
        work.calls++;
        work.running++;
        work.peak = Math.max(work.peak, work.running);
        await sleep(25);
        work.running--;
        return { doubled: event.item * 2, index: event.index };
      },
      // Registered by name: a Resource ARN naming `mark-failed` resolves to it.
      'mark-failed': async (event: unknown) => {
        markFailed.push(event);
      },
    },
    queues,
    callbacks,
    onEvent: (event) => history.push(event),
    retryIntervalOverrides: { Dispatch: 0 },
  });

  const worker = new LocalQueueConsumer({
    queues,
    queue: workerQueue,
    concurrency: 4,
    handler: async (event: SQSEvent) => {
      for (const record of event.Records) {
        const message = JSON.parse(record.body) as DispatchMessage;
        received.push(message);
        const step = message.script[received.filter((m) => m.goalId === message.goalId).length - 1] ?? 'silent';
        if (step === 'succeed') await callbacks.succeed(message.taskToken, { by: 'worker', attempt: record.attributes.ApproximateReceiveCount });
        else if (step.startsWith('fail:')) await callbacks.fail(message.taskToken, step.slice(5), `scripted ${step}`);
      }
    },
  });
  worker.start();
  consumers.push(worker);
  return { runner, queues, callbacks, received, markFailed, startEvents, history, work };
}

const input = (script: string[], extra: Record<string, unknown> = {}) => ({
  goalId: 'g1',
  script,
  items: [1, 2, 3],
  maxConcurrency: 2,
  heartbeatSeconds: 30,
  timeoutSeconds: 60,
  ...extra,
});

describe('LocalStateMachineRunner on the fixture', () => {
  it('runs Lambda, SQS callback and Map tasks, with at most MaxConcurrencyPath items at once', async () => {
    const h = harness();
    const execution = h.runner.start(input(['succeed']), { executionName: 'happy' });
    expect(execution.executionId).toBe('arn:aws:states:us-east-1:000000000000:execution:GoalPipeline:happy');
    const outcome = await execution.result;

    expect(outcome).toEqual({
      status: 'SUCCEEDED',
      output: {
        ...input(['succeed']),
        start: { started: 'g1' },
        dispatch: { by: 'worker', attempt: '1' },
        results: [
          { doubled: 2, index: 0 },
          { doubled: 4, index: 1 },
          { doubled: 6, index: 2 },
        ],
      },
    });
    expect(h.startEvents).toEqual([{ goalId: 'g1', executionId: execution.executionId }]);
    expect(h.work).toMatchObject({ calls: 3, peak: 2 });
    // The worker got a real token, never the placeholder, and the hidden timeout fields stayed hidden.
    expect(h.received[0]?.taskToken).toMatch(/^local-task-/);
    expect(Object.keys(h.received[0] ?? {}).sort()).toEqual(['goalId', 'script', 'taskToken']);
    expect(h.runner.listExecutions({ status: 'RUNNING' })).toEqual([]);
    expect(h.runner.describeExecution(execution.executionId)?.status).toBe('SUCCEEDED');

    await eventually(() => h.history.some((e) => e.type === 'ExecutionSucceeded'));
    const entered = h.history.filter((e) => e.type === 'StateEntered').map((e) => `${e.stateName}${e.mapIndex ?? ''}`);
    expect(entered.slice(0, 3)).toEqual(['Start', 'Dispatch', 'FanOut']);
    expect(entered.filter((name) => name.startsWith('Work')).sort()).toEqual(['Work0', 'Work1', 'Work2']);
  });

  it('retries the callback task on a named error raised by the worker, with a fresh token', async () => {
    const h = harness();
    const outcome = await h.runner.start(input(['fail:Agent.Failed', 'succeed'])).result;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(h.received).toHaveLength(2);
    expect(h.received[0]?.taskToken).not.toBe(h.received[1]?.taskToken);
    await eventually(() => h.history.some((e) => e.type === 'StateRetried'));
    const failed = h.history.find((e) => e.type === 'StateFailed');
    expect(failed).toMatchObject({ stateName: 'Dispatch', error: 'Agent.Failed', cause: 'scripted fail:Agent.Failed' });
  });

  it('catches a named worker error into the MarkFailed → Fail path', async () => {
    const h = harness();
    const outcome = await h.runner.start(input(['fail:Budget.Exceeded'])).result;
    expect(outcome).toEqual({ status: 'FAILED', error: 'Goal.Failed', cause: 'The goal pipeline failed; MarkFailed recorded why' });
    expect(h.markFailed).toEqual([{ goalId: 'g1', error: { Error: 'Budget.Exceeded', Cause: 'scripted fail:Budget.Exceeded' } }]);
    expect(h.work.calls).toBe(0);
  });

  it('raises a Lambda error under the thrown error’s name, with Lambda’s JSON as the cause', async () => {
    const h = harness({ startError: new GoalNotFoundError('goal g1 is gone') });
    const outcome = await h.runner.start(input(['succeed'])).result;
    expect(outcome.status).toBe('FAILED');
    const recorded = h.markFailed[0] as { error: { Error: string; Cause: string } };
    expect(recorded.error.Error).toBe('Goal.NotFound');
    expect(JSON.parse(recorded.error.Cause)).toMatchObject({ errorType: 'Goal.NotFound', errorMessage: 'goal g1 is gone' });
    expect(h.received).toHaveLength(0);
  });

  it('fails a silent worker with States.HeartbeatTimeout and refuses its late answer', async () => {
    const h = harness();
    const outcome = await h.runner.start(input(['silent'], { heartbeatSeconds: 1 })).result;
    expect(outcome.status).toBe('FAILED');
    expect(h.markFailed).toEqual([{ goalId: 'g1', error: { Error: 'States.HeartbeatTimeout', Cause: 'No heartbeat within 1 s' } }]);
    const late = await h.callbacks.succeed(h.received[0]?.taskToken ?? '', {}).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(TaskTokenExpiredError);
  });

  it('stop() aborts an execution waiting on a callback; its token is refused afterwards', async () => {
    const h = harness();
    const execution = h.runner.start(input(['silent']), { executionName: 'to-stop' });
    await eventually(() => h.received.length === 1);
    expect(h.runner.listExecutions({ status: 'RUNNING' }).map((e) => e.name)).toEqual(['to-stop']);
    await h.runner.stop(execution.executionId, 'user cancelled the goal');
    expect(await execution.result).toEqual({ status: 'ABORTED', error: 'States.Aborted', cause: 'user cancelled the goal' });
    expect(h.runner.listExecutions({ status: 'RUNNING' })).toEqual([]);
    expect(h.callbacks.pendingCount).toBe(0);
    await expect(h.callbacks.succeed(h.received[0]?.taskToken ?? '', {})).rejects.toBeInstanceOf(TaskTokenExpiredError);
    // The aborted execution dispatched nothing more and ran no later state.
    await sleep(20);
    expect(h.received).toHaveLength(1);
    expect(h.work.calls).toBe(0);
    await expect(h.runner.stop(execution.executionId, 'again')).resolves.toBeUndefined();
  });

  it('is idempotent on execution name, and the local PipelineStarter follows the AWS adapter’s rules', async () => {
    const h = harness();
    const first = h.runner.start(input(['silent']), { executionName: 'same' });
    expect(h.runner.start(input(['silent']), { executionName: 'same' }).executionId).toBe(first.executionId);
    expect(() => h.runner.start(input(['other']), { executionName: 'same' })).toThrow(ExecutionAlreadyExistsError);
    await h.runner.stop(first.executionId);

    const starter = new LocalPipelineStarter(h.runner);
    const { executionId } = await starter.startGoal({ goalId: 'g42', projectId: 'p1' });
    expect((await starter.startGoal({ goalId: 'g42', projectId: 'p1' })).executionId).toBe(executionId);
    await expect(starter.startGoal({ goalId: 'g42', projectId: 'p2' })).rejects.toBeInstanceOf(GoalExecutionConflictError);
    await starter.stopGoal(executionId, 'done');
    await expect(starter.stopGoal(executionId, 'again')).resolves.toBeUndefined();
    // A finished execution still answers a repeated start with the same input, as the AWS adapter does.
    expect((await starter.startGoal({ goalId: 'g42', projectId: 'p1' })).executionId).toBe(executionId);
  });
});

describe('timeouts and callback forms', () => {
  const queueUrl = 'local://queues/callbacks';
  const callbackTask = (extra: Record<string, unknown>) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
    Parameters: { QueueUrl: queueUrl, MessageBody: { 'token.$': '$$.Task.Token' } },
    Catch: [
      { ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'TaskFailed' },
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' },
    ],
    End: true,
    ...extra,
  });
  const machine = (task: Record<string, unknown>) => ({
    StartAt: 'Wait',
    States: {
      Wait: task,
      TaskFailed: { Type: 'Pass', Result: 'task-failed', End: true },
      TimedOut: { Type: 'Pass', Result: 'timed-out', End: true },
    },
  });

  it('TimeoutSeconds raises a States.Timeout that States.TaskFailed does not catch; States.Timeout also matches a missed heartbeat', async () => {
    const queues = new LocalQueues();
    queues.createQueue('callbacks');
    const timeout = new LocalStateMachineRunner({ definition: machine(callbackTask({ TimeoutSeconds: 1 })), queues });
    // Only a States.Timeout catcher here: without the widening a missed heartbeat would fail the execution.
    const heartbeatTask = callbackTask({
      HeartbeatSeconds: 1,
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' }],
    });
    const heartbeatMachine = { StartAt: 'Wait', States: { Wait: heartbeatTask, TimedOut: machine({}).States.TimedOut } };
    const heartbeat = new LocalStateMachineRunner({ definition: heartbeatMachine, queues });
    const [byTimeout, byHeartbeat] = await Promise.all([timeout.start({}).result, heartbeat.start({}).result]);
    expect(byTimeout).toEqual({ status: 'SUCCEEDED', output: 'timed-out' });
    expect(byHeartbeat).toEqual({ status: 'SUCCEEDED', output: 'timed-out' });
    expect(timeout.callbacks.pendingCount + heartbeat.callbacks.pendingCount).toBe(0);
  });

  it('lambda:invoke.waitForTaskToken hands the token to the handler and waits for the callback', async () => {
    const callbacks = new LocalTaskCallbacks();
    const definition = {
      StartAt: 'Approve',
      States: {
        Approve: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'request-approval', Payload: { 'taskToken.$': '$$.Task.Token', 'kind.$': '$.kind' } },
          Catch: [{ ErrorEquals: ['Approval.Rejected'], ResultPath: '$.error', Next: 'Rejected' }],
          End: true,
        },
        Rejected: { Type: 'Pass', End: true },
      },
    };
    const answerFailures: unknown[] = [];
    const runner = new LocalStateMachineRunner({
      definition,
      callbacks,
      functions: {
        // Answers after returning, as the API would when a person clicks "approve" later.
        'request-approval': async (event: { taskToken: string; kind: string }) => {
          setTimeout(() => {
            (event.kind === 'plan'
              ? callbacks.succeed(event.taskToken, { approved: true })
              : callbacks.fail(event.taskToken, 'Approval.Rejected', 'no budget')
            ).catch((error: unknown) => answerFailures.push(error));
          }, 5);
          return { recorded: true };
        },
      },
    });
    expect(await runner.start({ kind: 'plan' }).result).toEqual({ status: 'SUCCEEDED', output: { approved: true } });
    expect(await runner.start({ kind: 'budget' }).result).toEqual({
      status: 'SUCCEEDED',
      output: { kind: 'budget', error: { Error: 'Approval.Rejected', Cause: 'no budget' } },
    });
    expect(answerFailures).toEqual([]);
  });

  it('gives lambda:invoke results as {Payload} unless ResultSelector picks it', async () => {
    const runner = new LocalStateMachineRunner({
      definition: {
        StartAt: 'Call',
        States: {
          Call: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: fn('echo'), 'Payload.$': '$' }, End: true },
        },
      },
      functions: { echo: async (event: unknown) => ({ echoed: event }) },
    });
    expect(await runner.start({ a: 1 }).result).toEqual({
      status: 'SUCCEEDED',
      output: { ExecutedVersion: '$LATEST', Payload: { echoed: { a: 1 } }, StatusCode: 200 },
    });
  });
});

describe('definition preparation', () => {
  it('substitutes ${Key} like CDK, keeps ${!Key} literal, and names every missing key', () => {
    expect(applyDefinitionSubstitutions('{"A":"${X}","B":"${!X}","C":"$.x"}', { X: 'v' })).toBe('{"A":"v","B":"${X}","C":"$.x"}');
    expect(() => applyDefinitionSubstitutions(fixture, { StartFunctionArn: fn('s') })).toThrow(MissingSubstitutionError);
    expect(() => applyDefinitionSubstitutions(fixture, { StartFunctionArn: fn('s') })).toThrow(/WorkerQueueUrl.*WorkFunctionArn.*MarkFailedFunctionArn/);
    expect(() => new LocalStateMachineRunner({ definition: fixture, definitionSubstitutions: {} })).toThrow(MissingSubstitutionError);
  });

  it('refuses definitions the local runtime cannot run faithfully, before any execution', () => {
    const withResource = (Resource: string) => ({ StartAt: 'T', States: { T: { Type: 'Task', Resource, End: true } } });
    expect(() => new LocalStateMachineRunner({ definition: withResource('arn:aws:states:::dynamodb:putItem') })).toThrow(
      UnsupportedDefinitionError,
    );
    expect(() => new LocalStateMachineRunner({ definition: withResource(fn('nobody')) })).toThrow(LambdaFunctionNotFoundError);
    expect(
      () =>
        new LocalStateMachineRunner({
          definition: { QueryLanguage: 'JSONata', StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
        }),
    ).toThrow(/JSONata/);
  });

  it('gives tasks without TimeoutSeconds no 60 s limit and rewrites TimeoutSecondsPath to read the state input', () => {
    const { definition, tasks } = prepareDefinition(JSON.parse(applyDefinitionSubstitutions(fixture, {
      StartFunctionArn: fn('start'),
      WorkerQueueUrl: 'local://queues/worker',
      WorkFunctionArn: fn('work'),
      MarkFailedFunctionArn: fn('mark-failed'),
    })) as Record<string, unknown>);
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(states.Start?.TimeoutSeconds).toBe(MAX_LOCAL_TIMER_SECONDS);
    expect(states.Dispatch?.TimeoutSecondsPath).toBe('$.__cahootsTimeoutSeconds');
    expect(states.Dispatch?.Parameters).toMatchObject({ '__cahootsTimeoutSeconds.$': '$.timeoutSeconds' });
    expect([...tasks.keys()].sort()).toEqual(['Dispatch', 'MarkFailed', 'Start', 'Work']);
    expect(tasks.get('Work')?.kind).toBe('lambda-invoke');
  });

  it('walks Parallel branches and Map processors, and refuses a Task name used twice', () => {
    const task = { Type: 'Task', Resource: fn('x'), End: true };
    const branch = (name: string) => ({ StartAt: name, States: { [name]: task } });
    const parallel = (a: string, b: string) => ({
      StartAt: 'Both',
      States: { Both: { Type: 'Parallel', Branches: [branch(a), branch(b)], End: true } },
    });
    expect([...prepareDefinition(parallel('A', 'B')).tasks.keys()]).toEqual(['A', 'B']);
    expect(() => prepareDefinition(parallel('A', 'A'))).toThrow(/used more than once/);
  });

  it('names an SQS failure like the service integration does', async () => {
    const queues = new LocalQueues();
    const runner = new LocalStateMachineRunner({
      definition: {
        StartAt: 'Send',
        States: {
          Send: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage',
            Parameters: { QueueUrl: 'local://queues/missing', MessageBody: { a: 1 } },
            End: true,
          },
        },
      },
      queues,
    });
    expect(await runner.start({}).result).toMatchObject({ status: 'FAILED', error: 'SQS.QueueDoesNotExistException' });
  });

  it('runs the goal pipeline definition’s shape check (unique task names, supported resources)', () => {
    const pipeline = readFileSync(new URL('../../statemachines/goal-pipeline.asl.json', import.meta.url), 'utf8');
    const keys = [...new Set([...pipeline.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1] as string))];
    const substituted = applyDefinitionSubstitutions(pipeline, Object.fromEntries(keys.map((k) => [k, fn(k)])));
    const { tasks } = prepareDefinition(JSON.parse(substituted) as Record<string, unknown>);
    expect(tasks.get('DispatchTask')?.kind).toBe('sqs-send-token');
  });
});
