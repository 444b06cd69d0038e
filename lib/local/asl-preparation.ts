// Prepares an ASL definition for aws-local-stepfunctions 3.0.0 so it behaves like AWS: walks every
// scope (root, Map ItemProcessor/Iterator, Parallel Branches), classifies each Task state's Resource,
// and rewrites the few spots where the library differs from the service. docs/local-runtime.md lists
// each rewrite and why.
import { MAX_LOCAL_TIMER_SECONDS } from './task-tokens';
import { LocalRuntimeError } from './errors';

/** Hidden Parameters fields the rewrite adds; the runner strips them before a task sees its input. */
export const HIDDEN_INPUT_KEY = '__cahootsStateInput';
export const HIDDEN_TIMEOUT_KEY = '__cahootsTimeoutSeconds';
export const HIDDEN_HEARTBEAT_KEY = '__cahootsHeartbeatSeconds';

export type TaskKind =
  | 'lambda' // arn:aws:lambda:…:function:Name — the state input is the event, the result is the output
  | 'lambda-invoke' // arn:aws:states:::lambda:invoke — Parameters.FunctionName + Payload, result {Payload, …}
  | 'lambda-invoke-token' // arn:aws:states:::lambda:invoke.waitForTaskToken
  | 'sqs-send' // arn:aws:states:::sqs:sendMessage
  | 'sqs-send-token'; // arn:aws:states:::sqs:sendMessage.waitForTaskToken

export interface TaskPlan {
  stateName: string;
  kind: TaskKind;
  resource: string;
  /** For `lambda`: the function the Resource names. For lambda:invoke with a static FunctionName: that name. */
  functionRef?: string;
  heartbeatSeconds?: number;
  /** A TimeoutSeconds the definition sets itself (not the local default). */
  timeoutSeconds?: number;
  /** The hidden fields were added, so the effective input must be unwrapped. */
  wrapped: boolean;
  /** Input is in HIDDEN_INPUT_KEY (the state had no Parameters). */
  wrappedWholeInput: boolean;
}

