// The agent loop: system prompt for the role → stable context prefix (cache point) → the task →
// model turns with tool calls, the conversation cached as it grows (rolling cache points), until
// the agent calls `finish` with a payload its role's schema accepts. Budgets are checked before
// every call, repeats stop a stuck agent, limits stop a slow one, and a run that must yield
// (Lambda timeout) suspends with a checkpoint it can resume from.
//
// Read it as a page: `runAgent` opens a session and steps it until it finishes; a step asks the
// model (`query`) and runs what it asked for (`executeTools`).
import { createHash } from 'node:crypto';
import { AGENT_ROLES, newId, staffedRoles, type AgentRole, type AgentRun, type FailureCause } from '../domain/index';
import {
  ModelCallAbortedError,
  ModelUnavailableError,
  estimateTokens,
  estimateWorstCaseUsd,
  type ContentBlock,
  type ConverseRequest,
  type ModelCallResult,
  type ToolSpec,
  type ToolUseBlock,
} from '../models/index';
import { logger } from '../powertools';
import { isToolError, type WorkspaceToolContext } from '../workspace/index';
import { elideOldToolResults } from './elision';
import { startHeartbeatTimer } from './heartbeat-timer';
import { checkpointOf, newRunState, recordModelCall, recordToolCall, restoreRunState, runRecordOf, type RunState } from './run-state';
import {
  AgentCancelledError,
  AgentError,
  AgentFailedError,
  AgentStuckError,
  AgentSuspendedError,
  BudgetExceededError,
} from './errors';
import { FINISH_DESCRIPTIONS, finishInputSchema, validateFinish, type FinishPayload } from './finish-schemas';
import {
  DEFAULT_AGENT_LIMITS,
  type AgentEventType,
  type AgentLimits,
  type AgentModel,
  type AgentResult,
  type AgentResultFor,
  type AgentTags,
  type RunAgentOptions,
} from './options';
import { toolPermissions, type RoleSettings } from './permissions';
import { nudgeFor, openingMessage, repairMessage, systemPrompt } from './prompts';
import { redact, redactDeep, wrapUntrusted } from './redaction';
import { StuckDetector } from './stuck';
import { ToolNotAvailableError, agentToolsByName, clipMiddle, resultFingerprint, type AgentTool } from './tools';

const NO_TOOL_CALL = '(no tool call)';

/** Runs one agent on one task until it finishes; every other ending is thrown (errors.ts). */
export async function runAgent<R extends AgentRole>(options: RunAgentOptions<R>): Promise<AgentResultFor<R>> {
  const session = await AgentSession.open(options);
  return (await session.run()) as AgentResultFor<R>;
}

interface ToolOutcome {
  content: string;
  isError: boolean;
  fingerprint: string;
}

/** What a session fixes when it opens: the same for every turn of this invocation. */
interface SessionSetup {
  settings: RoleSettings;
  limits: AgentLimits;
  model: AgentModel;
  /** The tier the run starts on, within the model policy. */
  startTier: number;
  /** The role's system prompt, redacted. */
  system: string;
  tools: ReadonlyMap<string, AgentTool>;
  /** The role's tools and `finish`, as the model is offered them. */
  toolSpecs: readonly ToolSpec[];
  clock: () => number;
  invocationStart: number;
}

/** One agent run in this invocation: fixed set-up, the run's state, and the turn it is on. */
export class AgentSession<R extends AgentRole> {
  private readonly settings: RoleSettings;
  private readonly limits: AgentLimits;
  private readonly model: AgentModel;
  private readonly startTier: number;
  private readonly system: string;
  private readonly tools: ReadonlyMap<string, AgentTool>;
  private readonly toolSpecs: readonly ToolSpec[];
  private readonly clock: () => number;
  private readonly invocationStart: number;
  private readonly stuck: StuckDetector;
  private readonly tags: AgentTags;
  private turnsThisInvocation = 0;

  private constructor(
    private readonly options: RunAgentOptions<R>,
    setup: SessionSetup,
    private readonly state: RunState,
  ) {
    ({
      settings: this.settings,
      limits: this.limits,
      model: this.model,
      startTier: this.startTier,
      system: this.system,
      tools: this.tools,
      toolSpecs: this.toolSpecs,
      clock: this.clock,
      invocationStart: this.invocationStart,
    } = setup);
    this.stuck = new StuckDetector(this.limits.stuckThreshold, state.repeats);
    this.tags = {
      role: state.role,
      projectId: state.projectId,
      goalId: state.goalId,
      taskId: state.taskId,
      attempt: String(state.attempt),
      runId: state.runId,
    };
  }

