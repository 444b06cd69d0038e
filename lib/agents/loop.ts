// The agent loop: system prompt for the role → stable context prefix (cache point) → the task →
// model turns with tool calls until the agent calls `finish` with a payload its role's schema
// accepts. Budgets are checked before every call, repeats stop a stuck agent, limits stop a slow
// one, and a run that must yield (Lambda timeout) suspends with a checkpoint it can resume from.
import { createHash } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod';
import {
  AGENT_ROLES,
  newId,
  staffedRoles,
  type AgentRole,
  type AgentRun,
  type FailureCause,
  type GoalSource,
  type ModelCallRecord as RunModelCall,
  type ReviewCommentSchema,
  type ReviewVerdict,
  type TaskKind,
  type TeamComposition,
  type TestResults,
  type TokenCounts,
} from '../domain/index';
import {
  ModelCallAbortedError,
  ModelUnavailableError,
  estimateTokens,
  estimateWorstCaseUsd,
  type ContentBlock,
  type ConverseOptions,
  type ConverseRequest,
  type Message,
  type ModelCallRecord,
  type ModelCallResult,
  type PriceBook,
  type RequestTags,
  type ToolSpec,
  type ToolUseBlock,
} from '../models/index';
import { logger, metrics } from '../powertools';
import { isToolError, type WorkspaceToolContext } from '../workspace/index';
import { AgentCheckpointSchema, CHECKPOINT_VERSION, type AgentCheckpoint, type ToolCallStats } from './checkpoint';
import { buildContextPrefix, type DependencyOutput } from './context';
import {
  AgentCancelledError,
  AgentError,
  AgentFailedError,
  AgentStuckError,
  AgentSuspendedError,
  BudgetExceededError,
  InvalidCheckpointError,
} from './errors';
import { selectRelevantLessons, type LessonLike } from './learning';
import { redact, redactDeep, wrapUntrusted } from './redaction';
import { roleDefinition, type FinishPayload, type QaFailure, type RoleSettings } from './roles';
import type { BudgetGuard } from './budget';
import { DEFAULT_STUCK_THRESHOLD, StuckDetector } from './stuck';
import { ToolNotAvailableError, agentToolsByName, clipMiddle, resultFingerprint, type AgentTool } from './tools';

// ---------------------------------------------------------------- options and results

export type ConverseFunction = (request: ConverseRequest, options?: ConverseOptions) => Promise<ModelCallResult>;

/** What the loop needs from a model: a ModelGateway fits; policy and prices make the budget check exact. */
export interface AgentModel {
  converse: ConverseFunction;
  /** The role's models, cheapest first; the budget check prices the dearest one a call could reach. */
  readonly policy?: readonly string[];
  readonly prices?: PriceBook;
}

export interface AgentLimits {
  /** Model calls in the whole run, continuations included. */
  maxTurns: number;
  /** Wall time of the whole run, continuations included. */
  maxWallMs: number;
  /** maxTokens of each model call (and the output part of the worst-case budget check). */
  maxOutputTokens: number;
  /** Budget of the stable context prefix. */
  contextBudgetTokens: number;
  /** Above this estimated request size, old tool results are elided. */
  maxContextTokens: number;
  /** A single tool result longer than this is cut in the middle. */
  maxToolResultChars: number;
}

export const DEFAULT_AGENT_LIMITS: Readonly<AgentLimits> = Object.freeze({
  maxTurns: 40,
  maxWallMs: 30 * 60_000,
  maxOutputTokens: 8_192,
  contextBudgetTokens: 24_000,
  maxContextTokens: 150_000,
  maxToolResultChars: 40_000,
});

export interface AgentTaskInput {
  /** Task id (task_<ULID>); also the planner's plan task. */
  id: string;
  goalId: string;
  projectId: string;
  kind?: TaskKind;
  title: string;
  spec: string;
  acceptanceCriteria?: readonly string[];
  /** Paths the task is about; the context engine also finds paths mentioned in the spec. */
  files?: readonly string[];
}

