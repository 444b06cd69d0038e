// The local Step Functions: runs the same statemachines/*.asl.json with aws-local-stepfunctions,
// calling in-process Lambda handlers, sending callback tasks to the local queues and resolving their
// task tokens through the local callback registry. One runner per state machine definition.
import type { Context } from 'aws-lambda';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '../domain/canonical-json';
import { CahootsError } from '../domain/errors';
import { logger } from '../powertools';
import {
  isValidExecutionName,
  jsonEqual,
  STEP_FUNCTIONS_LIMITS,
  taskFailureFields,
  utf8ByteLength,
} from '../ports/service-rules';
import {
  HIDDEN_HEARTBEAT_KEY,
  HIDDEN_INPUT_KEY,
  HIDDEN_TIMEOUT_KEY,
  prepareDefinition,
  type TaskPlan,
  UnsupportedDefinitionError,
} from './asl-preparation';
import { type DefinitionSubstitutions, parseDefinition } from './definition-substitutions';
import { createLambdaContext, LOCAL_ACCOUNT_ID, localFunctionArn, localRegion } from './lambda-context';
import type { LocalQueues } from './queues';
import {
  LocalTaskCallbacks,
  MAX_LOCAL_TIMER_SECONDS,
  StepFunctionsTaskError,
  TASK_ABORTED_ERROR,
  TASK_TIMEOUT_ERROR,
} from './task-tokens';
import { LocalRuntimeError } from './errors';

export { applyDefinitionSubstitutions, MissingSubstitutionError } from './definition-substitutions';
export { UnsupportedDefinitionError } from './asl-preparation';

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JsonValue = Parameters<TaskHandlers[string]>[0];
type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/**
 * Any Lambda handler, called in-process with (event, context). The event type is the handler's own
 * business: the runner passes the task's JSON input.
 */
export type LambdaHandler = (event: never, context: Context) => unknown;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** How an execution ended, in DescribeExecution's terms. The result promise resolves with it, never rejects. */
export type ExecutionOutcome =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; cause: string }
  | { status: 'ABORTED'; error: string; cause: string }
  | { status: 'TIMED_OUT'; error: string; cause: string };

export interface ExecutionSummary {
  executionId: string;
  name: string;
  status: ExecutionStatus;
  input: unknown;
  startDate: Date;
  stopDate?: Date;
}

export interface StartedExecution {
  executionId: string;
  executionName: string;
  result: Promise<ExecutionOutcome>;
}

/** One step of an execution's history, for progress display (state entered/exited/failed/retried/caught …). */
export interface ExecutionHistoryEvent {
  executionId: string;
  type: string;
  timestamp: number;
  stateName?: string;
  stateType?: string;
  /** The Map iteration the event belongs to. */
  mapIndex?: number;
  /** The Map or Parallel state a branch/iteration event belongs to. */
  parentState?: string;
  error?: string;
  cause?: string;
  retryAttempt?: number;
  input?: unknown;
  output?: unknown;
}

export interface LocalStateMachineRunnerOptions {
  /** The ASL definition: JSON text (substitutions applied here) or an already-parsed object. */
  definition: string | Record<string, unknown>;
  definitionSubstitutions?: DefinitionSubstitutions;
  /** Used in the state machine and execution ARNs. */
  stateMachineName?: string;
  /** In-process Lambda handlers by function ARN or function name. */
  functions?: Readonly<Record<string, LambdaHandler>>;
  /** Needed when the definition sends to SQS. */
  queues?: LocalQueues;
  /** The token registry callback tasks wait on; a new one when omitted (see `callbacks`). */
  callbacks?: LocalTaskCallbacks;
  /** Receives every history event of every execution. Errors thrown here are logged and ignored. */
  onEvent?: (event: ExecutionHistoryEvent) => void;
  /** Milliseconds to pause before a retry, per state (e.g. 0 in tests), instead of IntervalSeconds/backoff. */
  retryIntervalOverrides?: Readonly<Record<string, number | number[]>>;
  /** Milliseconds a Wait state pauses, per state. */
  waitTimeOverrides?: Readonly<Record<string, number>>;
  /** The timeout handlers see in context.getRemainingTimeInMillis(). */
  lambdaTimeoutSeconds?: number;
}