  /** Sets the run up: the role's prompt and tools, and the state, fresh or from the checkpoint. */
  static async open<R extends AgentRole>(options: RunAgentOptions<R>): Promise<AgentSession<R>> {
    const { role, task } = options;
    const clock = options.hooks?.now ?? Date.now;
    const invocationStart = clock();
    const { budget: _guard, ...limitOverrides } = options.limits ?? {};
    const limits: AgentLimits = { ...DEFAULT_AGENT_LIMITS, ...definedOnly(limitOverrides) };
    const gateway = options.model.gateway;
    const model: AgentModel = typeof gateway === 'function' ? { converse: gateway } : gateway;
    const settings: RoleSettings = {
      staffedRoles: options.settings.team ? staffedRoles(options.settings.team) : AGENT_ROLES,
      allowedCommands: options.settings.allowedCommands ?? [],
      qaMayWriteTests: options.settings.qaMayWriteTests ?? false,
    };
    const permissions = toolPermissions(role, settings);
    const tools = agentToolsByName(permissions.toolNames, { testFilesOnly: permissions.writeScope === 'test-files' });
    const toolSpecs: ToolSpec[] = [
      ...tools.map((t) => t.spec),
      { name: 'finish', description: FINISH_DESCRIPTIONS[role], inputSchema: finishInputSchema(role, settings) },
    ];

    // A continuation normally passes neither; the checkpoint remembers what the run started with.
    const saved = options.resume?.checkpoint;
    const startTier = Math.max(0, Math.trunc(options.model.startTier ?? saved?.startTier ?? 0));
    const attempt = Math.min(20, Math.max(1, Math.trunc(task.attempt ?? saved?.attempt ?? 1)));
    const state = saved
      ? restoreRunState(saved, { role, taskId: task.id, goalId: task.goalId, attempt, startTier })
      : newRunState(
          { runId: options.resume?.runId ?? newId('agentRun'), role, projectId: task.projectId, goalId: task.goalId, taskId: task.id, attempt, startTier },
          new Date(clock()).toISOString(),
          await openingMessage({ role, task, settings: options.settings, context: options.context ?? {}, limits, attempt, finishDescription: FINISH_DESCRIPTIONS[role] }),
        );
    const policy = model.policy;
    return new AgentSession(
      options,
      {
        settings,
        limits,
        model,
        startTier: policy && policy.length > 0 ? Math.min(startTier, policy.length - 1) : startTier,
        system: redact(systemPrompt(role, settings, permissions)),
        tools: new Map(tools.map((t) => [t.name, t])),
        toolSpecs,
        clock,
        invocationStart,
      },
      state,
    );
  }

  /** Steps until the agent finishes; records how the run ended either way. */
  async run(): Promise<AgentResult<R>> {
    const resumed = !!this.options.resume?.checkpoint;
    logger.info('Agent run starting', { ...this.tags, resumed, turns: this.state.turns });
    await this.emit('Agent.Started', { resumed, startTier: this.state.startTier, turns: this.state.turns, tools: this.toolSpecs.map((t) => t.name) });
    const { heartbeat, heartbeatIntervalMs } = this.options.hooks ?? {};
    const timer = heartbeat && heartbeatIntervalMs ? startHeartbeatTimer(heartbeat, heartbeatIntervalMs) : undefined;
    try {
      for (;;) {
        const finished = await this.step();
        if (finished) return await this.succeed(finished.value);
      }
    } catch (error) {
      if (!(error instanceof AgentSuspendedError)) await this.fail(error);
      throw error;
    } finally {
      await timer?.stop();
    }
  }

  /** One turn: ask the model, then run the tools it called. Returns the payload once it finished. */
  async step(): Promise<{ value: FinishPayload<R> } | undefined> {
    return this.executeTools(await this.query());
  }

  // ---------------------------------------------------------------- query