export interface AgentGoalInput {
  title: string;
  description?: string;
  source?: GoalSource;
}

type ReviewComment = z.infer<typeof ReviewCommentSchema>;

/** Why a task came back: the quality gate's findings, shown to the developer doing the rework. */
export interface ReworkFeedback {
  from: 'reviewer' | 'qa';
  summary: string;
  verdict?: ReviewVerdict;
  comments?: readonly ReviewComment[];
  testResults?: TestResults;
  failures?: readonly QaFailure[];
}

export type AgentEventType =
  | 'Agent.Started'
  | 'Model.Called'
  | 'Tool.Called'
  | 'Agent.FinishRejected'
  | 'Agent.Stuck'
  | 'Budget.Exceeded'
  | 'Agent.Suspended'
  | 'Agent.Finished';

export interface AgentEvent {
  type: AgentEventType;
  at: string;
  tags: AgentTags;
  data: Record<string, unknown>;
}

export interface AgentTags extends RequestTags {
  role: AgentRole;
  projectId: string;
  goalId: string;
  taskId: string;
  attempt: string;
  runId: string;
}

export interface RunAgentOptions<R extends AgentRole = AgentRole> {
  role: R;
  task: AgentTaskInput;
  goal?: AgentGoalInput;
  /** The task's working copy; every tool is confined to it. */
  workingDir: string;
  /** A ModelGateway, anything with its converse (and ideally policy/prices), or a bare converse function. */
  gateway: AgentModel | ConverseFunction;
  /** Position in the role's model policy to start at; attempt k of a task usually starts higher. */
  startTier?: number;
  /** 1-based attempt of this task (on request tags and the run record). */
  attempt?: number;
  /** Run id (run_<ULID>); minted when absent, taken from the checkpoint when resuming. */
  runId?: string;
  /** The project's team; roles without agents cannot be planned. Default: every role. */
  team?: TeamComposition;
  /** The project's command allow-list for run_command. Empty: run_command is not offered. */
  allowedCommands?: readonly string[];
  reviewerMayRunCommands?: boolean;
  qaMayWriteTests?: boolean;
  /** Project context files to include (default AGENTS.md, CLAUDE.md, CAHOOTS.md). */
  contextFiles?: readonly string[];
  /** The project's lessons; the most relevant `maxLessons` go into the prefix. */
  lessons?: readonly LessonLike[];
  maxLessons?: number;
  dependencyOutputs?: readonly DependencyOutput[];
  /** For rework tasks: what the reviewer or QA found. */
  feedback?: ReworkFeedback;
  /** How the previous attempt of this task ended, so the agent does not repeat it. */
  previousAttemptError?: FailureCause;
  limits?: Partial<AgentLimits>;
  budget?: BudgetGuard;
  /** Same call + same result this many times → AgentStuckError. Default 3. */
  stuckThreshold?: number;
  temperature?: number;
  /** Upper bound of one run_command (also bounded by the remaining wall time). */
  commandTimeoutMs?: number;
  network?: 'inherit' | 'none';
  signal?: AbortSignal;
  /** Agent-level events; awaited, and its errors propagate (usage records must not be lost). */
  onEvent?: (event: AgentEvent) => void | Promise<void>;
  /** Called at least once per turn (Step Functions SendTaskHeartbeat). */
  heartbeat?: () => void | Promise<void>;
  /** Asked between turns; true stops the run with AgentSuspendedError carrying a checkpoint. */
  shouldSuspend?: () => boolean | Promise<boolean>;
  resumeFrom?: AgentCheckpoint;
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
}

export interface AgentResult<R extends AgentRole = AgentRole> {
  /** The validated finish payload. */
  result: FinishPayload<R>;
  run: AgentRun;
  /** Every model that answered, in order of first use. */
  modelsUsed: string[];
}

// ---------------------------------------------------------------- internal state

interface LoopState {
  runId: string;
  startedAt: string;
  elapsedBeforeMs: number;
  turns: number;
  finishRepairsUsed: number;
  messages: Message[];
  tokens: TokenCounts;
  costUsd: number;
  modelCallCount: number;
  modelCalls: RunModelCall[];
  modelsUsed: string[];
  toolCalls: ToolCallStats;
}