/** A Lambda function the definition names has no in-process handler. */
export class LambdaFunctionNotFoundError extends LocalRuntimeError {
  readonly code = 'LambdaFunctionNotFound';
  constructor(readonly functions: readonly string[]) {
    super(`No local handler for Lambda function(s): ${functions.join(', ')}`);
  }
}

export class ExecutionAlreadyExistsError extends LocalRuntimeError {
  readonly code = 'ExecutionAlreadyExists';
  constructor(
    readonly executionName: string,
    readonly executionId: string,
    readonly input: unknown,
  ) {
    super(`Execution ${executionName} already exists (${executionId})`);
  }
}

export class ExecutionDoesNotExistError extends LocalRuntimeError {
  readonly code = 'ExecutionDoesNotExist';
  constructor(readonly executionId: string) {
    super(`Execution ${executionId} does not exist`);
  }
}

export class InvalidExecutionInputError extends LocalRuntimeError {
  readonly code = 'InvalidExecutionInput';
}

/**
 * An error the library must treat like AWS treats States.Runtime / States.DataLimitExceeded: not
 * retried and not caught by States.ALL (the library reads these two properties).
 */
class TerminalStatesError extends StepFunctionsTaskError {
  readonly isRetryable = false;
  readonly isCatchable = false;
}

const LambdaInvokeParameters = z.looseObject({
  FunctionName: z.string().min(1),
  Payload: z.unknown().optional(),
  InvocationType: z.enum(['RequestResponse', 'Event', 'DryRun']).optional(),
});
const SqsSendParameters = z.looseObject({
  QueueUrl: z.string().min(1),
  MessageBody: z.unknown().refine((body) => body !== undefined && body !== null, 'MessageBody is required'),
  DelaySeconds: z.number().int().min(0).max(900).optional(),
});

const FUNCTION_NAME_IN_ARN = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?([A-Za-z0-9_-]+)(?::[A-Za-z0-9_$-]+)?$/;

function functionNameOf(reference: string): string | undefined {
  return FUNCTION_NAME_IN_ARN.exec(reference)?.[1];
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

/** Replaces the token placeholder wherever the Parameters put it: a field, part of a string, an array item. */
function replaceDeep(value: unknown, placeholder: string, token: string): unknown {
  if (typeof value === 'string') return value.split(placeholder).join(token);
  if (Array.isArray(value)) return value.map((item) => replaceDeep(item, placeholder, token));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, placeholder, token)]));
  }
  return value;
}

function positiveWholeSeconds(value: unknown, field: string, stateName: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TerminalStatesError('States.Runtime', `${stateName}: ${field} must resolve to a positive integer, got ${JSON.stringify(value)}`);
  }
  if (value > MAX_LOCAL_TIMER_SECONDS) {
    throw new TerminalStatesError(
      'States.Runtime',
      `${stateName}: ${field} resolved to ${value} s; the local runtime supports at most ${MAX_LOCAL_TIMER_SECONDS} s`,
    );
  }
  return value;
}

/** The error a Lambda failure raises in the state machine: AWS uses the thrown error's `name` as the error type. */
function lambdaFailure(error: unknown): StepFunctionsTaskError {
  const isError = error instanceof Error;
  const errorType = isError ? error.name : typeof error;
  const errorMessage = isError ? error.message : String(error);
  const trace = isError && error.stack ? error.stack.split('\n') : [];
  // The Cause is the JSON Lambda reports, as in AWS, so a Catch sees the same text in both places.
  const fields = taskFailureFields(errorType, JSON.stringify({ errorType, errorMessage, trace }));
  return new StepFunctionsTaskError(fields.error, fields.cause);
}