  /** Checks the run may go on, then makes one model call and appends the reply to the conversation. */
  private async query(): Promise<ModelCallResult> {
    const { options, limits, state } = this;
    const hooks = options.hooks ?? {};
    if (hooks.signal?.aborted) throw new AgentCancelledError({ cause: hooks.signal.reason });
    // Only between turns, and never before this invocation made progress: a continuation that
    // suspended at once would re-enqueue itself forever.
    if (this.turnsThisInvocation > 0 && hooks.shouldSuspend && (await hooks.shouldSuspend())) await this.suspend();
    if (state.turns >= limits.maxTurns) {
      throw new AgentFailedError('turn-limit', `the agent used all ${limits.maxTurns} turns without a valid finish`);
    }
    const spentMs = this.elapsed();
    if (spentMs >= limits.maxWallMs) {
      throw new AgentFailedError('wall-time', `the run took ${Math.round(spentMs / 1000)} s, over its ${Math.round(limits.maxWallMs / 1000)} s limit`);
    }
    if (hooks.heartbeat) await hooks.heartbeat();

    elideOldToolResults(state.messages, this.system, this.toolSpecs, limits.maxContextTokens);
    const wallDeadline = AbortSignal.timeout(Math.max(1, limits.maxWallMs - spentMs));
    // A call may not outlive the invocation either: cut off there, the run suspends instead.
    const invocationLeftMs = hooks.timeLeftMs?.();
    const invocationDeadline = invocationLeftMs === undefined ? undefined : AbortSignal.timeout(Math.max(1, invocationLeftMs));
    const deadline = invocationDeadline ? AbortSignal.any([wallDeadline, invocationDeadline]) : wallDeadline;
    const request: ConverseRequest = {
      system: this.system,
      cacheSystem: true,
      // Rolling points on the growing conversation; 'prefix-only' caches system and context alone.
      cacheConversation: (options.model.cachePolicy ?? 'rolling') === 'rolling',
      messages: state.messages,
      tools: [...this.toolSpecs],
      maxTokens: limits.maxOutputTokens,
      ...(options.model.temperature !== undefined ? { temperature: options.model.temperature } : {}),
      signal: hooks.signal ? AbortSignal.any([hooks.signal, deadline]) : deadline,
      tags: this.tags,
    };
    await this.checkBudget(request);

    let reply: ModelCallResult;
    try {
      reply = await this.model.converse(request, { startTier: state.startTier });
    } catch (error) {
      if (error instanceof ModelCallAbortedError) {
        if (hooks.signal?.aborted) throw new AgentCancelledError({ cause: error });
        if (invocationDeadline?.aborted && !wallDeadline.aborted) {
          if (this.turnsThisInvocation > 0) await this.suspend();
          // Suspending before any progress would hand the same impossible call to every continuation.
          throw new AgentFailedError('wall-time', `the model call did not finish in the ${Math.round((invocationLeftMs ?? 0) / 1000)} s this invocation had left`, { cause: error });
        }
        throw new AgentFailedError('wall-time', `the model call was cut off at the ${Math.round(limits.maxWallMs / 1000)} s wall-time limit`, { cause: error });
      }
      if (error instanceof ModelUnavailableError) throw new AgentFailedError('model-unavailable', error.message, { cause: error });
      throw error;
    }
    state.turns++;
    this.turnsThisInvocation++;
    recordModelCall(state, reply.record, this.model.policy, this.startTier);
    if (options.limits?.budget) await options.limits.budget.charge(reply.costUsd);
    await this.emit('Model.Called', { ...reply.record, turn: state.turns });

    state.messages.push({ role: 'assistant', content: assistantContent(reply) });
    if (reply.stopReason === 'content_filtered' || reply.stopReason === 'guardrail_intervened') {
      throw new AgentFailedError('model-refused', `the model stopped with ${reply.stopReason}`);
    }
    if (reply.stopReason === 'context_window_exceeded') {
      throw new AgentFailedError('context-overflow', 'the conversation no longer fits the model\'s context window');
    }
    return reply;
  }

  /** Stops this invocation with a checkpoint the continuation resumes from. */
  private async suspend(): Promise<never> {
    const checkpoint = checkpointOf(this.state, this.elapsed());
    const run = this.runRecord('continued');
    await this.emit('Agent.Suspended', { turns: this.state.turns, costUsd: this.state.usage.costUsd });
    throw new AgentSuspendedError(checkpoint, run);
  }