// AgentRunSchema caps the list so a long run still fits a DynamoDB item; totals stay exact.
const MAX_RECORDED_MODEL_CALLS = 500;
const ELIDED_RESULT = '[elided to fit the context window: an older tool result; run the tool again if you still need it]';
const NO_TOOL_CALL = '(no tool call)';

const roundUsd = (usd: number) => Math.round(usd * 1e9) / 1e9;

// ---------------------------------------------------------------- the loop

export async function runAgent<R extends AgentRole>(options: RunAgentOptions<R>): Promise<AgentResult<R>> {
  const role = options.role;
  const definition = roleDefinition(role);
  const limits: AgentLimits = { ...DEFAULT_AGENT_LIMITS, ...options.limits };
  const clock = options.now ?? Date.now;
  const model: AgentModel = typeof options.gateway === 'function' ? { converse: options.gateway } : options.gateway;
  // A continuation normally passes neither; the checkpoint remembers what the run started with.
  const startTier = Math.max(0, Math.trunc(options.startTier ?? options.resumeFrom?.startTier ?? 0));
  const attempt = Math.min(20, Math.max(1, Math.trunc(options.attempt ?? options.resumeFrom?.attempt ?? 1)));
  const settings: RoleSettings = {
    staffedRoles: options.team ? staffedRoles(options.team) : AGENT_ROLES,
    allowedCommands: options.allowedCommands ?? [],
    reviewerMayRunCommands: options.reviewerMayRunCommands ?? false,
    qaMayWriteTests: options.qaMayWriteTests ?? false,
  };
  const tools = agentToolsByName(definition.toolNames(settings), { testFilesOnly: role === 'qa' });
  const toolsByName = new Map<string, AgentTool>(tools.map((t) => [t.name, t]));
  const toolSpecs: ToolSpec[] = [
    ...tools.map((t) => t.spec),
    { name: 'finish', description: definition.finishDescription, inputSchema: definition.finishInputSchema(settings) },
  ];
  const system = redact(definition.systemPrompt(settings));

  const invocationStart = clock();
  const state = options.resumeFrom ? restoreState(options.resumeFrom, options) : await freshState(options, limits, definition.finishDescription, attempt, clock);
  const stuck = new StuckDetector(options.stuckThreshold ?? DEFAULT_STUCK_THRESHOLD, options.resumeFrom ? { ...options.resumeFrom.repeats } : {});
  const elapsed = () => state.elapsedBeforeMs + Math.max(0, clock() - invocationStart);
  const tags: AgentTags = {
    role,
    projectId: options.task.projectId,
    goalId: options.task.goalId,
    taskId: options.task.id,
    attempt: String(attempt),
    runId: state.runId,
  };
  const emit = async (type: AgentEventType, data: Record<string, unknown>) => {
    if (options.onEvent) await options.onEvent({ type, at: new Date(clock()).toISOString(), tags, data });
  };
  const policy = model.policy;
  const effectiveStartTier = policy && policy.length > 0 ? Math.min(startTier, policy.length - 1) : startTier;

  const buildRun = (outcome: AgentRun['outcome'], error?: FailureCause): AgentRun => ({
    id: state.runId,
    projectId: options.task.projectId,
    goalId: options.task.goalId,
    taskId: options.task.id,
    role,
    attempt,
    modelTier: Math.min(7, effectiveStartTier),
    modelCalls: state.modelCalls.slice(0, MAX_RECORDED_MODEL_CALLS),
    modelCallCount: state.modelCallCount,
    tokens: { ...state.tokens },
    costUsd: state.costUsd,
    toolCalls: { total: state.toolCalls.total, failed: state.toolCalls.failed, byName: { ...state.toolCalls.byName } },
    outcome,
    ...(error ? { error } : {}),
    startedAt: state.startedAt,
    endedAt: new Date(clock()).toISOString(),
    durationMs: Math.round(elapsed()),
  });

  const checkpoint = (): AgentCheckpoint => ({
    version: CHECKPOINT_VERSION,
    runId: state.runId,
    role,
    projectId: options.task.projectId,
    goalId: options.task.goalId,
    taskId: options.task.id,
    attempt,
    startTier,
    startedAt: state.startedAt,
    elapsedMs: Math.round(elapsed()),
    turns: state.turns,
    finishRepairsUsed: state.finishRepairsUsed,
    messages: structuredClone(state.messages),
    usage: {
      tokens: { ...state.tokens },
      costUsd: state.costUsd,
      modelCallCount: state.modelCallCount,
      modelCalls: [...state.modelCalls],
      modelsUsed: [...state.modelsUsed],
    },
    toolCalls: structuredClone(state.toolCalls),
    repeats: { ...stuck.counts },
  });

  /** The dearest model the call could end up on: the start tier or any fallback after it. */
  const worstCaseUsd = (request: ConverseRequest): number => {
    const inputTokens = estimateTokens(request);
    // Without a policy the model is unknown and priced at the default (dearest) price, so the
    // budget errs towards stopping early.
    const specs = policy && policy.length > 0 ? policy.slice(effectiveStartTier) : ['unpriced:model'];
    const priceOf = (spec: string) =>
      model.prices
        ? model.prices.worstCaseUsd(spec, inputTokens, limits.maxOutputTokens)
        : estimateWorstCaseUsd(spec, inputTokens, limits.maxOutputTokens);
    return Math.max(...specs.map(priceOf));
  };

  const runTool = async (use: ToolUseBlock): Promise<{ content: string; isError: boolean; fingerprint: string }> => {
    const tool = toolsByName.get(use.name);
    const started = clock();
    let outcome: { content: string; isError: boolean; fingerprint: string };
    try {
      if (!tool) throw new ToolNotAvailableError(use.name, role, toolSpecs.map((t) => t.name));
      const remainingMs = Math.max(1_000, limits.maxWallMs - elapsed());
      const context: WorkspaceToolContext = {
        root: options.workingDir,
        allowedCommands: settings.allowedCommands,
        commandTimeoutMs: Math.min(options.commandTimeoutMs ?? 120_000, remainingMs),
        network: options.network,
      };
      const result = await tool.run(context, use.input);
      const text = clipMiddle(redact(tool.render(result)), limits.maxToolResultChars);
      outcome = { content: wrapUntrusted(`tool:${use.name}`, text), isError: false, fingerprint: resultFingerprint(result, false) };
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      const failure: Error = error;
      const meantForModel: boolean = isToolError(failure);
      if (!meantForModel) {
        // Not the model's fault (a bug or an infrastructure failure), but the model can still
        // choose another way; the warning makes sure a person sees it too.
        logger.warn('Tool failed unexpectedly', { tool: use.name, error: failure.message, errorName: failure.name, ...tags });
      }
      const message = meantForModel ? `Error: ${failure.message}` : `Error: ${use.name} failed (${failure.name}): ${failure.message}`;
      outcome = { content: clipMiddle(redact(message), 4_000), isError: true, fingerprint: resultFingerprint({ error: message }, true) };
    }
    state.toolCalls.total++;
    if (outcome.isError) state.toolCalls.failed++;
    state.toolCalls.byName[use.name] = (state.toolCalls.byName[use.name] ?? 0) + 1;
    await emit('Tool.Called', { tool: use.name, isError: outcome.isError, durationMs: Math.max(0, clock() - started), turn: state.turns });
    return outcome;
  };

  const observeRepeat = async (name: string, input: unknown, fingerprint: string) => {
    try {
      stuck.observe(name, input, fingerprint);
    } catch (error) {
      if (error instanceof AgentStuckError) await emit('Agent.Stuck', { tool: error.toolName, input: redact(error.canonicalInput), repeats: error.repeats });
      throw error;
    }
  };

  logger.info('Agent run starting', { ...tags, resumed: !!options.resumeFrom, turns: state.turns });
  await emit('Agent.Started', { resumed: !!options.resumeFrom, startTier, turns: state.turns, tools: toolSpecs.map((t) => t.name) });

  let turnsThisInvocation = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new AgentCancelledError({ cause: options.signal.reason });
      // Only between turns, and never before this invocation made progress: a continuation that
      // suspended at once would re-enqueue itself forever.
      if (turnsThisInvocation > 0 && options.shouldSuspend && (await options.shouldSuspend())) {
        const saved = checkpoint();
        const run = buildRun('continued');
        await emit('Agent.Suspended', { turns: state.turns, costUsd: state.costUsd });
        throw new AgentSuspendedError(saved, run);
      }
      if (state.turns >= limits.maxTurns) {
        throw new AgentFailedError('turn-limit', `the agent used all ${limits.maxTurns} turns without a valid finish`);
      }
      const spentMs = elapsed();
      if (spentMs >= limits.maxWallMs) {
        throw new AgentFailedError('wall-time', `the run took ${Math.round(spentMs / 1000)} s, over its ${Math.round(limits.maxWallMs / 1000)} s limit`);
      }
      if (options.heartbeat) await options.heartbeat();

      elideOldToolResults(state.messages, system, toolSpecs, limits.maxContextTokens);
      const deadline = AbortSignal.timeout(Math.max(1, limits.maxWallMs - spentMs));
      const request: ConverseRequest = {
        system,
        cacheSystem: true,
        messages: state.messages,
        tools: toolSpecs,
        maxTokens: limits.maxOutputTokens,
        ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
        signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline,
        tags,
      };

      if (options.budget) {
        const worstCase = worstCaseUsd(request);
        try {
          await options.budget.check(worstCase);
        } catch (error) {
          if (error instanceof BudgetExceededError) {
            metrics.addMetric('BudgetExceeded', MetricUnit.Count, 1);
            await emit('Budget.Exceeded', { worstCaseUsd: worstCase, remainingUsd: error.remainingUsd, limitUsd: error.limitUsd, scope: error.scope });
          }
          throw error;
        }
      }

      let reply: ModelCallResult;
      try {
        reply = await model.converse(request, { startTier });
      } catch (error) {
        if (error instanceof ModelCallAbortedError) {
          if (options.signal?.aborted) throw new AgentCancelledError({ cause: error });
          throw new AgentFailedError('wall-time', `the model call was cut off at the ${Math.round(limits.maxWallMs / 1000)} s wall-time limit`, { cause: error });
        }
        if (error instanceof ModelUnavailableError) throw new AgentFailedError('model-unavailable', error.message, { cause: error });
        throw error;
      }
      state.turns++;
      turnsThisInvocation++;
      recordCall(state, reply.record, policy, effectiveStartTier);
      if (options.budget) await options.budget.charge(reply.costUsd);
      await emit('Model.Called', { ...reply.record, turn: state.turns });

      state.messages.push({ role: 'assistant', content: assistantContent(reply) });
      if (reply.stopReason === 'content_filtered' || reply.stopReason === 'guardrail_intervened') {
        throw new AgentFailedError('model-refused', `the model stopped with ${reply.stopReason}`);
      }
      if (reply.stopReason === 'context_window_exceeded') {
        throw new AgentFailedError('context-overflow', 'the conversation no longer fits the model\'s context window');
      }

      const toolUses = reply.content.filter((b): b is ToolUseBlock => b.type === 'toolUse');
      if (toolUses.length === 0) {
        const nudge =
          reply.stopReason === 'max_tokens'
            ? 'Your reply was cut off at the output limit before any tool call. Work in smaller steps: one tool call at a time, and shorter file contents.'
            : 'Reply with a tool call. When the work is done, call finish with the result.';
        await observeRepeat(NO_TOOL_CALL, {}, createHash('sha256').update(nudge).digest('hex'));
        state.messages.push({ role: 'user', content: [{ type: 'text', text: nudge }] });
        continue;
      }

      const results: ContentBlock[] = [];
      let finished: { value: FinishPayload<R> } | undefined;
      for (const use of toolUses) {
        if (finished) {
          results.push({ type: 'toolResult', toolUseId: use.id, content: 'Not run: finish was already called in this reply.', isError: true });
          continue;
        }
        if (use.name === 'finish') {
          const validation = definition.validateFinish(use.input, settings);
          if (validation.ok) {
            finished = { value: validation.value };
            results.push({ type: 'toolResult', toolUseId: use.id, content: 'Accepted.' });
            continue;
          }
          await emit('Agent.FinishRejected', { issues: validation.issues.map(redact), repairRound: state.finishRepairsUsed + 1 });
          if (state.finishRepairsUsed >= 1) {
            throw new AgentFailedError('invalid-finish', `the finish input was still invalid after a repair round: ${validation.issues.join('; ')}`);
          }
          state.finishRepairsUsed++;
          results.push({ type: 'toolResult', toolUseId: use.id, content: redact(repairMessage(validation.issues)), isError: true });
          continue;
        }
        const outcome = await runTool(use);
        results.push({ type: 'toolResult', toolUseId: use.id, content: outcome.content, ...(outcome.isError ? { isError: true } : {}) });
        await observeRepeat(use.name, use.input, outcome.fingerprint);
      }

      if (finished) {
        const run = buildRun('succeeded');
        metrics.addMetric('AgentRunSucceeded', MetricUnit.Count, 1);
        await emit('Agent.Finished', { outcome: run.outcome, costUsd: run.costUsd, turns: state.turns, durationMs: run.durationMs });
        logger.info('Agent run finished', { ...tags, turns: state.turns, costUsd: run.costUsd });
        return { result: finished.value, run, modelsUsed: [...state.modelsUsed] };
      }
      state.messages.push({ role: 'user', content: results });
      if (options.heartbeat) await options.heartbeat();
    }
  } catch (error) {
    if (error instanceof AgentSuspendedError) throw error;
    const outcome = outcomeOf(error);
    const cause: FailureCause = {
      code: error instanceof AgentError ? error.stepFunctionsError : error instanceof Error ? error.name : 'Error',
      message: redact(error instanceof Error ? error.message : String(error)).slice(0, 4_000),
    };
    const run = buildRun(outcome, cause);
    if (error instanceof AgentError) error.run = run;
    metrics.addMetric('AgentRunFailed', MetricUnit.Count, 1);
    logger.warn('Agent run ended without a result', { ...tags, outcome, error: cause.message });
    try {
      await emit('Agent.Finished', { outcome, error: cause, costUsd: run.costUsd, turns: state.turns, durationMs: run.durationMs });
    } catch (emitError) {
      // The run's own failure is the one to report; the lost event is logged, not hidden.
      logger.error('Could not emit Agent.Finished', { ...tags, error: (emitError as Error).message });
    }
    throw error;
  }
}