interface ExecutionRecord {
  executionId: string;
  name: string;
  input: unknown;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  stopping: boolean;
  stopCause?: string;
  tokens: Set<string>;
  abort: () => void;
  result: Promise<ExecutionOutcome>;
}

const KEEP_FINISHED_EXECUTIONS = 1000;

// asl-validator compiles its JSON schemas afresh on every validation (a few hundred ms of CPU), and
// a process starts the same goal pipeline many times (every test harness, every bench round). A
// definition that passed once passes again, so each distinct definition is validated once.
const validatedDefinitions = new Set<string>();

function buildStateMachine(definition: StateMachineDefinition): StateMachine {
  const key = canonicalJson(definition);
  if (validatedDefinitions.has(key)) return new StateMachine(definition, { validationOptions: { noValidate: true } });
  // Throws when the definition is invalid, so only definitions that passed are remembered.
  const machine = new StateMachine(definition);
  validatedDefinitions.add(key);
  return machine;
}

export class LocalStateMachineRunner {
  readonly stateMachineArn: string;
  /** The registry callback tasks wait on; hand it to whoever plays SendTaskSuccess/Failure locally. */
  readonly callbacks: LocalTaskCallbacks;
  private readonly stateMachineName: string;
  private readonly machine: StateMachine;
  private readonly tasks: Map<string, TaskPlan>;
  private readonly functionsByRef = new Map<string, LambdaHandler>();
  private readonly functionsByName = new Map<string, LambdaHandler>();
  private readonly queues: LocalQueues | undefined;
  private readonly onEvent: ((event: ExecutionHistoryEvent) => void) | undefined;
  private readonly retryIntervalOverrides: Readonly<Record<string, number | number[]>>;
  private readonly waitTimeOverrides: Readonly<Record<string, number>>;
  private readonly lambdaTimeoutMs: number;
  /** Stands in for $$.Task.Token in the run context; replaced by a real token per callback task. */
  private readonly tokenPlaceholder = `local-task-token-placeholder-${randomUUID()}`;
  private readonly executions = new Map<string, ExecutionRecord>();

  constructor(options: LocalStateMachineRunnerOptions) {
    const parsed =
      typeof options.definition === 'string'
        ? parseDefinition(options.definition, options.definitionSubstitutions)
        : parseDefinition(JSON.stringify(options.definition), options.definitionSubstitutions);
    const prepared = prepareDefinition(parsed);
    this.tasks = prepared.tasks;
    this.stateMachineName = options.stateMachineName ?? 'local-state-machine';
    this.stateMachineArn = `arn:aws:states:${localRegion()}:${LOCAL_ACCOUNT_ID}:stateMachine:${this.stateMachineName}`;
    this.callbacks = options.callbacks ?? new LocalTaskCallbacks();
    this.queues = options.queues;
    this.onEvent = options.onEvent;
    this.retryIntervalOverrides = options.retryIntervalOverrides ?? {};
    this.waitTimeOverrides = options.waitTimeOverrides ?? {};
    this.lambdaTimeoutMs = (options.lambdaTimeoutSeconds ?? 900) * 1000;
    for (const [reference, handler] of Object.entries(options.functions ?? {})) {
      this.functionsByRef.set(reference, handler);
      const name = functionNameOf(reference);
      if (name && !this.functionsByName.has(name)) this.functionsByName.set(name, handler);
    }
    this.checkWiring();
    // The library validates the (rewritten) definition with asl-validator, once per definition.
    this.machine = buildStateMachine(prepared.definition as unknown as StateMachineDefinition);
  }