  /** Asks the budget about the dearest model the call could end up on: the start tier or any fallback after it. */
  private async checkBudget(request: ConverseRequest): Promise<void> {
    const budget = this.options.limits?.budget;
    if (!budget) return;
    const { maxOutputTokens } = this.limits;
    const inputTokens = estimateTokens(request);
    const policy = this.model.policy;
    // Without a policy the model is unknown and priced at the default (dearest) price, so the
    // budget errs towards stopping early.
    const specs = policy && policy.length > 0 ? policy.slice(this.startTier) : ['unpriced:model'];
    const prices = this.model.prices;
    const priceOf = (spec: string) => (prices ? prices.worstCaseUsd(spec, inputTokens, maxOutputTokens) : estimateWorstCaseUsd(spec, inputTokens, maxOutputTokens));
    const worstCase = Math.max(...specs.map(priceOf));
    try {
      await budget.check(worstCase);
    } catch (error) {
      if (error instanceof BudgetExceededError) {
        await this.emit('Budget.Exceeded', { worstCaseUsd: worstCase, remainingUsd: error.remainingUsd, limitUsd: error.limitUsd, scope: error.scope });
      }
      throw error;
    }
  }

  // ---------------------------------------------------------------- executeTools

  /** Runs the reply's tool calls in order and appends their results; a valid finish ends the run. */
  private async executeTools(reply: ModelCallResult): Promise<{ value: FinishPayload<R> } | undefined> {
    const { state } = this;
    const toolUses = reply.content.filter((b): b is ToolUseBlock => b.type === 'toolUse');
    if (toolUses.length === 0) {
      const nudge = nudgeFor(reply.stopReason);
      await this.observeRepeat(NO_TOOL_CALL, {}, createHash('sha256').update(nudge).digest('hex'));
      state.messages.push({ role: 'user', content: [{ type: 'text', text: nudge }] });
      return undefined;
    }

    const results: ContentBlock[] = [];
    let finished: { value: FinishPayload<R> } | undefined;
    for (const use of toolUses) {
      if (finished) {
        results.push({ type: 'toolResult', toolUseId: use.id, content: 'Not run: finish was already called in this reply.', isError: true });
      } else if (use.name === 'finish') {
        const validation = validateFinish(this.options.role, use.input, this.settings);
        if (validation.ok) {
          finished = { value: validation.value };
          results.push({ type: 'toolResult', toolUseId: use.id, content: 'Accepted.' });
        } else {
          results.push({ type: 'toolResult', toolUseId: use.id, content: await this.rejectFinish(validation.issues), isError: true });
        }
      } else {
        const outcome = await this.runTool(use);
        results.push({ type: 'toolResult', toolUseId: use.id, content: outcome.content, ...(outcome.isError ? { isError: true } : {}) });
        await this.observeRepeat(use.name, use.input, outcome.fingerprint);
      }
    }
    if (finished) return finished;
    state.messages.push({ role: 'user', content: results });
    if (this.options.hooks?.heartbeat) await this.options.hooks.heartbeat();
    return undefined;
  }

  /** An invalid finish gets one repair round; the second one fails the run. */
  private async rejectFinish(issues: string[]): Promise<string> {
    const { state } = this;
    await this.emit('Agent.FinishRejected', { issues: issues.map(redact), repairRound: state.finishRepairsUsed + 1 });
    if (state.finishRepairsUsed >= 1) {
      throw new AgentFailedError('invalid-finish', `the finish input was still invalid after a repair round: ${issues.join('; ')}`);
    }
    state.finishRepairsUsed++;
    return redact(repairMessage(issues));
  }

  private async runTool(use: ToolUseBlock): Promise<ToolOutcome> {
    const { options, limits, state } = this;
    const tool = this.tools.get(use.name);
    const started = this.clock();
    let outcome: ToolOutcome;
    try {
      if (!tool) throw new ToolNotAvailableError(use.name, options.role, this.toolSpecs.map((t) => t.name));
      const invocationLeftMs = options.hooks?.timeLeftMs?.() ?? Number.POSITIVE_INFINITY;
      const remainingMs = Math.max(1_000, Math.min(limits.maxWallMs - this.elapsed(), invocationLeftMs));
      const context: WorkspaceToolContext = {
        root: options.settings.workingDir,
        allowedCommands: this.settings.allowedCommands,
        commandTimeoutMs: Math.min(options.settings.commandTimeoutMs ?? 120_000, remainingMs),
        ...(options.settings.commands ? { commands: options.settings.commands } : {}),
        network: options.settings.network,
      };
      const result = await tool.run(context, use.input);
      const text = clipMiddle(redact(tool.render(result)), limits.maxToolResultChars);
      outcome = { content: wrapUntrusted(`tool:${use.name}`, text), isError: false, fingerprint: resultFingerprint(result, false) };
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      // Annotated so the type guard does not narrow `failure` to never on the unexpected path.
      const failure: Error = error;
      const meantForModel: boolean = isToolError(failure);
      if (!meantForModel) {
        // Not the model's fault (a bug or an infrastructure failure), but the model can still
        // choose another way; the warning makes sure a person sees it too.
        logger.warn('Tool failed unexpectedly', { tool: use.name, error: failure.message, errorName: failure.name, ...this.tags });
      }
      const message = meantForModel ? `Error: ${failure.message}` : `Error: ${use.name} failed (${failure.name}): ${failure.message}`;
      outcome = { content: clipMiddle(redact(message), 4_000), isError: true, fingerprint: resultFingerprint({ error: message }, true) };
    }
    recordToolCall(state, use.name, outcome.isError);
    await this.emit('Tool.Called', { tool: use.name, isError: outcome.isError, durationMs: Math.max(0, this.clock() - started), turn: state.turns });
    return outcome;
  }