// ---------------------------------------------------------------- helpers

function outcomeOf(error: unknown): AgentRun['outcome'] {
  if (error instanceof BudgetExceededError) return 'budget-exceeded';
  if (error instanceof AgentStuckError) return 'stuck';
  if (error instanceof AgentCancelledError) return 'cancelled';
  if (error instanceof AgentFailedError && error.reason === 'wall-time') return 'timed-out';
  return 'failed';
}

function repairMessage(issues: readonly string[]): string {
  return [
    'The finish input is invalid, so the run has not ended. Problems:',
    ...issues.map((issue) => `- ${issue}`),
    'Call finish again with a corrected input. This is the only correction allowed: a second invalid finish fails the task.',
  ].join('\n');
}

/** The model's reply as it goes back into the conversation: redacted, never empty. */
function assistantContent(reply: ModelCallResult): ContentBlock[] {
  const blocks: ContentBlock[] = reply.content.map((block) =>
    block.type === 'text' ? { type: 'text', text: redact(block.text) } : { ...block, input: redactDeep(block.input) },
  );
  return blocks.length > 0 ? blocks : [{ type: 'text', text: '(empty reply)' }];
}

function recordCall(state: LoopState, record: ModelCallRecord, policy: readonly string[] | undefined, startTier: number): void {
  state.modelCallCount++;
  state.tokens.input += record.inputTokens;
  state.tokens.output += record.outputTokens;
  state.tokens.cacheRead += record.cacheReadTokens;
  state.tokens.cacheWrite += record.cacheWriteTokens;
  state.costUsd = roundUsd(state.costUsd + record.costUsd);
  if (!state.modelsUsed.includes(record.spec)) state.modelsUsed.push(record.spec);
  // The gateway only moves to a stronger model after the previous one failed.
  const fallbackFrom = policy && record.tier > startTier ? policy[record.tier - 1] : undefined;
  if (state.modelCalls.length < MAX_RECORDED_MODEL_CALLS) {
    state.modelCalls.push({
      model: record.spec,
      tokens: { input: record.inputTokens, output: record.outputTokens, cacheRead: record.cacheReadTokens, cacheWrite: record.cacheWriteTokens },
      costUsd: record.costUsd,
      latencyMs: Math.max(0, Math.round(record.latencyMs)),
      ...(fallbackFrom ? { fallbackFrom } : {}),
      stopReason: record.stopReason,
    });
  }
}

