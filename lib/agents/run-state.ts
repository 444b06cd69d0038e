// The state of one agent run, and everything made from it: a fresh state for a new run, the
// checkpoint (checkpoint.ts) that carries an unfinished run to another invocation, the state
// restored from that checkpoint, and the AgentRun record.
import type { AgentRole, AgentRun, FailureCause } from '../domain/index';
import type { Message, ModelCallRecord } from '../models/index';
import { AgentCheckpointSchema, CHECKPOINT_VERSION, type AgentCheckpoint, type RunUsage, type ToolCallStats } from './checkpoint';
import { InvalidCheckpointError } from './errors';
import { redact, redactDeep } from './redaction';

/** Who runs what: fixed for the whole run. */
export interface RunIdentity {
  runId: string;
  role: AgentRole;
  projectId: string;
  goalId: string;
  taskId: string;
  attempt: number;
  /** The start tier the run was asked for (a continuation starts there again). */
  startTier: number;
}

/** The run so far; a checkpoint is this state, serialised. */
export interface RunState extends RunIdentity {
  startedAt: string;
  /** Wall time spent in earlier invocations of this run. */
  elapsedBeforeMs: number;
  turns: number;
  finishRepairsUsed: number;
  messages: Message[];
  usage: RunUsage;
  toolCalls: ToolCallStats;
  /** The stuck detector's counts; the detector works on this object. */
  repeats: Record<string, number>;
}

// AgentRunSchema caps the list so a long run still fits a DynamoDB item; totals stay exact.
export const MAX_RECORDED_MODEL_CALLS = 500;

// Sums of many small float charges drift; a nano-dollar is below any price granularity.
const roundUsd = (usd: number) => Math.round(usd * 1e9) / 1e9;

export function newRunState(identity: RunIdentity, startedAt: string, openingMessage: Message): RunState {
  return {
    ...identity,
    startedAt,
    elapsedBeforeMs: 0,
    turns: 0,
    finishRepairsUsed: 0,
    messages: [openingMessage],
    usage: { tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, costUsd: 0, modelCallCount: 0, modelCalls: [], modelsUsed: [] },
    toolCalls: { total: 0, failed: 0, byName: {} },
    repeats: {},
  };
}

/**
 * The state a checkpoint carries, after checking that it parses and belongs to this role, task
 * and goal. `attempt` and `startTier` are the caller's when it gives them.
 */
export function restoreRunState(
  checkpoint: AgentCheckpoint,
  expected: Pick<RunIdentity, 'role' | 'taskId' | 'goalId'> & Partial<Pick<RunIdentity, 'attempt' | 'startTier'>>,
): RunState {
  const parsed = AgentCheckpointSchema.safeParse(checkpoint);
  if (!parsed.success) throw new InvalidCheckpointError(`the checkpoint does not validate: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const saved = parsed.data;
  if (saved.role !== expected.role || saved.taskId !== expected.taskId || saved.goalId !== expected.goalId) {
    throw new InvalidCheckpointError(
      `the checkpoint belongs to ${saved.role} on task ${saved.taskId} of goal ${saved.goalId}, not ${expected.role} on task ${expected.taskId} of goal ${expected.goalId}`,
    );
  }
  return {
    runId: saved.runId,
    role: saved.role,
    projectId: saved.projectId,
    goalId: saved.goalId,
    taskId: saved.taskId,
    attempt: expected.attempt ?? saved.attempt,
    startTier: expected.startTier ?? saved.startTier,
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
    usage: { ...saved.usage, tokens: { ...saved.usage.tokens }, modelCalls: [...saved.usage.modelCalls], modelsUsed: [...saved.usage.modelsUsed] },
    toolCalls: structuredClone(saved.toolCalls),
    repeats: { ...saved.repeats },
  };
}

export function checkpointOf(state: RunState, elapsedMs: number): AgentCheckpoint {
  return {
    version: CHECKPOINT_VERSION,
    runId: state.runId,
    role: state.role,
    projectId: state.projectId,
    goalId: state.goalId,
    taskId: state.taskId,
    attempt: state.attempt,
    startTier: state.startTier,
    startedAt: state.startedAt,
    elapsedMs: Math.round(elapsedMs),
    turns: state.turns,
    finishRepairsUsed: state.finishRepairsUsed,
    messages: structuredClone(state.messages),
    usage: { ...state.usage, tokens: { ...state.usage.tokens }, modelCalls: [...state.usage.modelCalls], modelsUsed: [...state.usage.modelsUsed] },
    toolCalls: structuredClone(state.toolCalls),
    repeats: { ...state.repeats },
  };
}

export interface RunEnding {
  outcome: AgentRun['outcome'];
  error?: FailureCause;
  /** The tier the run actually started on (the requested one, within the policy). */
  modelTier: number;
  endedAt: string;
  durationMs: number;
}

/** The AgentRun record of the run so far. */
export function runRecordOf(state: RunState, ending: RunEnding): AgentRun {
  return {
    id: state.runId,
    projectId: state.projectId,
    goalId: state.goalId,
    taskId: state.taskId,
    role: state.role,
    attempt: state.attempt,
    modelTier: Math.min(7, ending.modelTier),
    modelCalls: state.usage.modelCalls.slice(0, MAX_RECORDED_MODEL_CALLS),
    modelCallCount: state.usage.modelCallCount,
    tokens: { ...state.usage.tokens },
    costUsd: state.usage.costUsd,
    toolCalls: { total: state.toolCalls.total, failed: state.toolCalls.failed, byName: { ...state.toolCalls.byName } },
    outcome: ending.outcome,
    ...(ending.error ? { error: ending.error } : {}),
    startedAt: state.startedAt,
    endedAt: ending.endedAt,
    durationMs: Math.round(ending.durationMs),
  };
}

/** Adds one model call to the usage totals (and to the record list while it has room). */
export function recordModelCall(state: RunState, record: ModelCallRecord, policy: readonly string[] | undefined, startTier: number): void {
  const usage = state.usage;
  usage.modelCallCount++;
  usage.tokens.input += record.inputTokens;
  usage.tokens.output += record.outputTokens;
  usage.tokens.cacheRead += record.cacheReadTokens;
  usage.tokens.cacheWrite += record.cacheWriteTokens;
  usage.costUsd = roundUsd(usage.costUsd + record.costUsd);
  if (!usage.modelsUsed.includes(record.spec)) usage.modelsUsed.push(record.spec);
  // The gateway only moves to a stronger model after the previous one failed.
  const fallbackFrom = policy && record.tier > startTier ? policy[record.tier - 1] : undefined;
  if (usage.modelCalls.length < MAX_RECORDED_MODEL_CALLS) {
    usage.modelCalls.push({
      model: record.spec,
      tokens: { input: record.inputTokens, output: record.outputTokens, cacheRead: record.cacheReadTokens, cacheWrite: record.cacheWriteTokens },
      costUsd: record.costUsd,
      latencyMs: Math.max(0, Math.round(record.latencyMs)),
      ...(fallbackFrom ? { fallbackFrom } : {}),
      stopReason: record.stopReason,
    });
  }
}

export function recordToolCall(state: RunState, name: string, isError: boolean): void {
  state.toolCalls.total++;
  if (isError) state.toolCalls.failed++;
  state.toolCalls.byName[name] = (state.toolCalls.byName[name] ?? 0) + 1;
}