export class UnsupportedDefinitionError extends LocalRuntimeError {
  readonly code = 'UnsupportedDefinition';
  constructor(
    readonly where: string,
    reason: string,
  ) {
    super(`${where}: ${reason}`);
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;
const INTEGRATION = /^arn:aws[a-z-]*:states:::(lambda:invoke|sqs:sendMessage)(\.waitForTaskToken)?$/;

function classify(resource: string, where: string): TaskKind {
  if (LAMBDA_ARN.test(resource)) return 'lambda';
  const match = INTEGRATION.exec(resource);
  if (!match) {
    throw new UnsupportedDefinitionError(
      where,
      `Resource ${resource} is not supported locally (Lambda function ARNs, lambda:invoke[.waitForTaskToken] and sqs:sendMessage[.waitForTaskToken] are)`,
    );
  }
  const service = match[1] === 'lambda:invoke' ? 'lambda-invoke' : 'sqs-send';
  return (match[2] ? `${service}-token` : service) as TaskKind;
}

/** JSONata, variables and distributed Map are not run by the library; refuse them by name instead of misbehaving. */
function refuseUnsupportedFields(state: Json, where: string): void {
  if (state.QueryLanguage === 'JSONata') throw new UnsupportedDefinitionError(where, 'JSONata is not supported locally; use JSONPath');
  for (const field of ['Arguments', 'Output', 'Assign']) {
    if (field in state) throw new UnsupportedDefinitionError(where, `${field} (JSONata/variables) is not supported locally`);
  }
  for (const field of ['ItemReader', 'ResultWriter', 'ItemBatcher', 'ToleratedFailureCount', 'ToleratedFailurePercentage', 'ToleratedFailureCountPath', 'ToleratedFailurePercentagePath']) {
    if (field in state) throw new UnsupportedDefinitionError(where, `${field} (distributed Map) is not supported locally`);
  }
}

/** The library stores `ResultPath: "$"` under a key named "$"; "$" means "replace the input", which is the default. */
function normaliseResultPaths(state: Json): void {
  if (state.ResultPath === '$') delete state.ResultPath;
  if (Array.isArray(state.Catch)) {
    for (const catcher of state.Catch) if (isObject(catcher) && catcher.ResultPath === '$') delete catcher.ResultPath;
  }
}

/** In AWS, States.Timeout in ErrorEquals also matches a heartbeat timeout; the library matches names exactly. */
function widenTimeoutMatchers(state: Json): void {
  for (const field of ['Retry', 'Catch']) {
    const list = state[field];
    if (!Array.isArray(list)) continue;
    for (const matcher of list) {
      if (!isObject(matcher) || !Array.isArray(matcher.ErrorEquals)) continue;
      const errors = matcher.ErrorEquals as unknown[];
      if (errors.includes('States.Timeout') && !errors.includes('States.HeartbeatTimeout')) errors.push('States.HeartbeatTimeout');
    }
  }
}

function prepareTask(name: string, state: Json, where: string): TaskPlan {
  if (typeof state.Resource !== 'string') throw new UnsupportedDefinitionError(where, 'Task without a string Resource');
  const kind = classify(state.Resource, where);
  const plan: TaskPlan = { stateName: name, kind, resource: state.Resource, wrapped: false, wrappedWholeInput: false };
  const parameters = state.Parameters;

  if (kind === 'lambda') plan.functionRef = state.Resource;
  if ((kind === 'lambda-invoke' || kind === 'lambda-invoke-token') && isObject(parameters) && typeof parameters.FunctionName === 'string') {
    plan.functionRef = parameters.FunctionName;
  }
  if (kind === 'sqs-send-token' || kind === 'lambda-invoke-token') {
    // AWS refuses a callback task whose Parameters never pass the token; so do we, before it hangs.
    if (!JSON.stringify(parameters ?? null).includes('$$.Task.Token')) {
      throw new UnsupportedDefinitionError(where, '.waitForTaskToken task must pass $$.Task.Token in its Parameters');
    }
  }
  // Heartbeats only mean something for callback tasks: nothing else can send one.
  const usesHeartbeat = kind === 'sqs-send-token' || kind === 'lambda-invoke-token';
  if (usesHeartbeat && ('HeartbeatSeconds' in state || 'HeartbeatSecondsPath' in state)) widenTimeoutMatchers(state);
  if (usesHeartbeat && typeof state.HeartbeatSeconds === 'number') plan.heartbeatSeconds = state.HeartbeatSeconds;

  // The library evaluates TimeoutSecondsPath against the input *after* Parameters, AWS against the
  // state input. Evaluating the path inside Parameters (a hidden field) and pointing
  // TimeoutSecondsPath at that field keeps the library's own timer, and its real States.Timeout.
  const hidden: Json = {};
  if (typeof state.TimeoutSecondsPath === 'string') {
    hidden[`${HIDDEN_TIMEOUT_KEY}.$`] = state.TimeoutSecondsPath;
    state.TimeoutSecondsPath = `$.${HIDDEN_TIMEOUT_KEY}`;
  } else if (state.TimeoutSeconds === undefined) {
    // Without TimeoutSeconds the library times a task out after 60 s; AWS waits (almost) forever.
    state.TimeoutSeconds = MAX_LOCAL_TIMER_SECONDS;
  } else if (typeof state.TimeoutSeconds === 'number') {
    const timeoutSeconds = Math.min(state.TimeoutSeconds, MAX_LOCAL_TIMER_SECONDS);
    state.TimeoutSeconds = timeoutSeconds;
    plan.timeoutSeconds = timeoutSeconds;
  }
  if (usesHeartbeat && typeof state.HeartbeatSecondsPath === 'string') hidden[`${HIDDEN_HEARTBEAT_KEY}.$`] = state.HeartbeatSecondsPath;

  if (Object.keys(hidden).length > 0) {
    plan.wrapped = true;
    if (parameters === undefined) {
      plan.wrappedWholeInput = true;
      state.Parameters = { [`${HIDDEN_INPUT_KEY}.$`]: '$', ...hidden };
    } else if (isObject(parameters)) {
      Object.assign(parameters, hidden);
    } else {
      throw new UnsupportedDefinitionError(where, 'Parameters must be an object');
    }
  }
  return plan;
}

function walkScope(scope: unknown, where: string, plans: Map<string, TaskPlan>): void {
  if (!isObject(scope) || !isObject(scope.States)) throw new UnsupportedDefinitionError(where, 'missing States');
  refuseUnsupportedFields(scope, where);
  for (const [name, state] of Object.entries(scope.States)) {
    const at = `${where}/States/${name}`;
    if (!isObject(state)) throw new UnsupportedDefinitionError(at, 'state must be an object');
    refuseUnsupportedFields(state, at);
    normaliseResultPaths(state);
    if (state.Type === 'Task') {
      // Overrides are keyed by state name across all scopes, so a Task name must be unique everywhere.
      if (plans.has(name)) throw new UnsupportedDefinitionError(at, `Task state name "${name}" is used more than once`);
      plans.set(name, prepareTask(name, state, at));
    } else if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (isObject(processor) && isObject(processor.ProcessorConfig) && processor.ProcessorConfig.Mode === 'DISTRIBUTED') {
        throw new UnsupportedDefinitionError(at, 'distributed Map is not supported locally');
      }
      walkScope(processor, `${at}/ItemProcessor`, plans);
    } else if (state.Type === 'Parallel') {
      if (!Array.isArray(state.Branches)) throw new UnsupportedDefinitionError(at, 'Parallel without Branches');
      state.Branches.forEach((branch, index) => walkScope(branch, `${at}/Branches/${index}`, plans));
    }
  }
}

/** Returns a rewritten copy of the definition and a plan per Task state, keyed by state name. */
export function prepareDefinition(definition: Record<string, unknown>): { definition: Json; tasks: Map<string, TaskPlan> } {
  const copy = structuredClone(definition);
  const tasks = new Map<string, TaskPlan>();
  walkScope(copy, '', tasks);
  return { definition: copy, tasks };
}