/**
 * Keeps a long conversation inside the model's window: the oldest tool results (and long inputs
 * of old tool calls, such as whole-file writes) are replaced by a short note until the request
 * fits. The first message (context and task) and the latest exchange are never touched.
 */
function elideOldToolResults(messages: Message[], system: string, tools: ToolSpec[], maxTokens: number): void {
  const size = () => estimateTokens({ system, messages, tools, maxTokens: 0 });
  if (size() <= maxTokens) return;
  for (let i = 1; i < messages.length - 2; i++) {
    const message = messages[i]!;
    message.content = message.content.map((block) => {
      if (block.type === 'toolResult' && block.content.length > ELIDED_RESULT.length) return { ...block, content: ELIDED_RESULT };
      if (block.type === 'toolUse') {
        const input = Object.fromEntries(
          Object.entries(block.input).map(([k, v]) => [k, typeof v === 'string' && v.length > 200 ? `[elided ${v.length} characters]` : v]),
        );
        return { ...block, input };
      }
      return block;
    });
    if (size() <= maxTokens) return;
  }
}

function emptyState(runId: string, startedAt: string): LoopState {
  return {
    runId,
    startedAt,
    elapsedBeforeMs: 0,
    turns: 0,
    finishRepairsUsed: 0,
    messages: [],
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0,
    modelCallCount: 0,
    modelCalls: [],
    modelsUsed: [],
    toolCalls: { total: 0, failed: 0, byName: {} },
  };
}