  private async observeRepeat(name: string, input: unknown, fingerprint: string): Promise<void> {
    try {
      this.stuck.observe(name, input, fingerprint);
    } catch (error) {
      if (error instanceof AgentStuckError) await this.emit('Agent.Stuck', { tool: error.toolName, input: redact(error.canonicalInput), repeats: error.repeats });
      throw error;
    }
  }

  // ---------------------------------------------------------------- endings

  private async succeed(value: FinishPayload<R>): Promise<AgentResult<R>> {
    const run = this.runRecord('succeeded');
    await this.emit('Agent.Finished', { outcome: run.outcome, costUsd: run.costUsd, turns: this.state.turns, durationMs: run.durationMs });
    logger.info('Agent run finished', { ...this.tags, turns: this.state.turns, costUsd: run.costUsd });
    return { role: this.options.role, result: value, run, modelsUsed: [...this.state.usage.modelsUsed] };
  }

  /** Records a run that ended without a result; an AgentError carries the record to the caller. */
  private async fail(error: unknown): Promise<void> {
    const outcome = outcomeOf(error);
    const cause: FailureCause = {
      code: error instanceof AgentError ? error.stepFunctionsError : error instanceof Error ? error.name : 'Error',
      message: redact(error instanceof Error ? error.message : String(error)).slice(0, 4_000),
    };
    const run = this.runRecord(outcome, cause);
    if (error instanceof AgentError) error.run = run;
    logger.warn('Agent run ended without a result', { ...this.tags, outcome, error: cause.message });
    try {
      await this.emit('Agent.Finished', { outcome, error: cause, costUsd: run.costUsd, turns: this.state.turns, durationMs: run.durationMs });
    } catch (emitError) {
      // The run's own failure is the one to report; the lost event is logged, not hidden.
      logger.error('Could not emit Agent.Finished', { ...this.tags, error: (emitError as Error).message });
    }
  }

  // ---------------------------------------------------------------- helpers

  private elapsed(): number {
    return this.state.elapsedBeforeMs + Math.max(0, this.clock() - this.invocationStart);
  }

  private runRecord(outcome: AgentRun['outcome'], error?: FailureCause): AgentRun {
    return runRecordOf(this.state, { outcome, ...(error ? { error } : {}), modelTier: this.startTier, endedAt: new Date(this.clock()).toISOString(), durationMs: this.elapsed() });
  }

  private async emit(type: AgentEventType, data: Record<string, unknown>): Promise<void> {
    const onEvent = this.options.hooks?.onEvent;
    if (onEvent) await onEvent({ type, at: new Date(this.clock()).toISOString(), tags: this.tags, data });
  }
}

function outcomeOf(error: unknown): AgentRun['outcome'] {
  if (error instanceof BudgetExceededError) return 'budget-exceeded';
  if (error instanceof AgentStuckError) return 'stuck';
  if (error instanceof AgentCancelledError) return 'cancelled';
  if (error instanceof AgentFailedError && error.reason === 'wall-time') return 'timed-out';
  return 'failed';
}

/** Keeps an explicit `undefined` in the caller's limits from overriding a default. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The model's reply as it goes back into the conversation: redacted, never empty. */
function assistantContent(reply: ModelCallResult): ContentBlock[] {
  const blocks: ContentBlock[] = reply.content.map((block) =>
    block.type === 'text' ? { type: 'text', text: redact(block.text) } : { ...block, input: redactDeep(block.input) },
  );
  return blocks.length > 0 ? blocks : [{ type: 'text', text: '(empty reply)' }];
}