  /**
   * Starts an execution. Like StartExecution: a name already running with the same input returns
   * that execution; any other reuse of a name throws ExecutionAlreadyExistsError.
   */
  start(input: unknown, options: { executionName?: string } = {}): StartedExecution {
    const name = options.executionName ?? randomUUID();
    if (!isValidExecutionName(name)) throw new InvalidExecutionInputError(`Invalid execution name ${JSON.stringify(name)}`);
    let json: JsonValue;
    try {
      json = toJson(input);
    } catch (error) {
      throw new InvalidExecutionInputError(`Execution input is not JSON: ${(error as Error).message}`);
    }
    const bytes = utf8ByteLength(JSON.stringify(json));
    if (bytes > STEP_FUNCTIONS_LIMITS.payloadMaxBytes) {
      throw new InvalidExecutionInputError(`Execution input is ${bytes} bytes; the limit is ${STEP_FUNCTIONS_LIMITS.payloadMaxBytes}`);
    }
    const executionId = `arn:aws:states:${localRegion()}:${LOCAL_ACCOUNT_ID}:execution:${this.stateMachineName}:${name}`;
    const existing = this.executions.get(executionId);
    if (existing) {
      if (existing.status === 'RUNNING' && jsonEqual(existing.input, json)) {
        return { executionId, executionName: name, result: existing.result };
      }
      throw new ExecutionAlreadyExistsError(name, executionId, existing.input);
    }

    const record: ExecutionRecord = {
      executionId,
      name,
      input: json,
      status: 'RUNNING',
      startDate: new Date(),
      stopping: false,
      tokens: new Set(),
      abort: () => undefined,
      result: Promise.resolve({ status: 'ABORTED', error: '', cause: '' }),
    };
    this.executions.set(executionId, record);
    const run = this.machine.run(json, {
      overrides: {
        taskResourceLocalHandlers: this.taskHandlers(record),
        retryIntervalOverrides: { ...this.retryIntervalOverrides },
        waitTimeOverrides: { ...this.waitTimeOverrides },
      },
      context: {
        Execution: { Id: executionId, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/local-state-machine` },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
        Task: { Token: this.tokenPlaceholder },
      },
    });
    record.abort = run.abort;
    this.forwardHistory(executionId, run.eventLogs).catch((error: unknown) => logger.error('Reading execution history failed', { executionId, error }));
    record.result = run.result.then(
      (output): ExecutionOutcome => ({ status: 'SUCCEEDED', output }),
      (error: unknown) => this.outcomeOf(record, error),
    ).then((outcome) => this.finish(record, outcome));
    logger.info('Local execution started', { executionId });
    return { executionId, executionName: name, result: record.result };
  }

  /** Stops a running execution (its waiting callback tasks are cancelled). Stopping an ended one does nothing. */
  async stop(executionId: string, cause = 'Stopped'): Promise<void> {
    const record = this.executions.get(executionId);
    if (!record) throw new ExecutionDoesNotExistError(executionId);
    if (record.status !== 'RUNNING') return;
    record.stopping = true;
    record.stopCause = cause;
    record.abort();
    for (const token of [...record.tokens]) this.callbacks.cancel(token, cause);
    await record.result;
  }

  /** Stops every running execution, e.g. when the local runtime shuts down. */
  async stopAll(cause = 'Local runtime shutting down'): Promise<void> {
    const running = [...this.executions.values()].filter((record) => record.status === 'RUNNING');
    await Promise.all(running.map((record) => this.stop(record.executionId, cause)));
  }

  listExecutions(filter: { status?: ExecutionStatus } = {}): ExecutionSummary[] {
    return [...this.executions.values()]
      .filter((record) => !filter.status || record.status === filter.status)
      .map((record) => this.summary(record));
  }

  /** Resolves with the execution's outcome when it ends (at once if it already has). */
  waitForExecution(executionId: string): Promise<ExecutionOutcome> {
    const record = this.executions.get(executionId);
    if (!record) return Promise.reject(new ExecutionDoesNotExistError(executionId));
    return record.result;
  }

  describeExecution(executionId: string): ExecutionSummary | undefined {
    const record = this.executions.get(executionId);
    return record && this.summary(record);
  }

  private summary(record: ExecutionRecord): ExecutionSummary {
    return {
      executionId: record.executionId,
      name: record.name,
      status: record.status,
      input: record.input,
      startDate: record.startDate,
      ...(record.stopDate ? { stopDate: record.stopDate } : {}),
    };
  }

  /** Fails fast on wiring the definition needs: handlers for the Lambda functions it names, queues for SQS. */
  private checkWiring(): void {
    const missing = new Set<string>();
    for (const plan of this.tasks.values()) {
      if (plan.functionRef && !this.findFunction(plan.functionRef)) missing.add(plan.functionRef);
      if ((plan.kind === 'sqs-send' || plan.kind === 'sqs-send-token') && !this.queues) {
        throw new UnsupportedDefinitionError(plan.stateName, 'the definition sends to SQS but the runner has no queues');
      }
    }
    if (missing.size > 0) throw new LambdaFunctionNotFoundError([...missing]);
  }

  private findFunction(reference: string): LambdaHandler | undefined {
    const byRef = this.functionsByRef.get(reference);
    if (byRef) return byRef;
    const name = functionNameOf(reference);
    return name ? this.functionsByName.get(name) : undefined;
  }

  private taskHandlers(record: ExecutionRecord): TaskHandlers {
    const handlers: TaskHandlers = {};
    for (const plan of this.tasks.values()) {
      handlers[plan.stateName] = (input: JsonValue) => {
        const running = this.runTask(plan, input, record);
        // The library may stop awaiting (timeout, abort, a failed timeout path); a late rejection must not go unhandled.
        running.catch(() => undefined);
        return running;
      };
    }
    return handlers;
  }

  private async runTask(plan: TaskPlan, rawInput: JsonValue, record: ExecutionRecord): Promise<JsonValue> {
    if (record.stopping) throw new StepFunctionsTaskError(TASK_ABORTED_ERROR, record.stopCause ?? 'Execution stopped');
    const { input, timeoutSeconds, heartbeatSeconds } = this.unwrap(plan, rawInput);
    switch (plan.kind) {
      case 'lambda':
        return this.invokeLambda(plan.resource, input);
      case 'lambda-invoke': {
        const parameters = this.parse(LambdaInvokeParameters, input, plan);
        if (parameters.InvocationType === 'Event') {
          // Asynchronous invocation: Step Functions does not wait, and errors only reach the logs.
          this.invokeLambda(parameters.FunctionName, parameters.Payload ?? {}).catch((error: unknown) =>
            logger.error('Asynchronous Lambda invocation failed', { function: parameters.FunctionName, error }),
          );
          return { StatusCode: 202, Payload: '' };
        }
        const payload = await this.invokeLambda(parameters.FunctionName, parameters.Payload ?? {});
        return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
      }
      case 'lambda-invoke-token': {
        const parameters = this.parse(LambdaInvokeParameters, input, plan);
        return this.waitForToken(plan, record, timeoutSeconds, heartbeatSeconds, (token) => {
          const payload = replaceDeep(parameters.Payload ?? {}, this.tokenPlaceholder, token);
          this.assertTokenPassed(payload, token, plan);
          return this.invokeLambda(parameters.FunctionName, payload);
        });
      }
      case 'sqs-send': {
        const parameters = this.parse(SqsSendParameters, input, plan);
        const sent = this.sendMessage(parameters, parameters.MessageBody);
        return { MessageId: sent.messageId, MD5OfMessageBody: sent.md5OfBody };
      }
      case 'sqs-send-token': {
        const parameters = this.parse(SqsSendParameters, input, plan);
        return this.waitForToken(plan, record, timeoutSeconds, heartbeatSeconds, async (token) => {
          const body = replaceDeep(parameters.MessageBody, this.tokenPlaceholder, token);
          this.assertTokenPassed(body, token, plan);
          this.sendMessage(parameters, body);
        });
      }
    }
  }

  /** Strips the hidden fields the preparation added and reads the resolved timeout and heartbeat. */
  private unwrap(plan: TaskPlan, rawInput: JsonValue): { input: JsonValue; timeoutSeconds?: number; heartbeatSeconds?: number } {
    let input = rawInput;
    let timeoutSeconds = plan.timeoutSeconds;
    let heartbeatSeconds = plan.heartbeatSeconds;
    if (plan.wrapped && typeof rawInput === 'object' && rawInput !== null && !Array.isArray(rawInput)) {
      const { [HIDDEN_INPUT_KEY]: whole, [HIDDEN_TIMEOUT_KEY]: timeout, [HIDDEN_HEARTBEAT_KEY]: heartbeat, ...rest } = rawInput;
      input = plan.wrappedWholeInput ? (whole ?? null) : rest;
      timeoutSeconds = positiveWholeSeconds(timeout, 'TimeoutSecondsPath', plan.stateName) ?? timeoutSeconds;
      heartbeatSeconds = positiveWholeSeconds(heartbeat, 'HeartbeatSecondsPath', plan.stateName) ?? heartbeatSeconds;
    }
    return { input, timeoutSeconds, heartbeatSeconds };
  }

  private parse<T extends z.ZodType>(schema: T, input: JsonValue, plan: TaskPlan): z.infer<T> {
    const result = schema.safeParse(input);
    if (!result.success) {
      throw new TerminalStatesError('States.Runtime', `${plan.stateName}: invalid Parameters for ${plan.resource}: ${result.error.message}`);
    }
    return result.data;
  }

  private assertTokenPassed(value: unknown, token: string, plan: TaskPlan): void {
    if (!JSON.stringify(value ?? null).includes(token)) {
      throw new TerminalStatesError('States.Runtime', `${plan.stateName}: $$.Task.Token must be part of what the task sends`);
    }
  }

  private sendMessage(parameters: z.infer<typeof SqsSendParameters>, body: unknown): { messageId: string; md5OfBody: string } {
    const queues = this.queues as LocalQueues;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    try {
      return queues.send(parameters.QueueUrl, text, { delaySeconds: parameters.DelaySeconds });
    } catch (error) {
      // Named the way the SQS integration reports service errors (SQS.<Name>Exception), so Catch can target it.
      const name = error instanceof CahootsError ? error.stepFunctionsError : 'SQS.AmazonSQSException';
      throw new StepFunctionsTaskError(name, error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * Mints a token, lets `dispatch` hand it to the worker, and waits for the answer. A dispatch that
   * fails fails the task with its own error. The registry expires the token at the task's timeout
   * so late answers are refused, but the failure itself is left to the library's timer, whose
   * States.Timeout is the one Retry/Catch treat like AWS (States.TaskFailed does not match it).
   */
  private async waitForToken(
    plan: TaskPlan,
    record: ExecutionRecord,
    timeoutSeconds: number | undefined,
    heartbeatSeconds: number | undefined,
    dispatch: (token: string) => Promise<unknown>,
  ): Promise<JsonValue> {
    const { token, promise } = this.callbacks.register({
      heartbeatSeconds,
      timeoutSeconds,
      label: `${record.name}/${plan.stateName}`,
    });
    record.tokens.add(token);
    const answered = promise.then(
      (output) => toJson(output),
      (error: unknown) => {
        if (error instanceof Error && error.name === TASK_TIMEOUT_ERROR) return new Promise<JsonValue>(() => undefined);
        throw error;
      },
    );
    answered.catch(() => undefined);
    try {
      return await new Promise<JsonValue>((resolve, reject) => {
        answered.then(resolve, reject);
        dispatch(token).catch((error: unknown) => {
          this.callbacks.cancel(token, 'The task could not be dispatched');
          reject(error);
        });
      });
    } finally {
      record.tokens.delete(token);
    }
  }

  private async invokeLambda(reference: string, event: unknown): Promise<JsonValue> {
    const handler = this.findFunction(reference);
    if (!handler) {
      throw new StepFunctionsTaskError('Lambda.ResourceNotFoundException', `No local handler for function ${reference}`);
    }
    const functionName = functionNameOf(reference) ?? reference;
    const context = createLambdaContext({
      functionName,
      invokedFunctionArn: reference.startsWith('arn:') ? reference : localFunctionArn(functionName),
      timeoutMs: this.lambdaTimeoutMs,
    });
    let result: unknown;
    try {
      // A copy, so a handler that mutates its event cannot reach into the execution's state.
      result = await handler(toJson(event) as never, context);
    } catch (error) {
      throw lambdaFailure(error);
    }
    let output: JsonValue;
    try {
      output = toJson(result);
    } catch (error) {
      throw new StepFunctionsTaskError('Runtime.MarshalError', `The handler's result is not JSON: ${(error as Error).message}`);
    }
    const bytes = utf8ByteLength(JSON.stringify(output));
    if (bytes > STEP_FUNCTIONS_LIMITS.payloadMaxBytes) {
      throw new TerminalStatesError('States.DataLimitExceeded', `${functionName} returned ${bytes} bytes; the state output limit is 256 KB`);
    }
    return output;
  }

  private outcomeOf(record: ExecutionRecord, error: unknown): ExecutionOutcome {
    if (error instanceof ExecutionAbortedError || record.stopping) {
      return { status: 'ABORTED', error: 'States.Aborted', cause: record.stopCause ?? 'Execution stopped' };
    }
    if (error instanceof ExecutionTimeoutError) {
      return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution ran longer than its TimeoutSeconds' };
    }
    if (error instanceof ExecutionError && error.cause instanceof Error) {
      return { status: 'FAILED', error: error.cause.name, cause: error.cause.message };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { status: 'FAILED', error: 'States.Runtime', cause: message };
  }

  private finish(record: ExecutionRecord, outcome: ExecutionOutcome): ExecutionOutcome {
    record.status = outcome.status;
    record.stopDate = new Date();
    // A Map iteration aborted by a failing sibling, or a timed-out execution, can leave tokens behind.
    for (const token of [...record.tokens]) this.callbacks.cancel(token, `Execution ${outcome.status.toLowerCase()}`);
    record.tokens.clear();
    logger.info('Local execution ended', {
      executionId: record.executionId,
      status: outcome.status,
      ...('error' in outcome ? { error: outcome.error } : {}),
    });
    this.forgetOldExecutions();
    return outcome;
  }

  private forgetOldExecutions(): void {
    const finished = [...this.executions.values()].filter((record) => record.status !== 'RUNNING');
    for (const record of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED_EXECUTIONS))) {
      this.executions.delete(record.executionId);
    }
  }

  private async forwardHistory(executionId: string, events: AsyncGenerator<LibraryEvent>): Promise<void> {
    for await (const event of events) {
      if (!this.onEvent) continue;
      try {
        this.onEvent(toHistoryEvent(executionId, event));
      } catch (error) {
        logger.error('Execution history listener failed', { executionId, error });
      }
    }
  }
}

function toHistoryEvent(executionId: string, event: LibraryEvent): ExecutionHistoryEvent {
  const history: ExecutionHistoryEvent = { executionId, type: event.type, timestamp: event.timestamp };
  if ('state' in event) {
    history.stateName = event.state.name;
    history.stateType = event.state.type;
    history.input = event.state.input;
    if (event.state.output !== undefined) history.output = event.state.output;
  }
  if ('parentState' in event) history.parentState = event.parentState.name;
  if ('index' in event && typeof event.index === 'number') history.mapIndex = event.index;
  if ('Error' in event) {
    history.error = event.Error;
    history.cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
  }
  if ('retry' in event) history.retryAttempt = event.retry.attempt;
  if (event.type === 'ExecutionStarted') history.input = event.input;
  if (event.type === 'ExecutionSucceeded') history.output = event.output;
  return history;
}