async function freshState<R extends AgentRole>(
  options: RunAgentOptions<R>,
  limits: AgentLimits,
  finishDescription: string,
  attempt: number,
  clock: () => number,
): Promise<LoopState> {
  const state = emptyState(options.runId ?? newId('agentRun'), new Date(clock()).toISOString());
  const taskText = [options.task.title, options.task.spec, ...(options.task.acceptanceCriteria ?? []), options.goal?.title ?? '', options.goal?.description ?? ''].join('\n');
  const lessons = selectRelevantLessons(options.lessons ?? [], taskText, options.maxLessons ?? 5, {
    role: options.role,
    kind: options.task.kind,
  });
  const prefix = await buildContextPrefix({
    workingDir: options.workingDir,
    budgetTokens: limits.contextBudgetTokens,
    contextFiles: options.contextFiles,
    namedFiles: options.task.files,
    taskText: `${options.task.title}\n${options.task.spec}\n${(options.task.acceptanceCriteria ?? []).join('\n')}`,
    dependencyOutputs: options.dependencyOutputs,
    lessons,
  });
  state.messages.push({
    role: 'user',
    content: [
      { type: 'text', text: prefix.text },
      // Everything above is the same for every turn of this task (and for tasks sharing a
      // working copy state), so providers with explicit caching bill it once.
      { type: 'cachePoint' },
      { type: 'text', text: redact(renderTask(options, finishDescription, attempt)) },
    ],
  });
  return state;
}

