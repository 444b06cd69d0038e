// What runAgent takes and gives back: the options in groups (role, task, settings, context, model,
// limits, hooks, resume), the limits and their defaults, the events it emits and its result.
import type { AgentRole, AgentRun, FailureCause, GoalSource, ReworkFeedback, TaskKind, TeamComposition } from '../domain/index';
import type { CommandRunner } from '../ports/command-runner';
import type { ConverseOptions, ConverseRequest, ModelCallResult, PriceBook, RequestTags } from '../models/index';
import type { BudgetGuard } from './budget';
import type { AgentCheckpoint } from './checkpoint';
import type { DependencyOutput } from './context';
import type { FinishPayload } from './finish-schemas';
import type { LessonLike } from './learning';
import { DEFAULT_STUCK_THRESHOLD } from './stuck';

export type { ReworkFeedback } from '../domain/index';

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
  /** Same call + same result this many times → AgentStuckError. */
  stuckThreshold: number;
}

export const DEFAULT_AGENT_LIMITS: Readonly<AgentLimits> = Object.freeze({
  maxTurns: 40,
  maxWallMs: 30 * 60_000,
  maxOutputTokens: 8_192,
  contextBudgetTokens: 24_000,
  maxContextTokens: 150_000,
  maxToolResultChars: 40_000,
  stuckThreshold: DEFAULT_STUCK_THRESHOLD,
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
  /** 1-based attempt of this task (on request tags and the run record); a continuation takes it from the checkpoint. */
  attempt?: number;
}

export interface AgentGoalInput {
  title: string;
  description?: string;
  source?: GoalSource;
}

/** Where the agent works and under which project rules. */
export interface AgentSettings {
  /** The task's working copy; every tool is confined to it. */
  workingDir: string;
  /** The project's team; roles without agents cannot be planned. Default: every role. */
  team?: TeamComposition;
  /** The project's command allow-list for run_command. Empty: run_command is not offered. */
  allowedCommands?: readonly string[];
  /** The project lets QA create and edit test files (only those). Default false. */
  qaMayWriteTests?: boolean;
  /** Project context files to include (default AGENTS.md, CLAUDE.md, CAHOOTS.md). */
  contextFiles?: readonly string[];
  /** Upper bound of one run_command (also bounded by the remaining wall time and hooks.timeLeftMs). */
  commandTimeoutMs?: number;
  /** Where run_command runs (the runtime's CommandRunner); without one, in this process's sandbox runner. */
  commands?: CommandRunner;
  network?: 'inherit' | 'none';
}

/** What the agent is told beyond its task. */
export interface AgentContextInput {
  goal?: AgentGoalInput;
  /** The project's lessons; the most relevant `maxLessons` go into the prefix. */
  lessons?: readonly LessonLike[];
  maxLessons?: number;
  dependencyOutputs?: readonly DependencyOutput[];
  /** For rework tasks: what the reviewer and QA found, shown as untrusted data. */
  feedback?: readonly ReworkFeedback[];
  /** How the previous attempt of this task ended, so the agent does not repeat it. */
  previousAttemptError?: FailureCause;
}

export interface AgentModelOptions {
  /** A ModelGateway, anything with its converse (and ideally policy/prices), or a bare converse function. */
  gateway: AgentModel | ConverseFunction;
  /** Position in the role's model policy to start at; attempt k of a task usually starts higher. */
  startTier?: number;
  temperature?: number;
  /**
   * What the prompt cache holds. 'rolling' (default): the system prompt, the context prefix and
   * the conversation as it grows, read back every turn. 'prefix-only': the system prompt and the
   * context prefix alone (the conversation is sent uncached), cheaper only for one- or two-turn runs.
   */
  cachePolicy?: CachePolicy;
}

export type CachePolicy = 'rolling' | 'prefix-only';

export interface AgentRunLimits extends Partial<AgentLimits> {
  /** Asked before every model call with its worst-case cost, charged after. */
  budget?: BudgetGuard;
}

export interface AgentHooks {
  /** Agent-level events; awaited, and its errors propagate (usage records must not be lost). */
  onEvent?: (event: AgentEvent) => void | Promise<void>;
  /** Called at least once per turn (Step Functions SendTaskHeartbeat), and every heartbeatIntervalMs during one. */
  heartbeat?: () => void | Promise<void>;
  /** With a heartbeat: also beat from a timer this often, so a long command or model call keeps the task alive. */
  heartbeatIntervalMs?: number;
  /**
   * Time this invocation may still spend on one model call or command before it must stop to
   * suspend (the Lambda's remaining time less the time a checkpoint needs). Caps every call and
   * every command's timeout.
   */
  timeLeftMs?: () => number;
  /** Asked between turns; true stops the run with AgentSuspendedError carrying a checkpoint. */
  shouldSuspend?: () => boolean | Promise<boolean>;
  /** Aborting it ends the run with AgentCancelledError. */
  signal?: AbortSignal;
  /** Epoch milliseconds; injected by tests. */
  now?: () => number;
}

export interface AgentResume {
  /** Run id (run_<ULID>); minted when absent, taken from the checkpoint when resuming. */
  runId?: string;
  /** The checkpoint of a suspended run to continue. */
  checkpoint?: AgentCheckpoint;
}

export interface RunAgentOptions<R extends AgentRole = AgentRole> {
  role: R;
  task: AgentTaskInput;
  settings: AgentSettings;
  context?: AgentContextInput;
  model: AgentModelOptions;
  limits?: AgentRunLimits;
  hooks?: AgentHooks;
  resume?: AgentResume;
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

export interface AgentResult<R extends AgentRole = AgentRole> {
  role: R;
  /** The validated finish payload. */
  result: FinishPayload<R>;
  run: AgentRun;
  /** Every model that answered, in order of first use. */
  modelsUsed: string[];
}

/**
 * The result for a role, distributed over a union of roles: for `AgentRole` it is a union
 * discriminated by `role`, so `switch (outcome.role)` narrows `outcome.result`.
 */
export type AgentResultFor<R extends AgentRole> = R extends AgentRole ? AgentResult<R> : never;