function restoreState<R extends AgentRole>(checkpoint: AgentCheckpoint, options: RunAgentOptions<R>): LoopState {
  const parsed = AgentCheckpointSchema.safeParse(checkpoint);
  if (!parsed.success) throw new InvalidCheckpointError(`the checkpoint does not validate: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const saved = parsed.data;
  if (saved.role !== options.role || saved.taskId !== options.task.id || saved.goalId !== options.task.goalId) {
    throw new InvalidCheckpointError(
      `the checkpoint belongs to ${saved.role} on task ${saved.taskId} of goal ${saved.goalId}, not ${options.role} on task ${options.task.id} of goal ${options.task.goalId}`,
    );
  }
  return {
    runId: saved.runId,
    startedAt: saved.startedAt,
    elapsedBeforeMs: saved.elapsedMs,
    turns: saved.turns,
    finishRepairsUsed: saved.finishRepairsUsed,
    // A stored checkpoint is outside our process; redacting again costs one pass and trusts nothing.
    messages: saved.messages.map((m) => ({
      role: m.role,
      content: m.content.map((b) =>
        b.type === 'text' ? { ...b, text: redact(b.text) } : b.type === 'toolResult' ? { ...b, content: redact(b.content) } : b.type === 'toolUse' ? { ...b, input: redactDeep(b.input) } : b,
      ),
    })),
    tokens: { ...saved.usage.tokens },
    costUsd: saved.usage.costUsd,
    modelCallCount: saved.usage.modelCallCount,
    modelCalls: [...saved.usage.modelCalls],
    modelsUsed: [...saved.usage.modelsUsed],
    toolCalls: structuredClone(saved.toolCalls),
  };
}

function renderTask<R extends AgentRole>(options: RunAgentOptions<R>, finishDescription: string, attempt: number): string {
  const task = options.task;
  const lines = [`# Task: ${task.title}`, `Task id: ${task.id}${task.kind ? ` · kind: ${task.kind}` : ''} · attempt ${attempt}`];
  if (options.goal) {
    lines.push('', `## Goal: ${options.goal.title}`);
    if (options.goal.description?.trim()) lines.push(wrapUntrusted(`goal:${options.goal.source ?? 'api'}`, options.goal.description));
  }
  lines.push('', '## Specification', task.spec);
  if (task.acceptanceCriteria?.length) lines.push('', '## Acceptance criteria', ...task.acceptanceCriteria.map((c) => `- ${c}`));
  if (options.feedback) {
    lines.push(
      '',
      `## Rework requested by ${options.feedback.from === 'qa' ? 'QA' : 'the reviewer'}`,
      'This task came back from the quality gate. Address every point below, then run the tests again.',
      wrapUntrusted(`feedback:${options.feedback.from}`, renderFeedback(options.feedback)),
    );
  }
  if (options.previousAttemptError) {
    lines.push(
      '',
      '## Previous attempt',
      `An earlier attempt at this task ended with ${options.previousAttemptError.code}: ${options.previousAttemptError.message}. Take a different approach where that one failed.`,
    );
  }
  lines.push('', '## Finishing', `Call finish when done. ${finishDescription}`);
  return lines.join('\n');
}

function renderFeedback(feedback: ReworkFeedback): string {
  const lines = [feedback.verdict ? `Verdict: ${feedback.verdict}` : '', feedback.summary].filter(Boolean);
  for (const c of feedback.comments ?? []) {
    lines.push(`- [${c.severity}] ${c.file ? `${c.file}${c.line ? `:${c.line}` : ''}: ` : ''}${c.body}`);
  }
  if (feedback.testResults) {
    const t = feedback.testResults;
    lines.push(`Tests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped${t.command ? ` (${t.command})` : ''}`);
  }
  for (const f of feedback.failures ?? []) lines.push(`- failing: ${f.test}${f.file ? ` (${f.file})` : ''}: ${f.message}`);
  return lines.join('\n');
}
