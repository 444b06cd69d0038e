// The agent worker: takes one message from a role queue, claims the task, runs the agent loop on
// the task's own working copy, stores what the agent produced, and answers the state machine's
// task token — SendTaskSuccess, or SendTaskFailure with the agent's named error. A duplicate
// delivery does nothing; a redelivery after a crash resumes the same run; a run that would outlive
// its Lambda checkpoints its conversation and re-enqueues itself.
import { createHash } from 'node:crypto';
import {
  AgentCancelledError,
  AgentCheckpointSchema,
  AgentError,
  AgentSuspendedError,
  runAgent,
  type AgentCheckpoint,
  type AgentEvent,
  type AgentResult,
  type ChangeReport,
  type DependencyOutput,
  type QaReport,
  type ReviewReport,
} from '../agents/index';
import { dayOf } from '../domain/common';
import { CahootsError, isPermanent, stepFunctionsErrorOf } from '../domain/errors';
import type { Goal } from '../domain/goal';
import { ulidFor } from '../domain/ids';
import type { Plan } from '../domain/plan';
import type { Project } from '../domain/project';
import type { AgentRole } from '../domain/settings';
import { isTerminal } from '../domain/status';
import { newGoalTask, tasksFromPlan, type Task, type TaskOutputs } from '../domain/task';
import { createModelGateway, type ModelGatewayEvent } from '../models/index';
import { chooseStartTier } from '../models/routing';
import { TaskTokenExpiredError } from '../ports/index';
import { logger, metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { cahootsIdentity, MergeConflictError, networkIsolationAvailable, type GitWorkspace, type TaskWorkingCopy } from '../workspace/index';
import { createStoreBudget } from './budget';
import { CheckpointMissingError, MisroutedMessageError, NoModelConfiguredError } from './errors';
import { recordGoalEvent } from './events';
import type { AgentMessage } from './inputs';
import { branchTaskIdOf, queueUrlFor } from './dispatch';
import { openProjectWorkspace } from './workspace';

export interface WorkOptions {
  /** Stable across redeliveries of one queue message (the SQS message id). */
  messageId: string;
  /** When the message was first sent (SQS SentTimestamp), in epoch ms. */
  sentAtMs: number;
  /** Milliseconds this invocation has left (Lambda's getRemainingTimeInMillis). */
  remainingMs: () => number;
  /** The role this worker serves; a message for another role is misrouted. */
  role?: AgentRole;
}

export type WorkOutcome = 'succeeded' | 'failed' | 'continued' | 'skipped';

/** Time kept back before the Lambda deadline to checkpoint and re-enqueue. */
const SUSPEND_MARGIN_MS = 90_000;

/** A digest of the task token: identifies one dispatch of a task without storing the token. */
export function dispatchOf(taskToken: string): string {
  return createHash('sha256').update(taskToken).digest('base64url').slice(0, 22);
}

/** The run id of one queue message: the same for every redelivery, different for a duplicate. */
export function runIdFor(message: AgentMessage, options: Pick<WorkOptions, 'messageId' | 'sentAtMs'>): string {
  return message.runId ?? `run_${ulidFor(`${message.taskId}:${options.messageId}`, options.sentAtMs)}`;
}

export async function workAgentMessage(runtime: Runtime, message: AgentMessage, options: WorkOptions): Promise<WorkOutcome> {
  const { store, ports } = runtime;
  if (options.role && message.role !== options.role) {
    await answerFailure(runtime, message, new MisroutedMessageError(`a ${message.role} task arrived at the ${options.role} worker`));
    return 'failed';
  }
  const goal = await store.goals.get(message.goalId);
  const task = await store.tasks.get(message.goalId, message.taskId);

  // The pipeline may dispatch a task that already ended (a resumed execution): answer from the store.
  if (task.status === 'SUCCEEDED') {
    await answer(() => ports.callbacks.succeed(message.taskToken, { taskId: task.id, status: task.status }));
    return 'skipped';
  }
  if (isTerminal(goal.status) || isTerminal(task.status)) {
    const error = isTerminal(goal.status) ? `Goal.${goal.status === 'CANCELLED' ? 'Cancelled' : 'Ended'}` : (task.failureCause?.code ?? 'Agent.Failed');
    await answer(() => ports.callbacks.fail(message.taskToken, error, `the ${isTerminal(goal.status) ? 'goal' : 'task'} is already ${isTerminal(goal.status) ? goal.status : task.status}`));
    return 'skipped';
  }

  const runId = runIdFor(message, options);
  // The same run taking the task up again: a redelivery after a crash, or a continuation.
  const resumed = (task.status === 'RUNNING' && task.runId === runId) || message.checkpointKey !== undefined;
  const claim = await store.tasks.claim(goal.id, task.id, runId, dispatchOf(message.taskToken));
  if (!claim.claimed) {
    logger.info('task is held by another run; duplicate delivery ignored', { taskId: task.id, runId, holder: claim.task.runId });
    return 'skipped';
  }
  const claimed = claim.task;
  const project = await store.projects.get(goal.projectId);
  await recordGoalEvent(runtime, {
    type: 'Task.Started',
    goal,
    taskId: claimed.id,
    actor: { kind: 'agent', id: runId, role: claimed.role },
    data: { role: claimed.role, kind: claimed.kind, attempt: claimed.attempts, title: claimed.title, runId },
    idempotencyKey: `started:${runId}`,
  });

  try {
    const outcome = await runClaimedTask(runtime, { message, goal, project, task: claimed, runId, resumed, options });
    return outcome;
  } catch (error) {
    if (error instanceof AgentError) return await releaseAfterFailure(runtime, { message, goal, task: claimed, runId, error });
    if (isPermanent(error)) {
      return await releaseAfterFailure(runtime, { message, goal, task: claimed, runId, error: error as Error });
    }
    // Anything else (store throttling, a crashed dependency) is retried by redelivering the
    // message: the task stays claimed by this run id, so the redelivery resumes it.
    throw error;
  }
}

interface ClaimedWork {
  message: AgentMessage;
  goal: Goal;
  project: Project;
  task: Task;
  runId: string;
  /** Whether this run already worked on the task before (keep its working copy). */
  resumed: boolean;
  options: WorkOptions;
}

async function runClaimedTask(runtime: Runtime, work: ClaimedWork): Promise<WorkOutcome> {
  const { store, ports, config } = runtime;
  const { message, goal, project, task, runId, options } = work;
  const workspace = await openProjectWorkspace(runtime, project, goal);
  await workspace.createGoalBranch(goal.id, project.repo.defaultBranch);
  const copy = await workingCopyFor(workspace, task, work.resumed);

  const policy = project.modelPolicy[task.role] ?? config.defaultModels;
  if (policy.length === 0) throw new NoModelConfiguredError(task.role);
  const escalation = Math.max(0, task.attempts - 1);
  const learned = chooseStartTier(policy, await store.routingStats.list(project.id), { role: task.role, kind: task.kind });
  const startTier = Math.min(policy.length - 1, Math.max(escalation, learned));
  if (startTier !== task.modelTier) await store.tasks.mutate(goal.id, task.id, () => ({ modelTier: startTier }));

  const gateway = createModelGateway({
    policy,
    ...(config.prices ? { prices: config.prices } : {}),
    onEvent: (event) => recordModelEvent(runtime, goal, task, event),
  });
  const resumeFrom = message.checkpointKey ? await loadCheckpoint(runtime, message.checkpointKey) : undefined;
  const all = await store.tasks.listAll(goal.id);
  const dependencyOutputs: DependencyOutput[] = all
    .filter((t) => task.dependsOn.includes(t.id) && t.outputs)
    .map((t) => ({ taskId: t.planKey, title: t.title, role: t.role, outputs: t.outputs! }));
  const lessons = (await store.lessons.list(project.id, { limit: 100 })).items;

  let lastHeartbeat = Date.now();
  const heartbeatEveryMs = Math.min(60_000, (config.heartbeatSeconds * 1000) / 3);
  // A goal cancelled while its agents work stops them at their next turn.
  const cancellation = new AbortController();
  const previousFailure = task.failureCause;
  let result: AgentResult;
  try {
    result = await runAgent({
      role: task.role,
      task: { id: task.id, goalId: goal.id, projectId: project.id, kind: task.kind, title: task.title, spec: task.spec, acceptanceCriteria: task.acceptanceCriteria },
      goal: { title: goal.title, description: goal.description, source: goal.source },
      workingDir: copy.dir,
      gateway,
      startTier,
      attempt: task.attempts,
      runId,
      team: project.team,
      allowedCommands: project.allowedCommands,
      contextFiles: project.contextFiles,
      lessons: lessons.map((l) => ({ id: l.id, text: l.text, tags: l.tags, createdAt: l.createdAt })),
      dependencyOutputs,
      ...(previousFailure ? { previousAttemptError: previousFailure } : {}),
      limits: { maxTurns: config.maxAgentTurns, maxOutputTokens: config.maxOutputTokens },
      network: sandboxNetwork(config.sandboxNetwork),
      budget: createStoreBudget(runtime, goal, project),
      ...(resumeFrom ? { resumeFrom } : {}),
      onEvent: (event) => recordAgentEvent(runtime, goal, task, event),
      signal: cancellation.signal,
      heartbeat: async () => {
        if (Date.now() - lastHeartbeat < heartbeatEveryMs) return;
        lastHeartbeat = Date.now();
        if (isTerminal((await store.goals.get(goal.id)).status)) cancellation.abort();
        else await answer(() => ports.callbacks.heartbeat(message.taskToken));
      },
      shouldSuspend: () => options.remainingMs() < SUSPEND_MARGIN_MS,
    });
  } catch (error) {
    if (error instanceof AgentSuspendedError) return suspend(runtime, work, error);
    throw error;
  }

  // The goal may have ended while the agent worked: its result must not reach the goal branch.
  const now = await store.goals.get(goal.id);
  if (isTerminal(now.status)) {
    await store.agentRuns.record(result.run);
    throw new AgentCancelledError();
  }
  const outputs = await persistResult(runtime, { goal, project, task, copy, workspace, result });
  await store.agentRuns.record(result.run);
  await store.routingStats.record(project.id, { role: task.role, kind: task.kind, model: policy[startTier]!, succeeded: true, costUsd: result.run.costUsd });
  await store.tasks.transition(goal.id, task.id, 'SUCCEEDED', { outputs, failureCause: undefined }, { idempotent: true });
  countRun(task.role, 'AgentRunSucceeded');
  await recordGoalEvent(runtime, {
    type: 'Task.Succeeded',
    goal,
    taskId: task.id,
    actor: { kind: 'agent', id: runId, role: task.role },
    data: {
      role: task.role,
      attempt: task.attempts,
      models: result.modelsUsed,
      costUsd: result.run.costUsd,
      turns: result.run.modelCallCount,
      summary: outputs.summary ?? '',
      ...(outputs.review ? { verdict: outputs.review.verdict } : {}),
      ...(outputs.testResults ? { testsPassed: outputs.testResults.passed, testsFailed: outputs.testResults.failed } : {}),
    },
    idempotencyKey: `succeeded:${runId}`,
  });
  await answer(() => runtime.ports.callbacks.succeed(message.taskToken, { taskId: task.id, status: 'SUCCEEDED' }));
  return 'succeeded';
}

let warnedNoIsolation = false;

/** `none` where this machine can isolate commands from the network, else the host's network. */
function sandboxNetwork(wanted: 'none' | 'inherit'): 'none' | 'inherit' {
  if (wanted === 'inherit' || networkIsolationAvailable()) return wanted;
  if (!warnedNoIsolation) {
    warnedNoIsolation = true;
    logger.warn('commands run with the host network: network namespaces are not available here');
  }
  return 'inherit';
}

/**
 * The working copy a task works in. A conflict-resolution task continues in the working copy of
 * the task whose merge conflicted, with the goal's newer work merged in (conflict markers left for
 * the agent). A new attempt starts from the goal tip again rather than from a failed attempt's edits.
 */
async function workingCopyFor(workspace: GitWorkspace, task: Task, resumed: boolean): Promise<TaskWorkingCopy> {
  if (task.kind === 'conflict' && task.reworkOf) {
    const copy = await workspace.createTaskWorkingCopy(task.goalId, branchTaskIdOf(task));
    await workspace.syncTaskWithGoal(copy, { author: cahootsIdentity(task.role) });
    return copy;
  }
  return workspace.createTaskWorkingCopy(task.goalId, task.id, { fresh: task.attempts > 1 && !resumed });
}

interface PersistInput {
  goal: Goal;
  project: Project;
  task: Task;
  copy: TaskWorkingCopy;
  workspace: GitWorkspace;
  result: AgentResult;
}

/** Stores what the agent produced, by role; returns the task's outputs. */
async function persistResult(runtime: Runtime, input: PersistInput): Promise<TaskOutputs> {
  const { task } = input;
  switch (task.role) {
    case 'planner':
      return persistPlan(runtime, input, input.result.result as Plan);
    case 'reviewer': {
      const review = input.result.result as ReviewReport;
      return { summary: review.summary, review: { verdict: review.verdict, comments: review.comments } };
    }
    case 'qa': {
      const report = input.result.result as QaReport;
      return { summary: report.summary, testResults: report.testResults };
    }
    default:
      return persistChange(runtime, input, input.result.result as ChangeReport);
  }
}

async function persistPlan(runtime: Runtime, { goal }: PersistInput, plan: Plan): Promise<TaskOutputs> {
  const tasks = await runtime.store.tasks.createMany(tasksFromPlan(plan, goal));
  await runtime.store.goals.mutate(goal.id, () => ({ planSummary: plan.summary, risk: plan.risk }));
  for (const t of tasks) {
    await recordGoalEvent(runtime, { type: 'Task.Created', goal, taskId: t.id, data: { role: t.role, kind: t.kind, title: t.title }, idempotencyKey: `created:${t.id}` });
  }
  await recordGoalEvent(runtime, {
    type: 'Goal.Planned',
    goal,
    data: {
      summary: plan.summary,
      risk: plan.risk,
      tasks: tasks.map((t) => ({ id: t.id, key: t.planKey, role: t.role, title: t.title, dependsOn: t.dependsOn })),
    },
    idempotencyKey: 'planned',
  });
  return { summary: plan.summary };
}

/** Commits the agent's change on its task branch and merges it into the goal branch. */
async function persistChange(runtime: Runtime, { goal, task, copy, workspace }: PersistInput, report: ChangeReport): Promise<TaskOutputs> {
  const commit = await workspace.commitAll(copy, {
    message: `${task.title}\n\n${report.summary}\n\nCahoots-Task: ${task.id}`,
    author: cahootsIdentity(task.role),
  });
  try {
    await workspace.mergeTask(goal.id, branchTaskIdOf(task), { message: `Merge ${task.title}` });
  } catch (error) {
    if (!(error instanceof MergeConflictError)) throw error;
    await createConflictTask(runtime, goal, task, error.paths);
  }
  const files = commit.files.map((f) => f.path);
  return {
    summary: report.summary,
    branch: commit.branch,
    ...(commit.committed ? { commits: [commit.sha] } : {}),
    filesChanged: files.length > 0 ? files : (report.filesChanged ?? []),
  };
}

/** A task whose branch conflicts with the goal branch gets a follow-up task that resolves it. */
async function createConflictTask(runtime: Runtime, goal: Goal, task: Task, paths: readonly string[]): Promise<void> {
  const original = branchTaskIdOf(task);
  const [conflict] = await runtime.store.tasks.createMany([
    newGoalTask(goal, {
      planKey: `conflict-${task.planKey}`.slice(0, 64),
      role: task.role === 'ux' ? 'ux' : 'developer',
      kind: 'conflict',
      title: `Resolve merge conflict: ${task.title}`,
      spec: `The work of "${task.title}" conflicts with other work already on ${goal.branch}. The goal's work has been merged into your working copy and the conflicting files hold conflict markers. Resolve every conflict keeping the intent of both sides, run the tests, and finish.\n\nConflicting files:\n${paths.map((p) => `- ${p}`).join('\n')}`,
      acceptanceCriteria: ['No conflict markers remain', 'Both changes are preserved', 'The tests pass'],
      reworkOf: original,
    }),
  ]);
  await recordGoalEvent(runtime, {
    type: 'Merge.Conflict',
    goal,
    taskId: task.id,
    data: { paths: paths.slice(0, 100), resolutionTaskId: conflict!.id },
    idempotencyKey: `conflict:${task.id}`,
  });
}

async function suspend(runtime: Runtime, work: ClaimedWork, suspended: AgentSuspendedError): Promise<WorkOutcome> {
  const { message, goal, task, runId } = work;
  const key = `checkpoints/${goal.id}/${task.id}/${runId}-${suspended.checkpoint.turns}.json`;
  await runtime.ports.artifacts.put(key, JSON.stringify(suspended.checkpoint), 'application/json');
  await runtime.store.agentRuns.record(suspended.run);
  await runtime.ports.queue.send(queueUrlFor(runtime, task.role), { ...message, runId, checkpointKey: key } satisfies AgentMessage);
  await recordGoalEvent(runtime, {
    type: 'Task.Continued',
    goal,
    taskId: task.id,
    data: { runId, turns: suspended.checkpoint.turns, checkpointKey: key },
    idempotencyKey: `continued:${runId}:${suspended.checkpoint.turns}`,
  });
  return 'continued';
}

async function loadCheckpoint(runtime: Runtime, key: string): Promise<AgentCheckpoint> {
  const body = await runtime.ports.artifacts.get(key);
  if (!body) throw new CheckpointMissingError(key);
  return AgentCheckpointSchema.parse(JSON.parse(Buffer.from(body).toString('utf8')));
}

interface FailedWork {
  message: AgentMessage;
  goal: Goal;
  task: Task;
  runId: string;
  error: Error;
}

/**
 * An attempt failed: record the run, hand the task back (PENDING) so the state machine's retry can
 * dispatch it again one tier up, and answer the token with the named error.
 */
async function releaseAfterFailure(runtime: Runtime, { message, goal, task, runId, error }: FailedWork): Promise<WorkOutcome> {
  const stepFunctionsError = error instanceof CahootsError ? error.stepFunctionsError : 'Agent.Failed';
  const cause = { code: stepFunctionsError, message: error.message.slice(0, 2_000) };
  if (error instanceof AgentError && error.run) {
    await runtime.store.agentRuns.record(error.run);
    const project = await runtime.store.projects.get(goal.projectId);
    const policy = project.modelPolicy[task.role] ?? runtime.config.defaultModels;
    const { modelTier } = await runtime.store.tasks.get(goal.id, task.id);
    const model = policy[Math.min(modelTier, policy.length - 1)];
    if (model) await runtime.store.routingStats.record(project.id, { role: task.role, kind: task.kind, model, succeeded: false, costUsd: error.run.costUsd });
  }
  // A cancelled run ends its task; any other failure hands it back for the state machine's retry.
  const next = error instanceof AgentCancelledError ? 'CANCELLED' : 'PENDING';
  await runtime.store.tasks.mutate(goal.id, task.id, (t) =>
    t.status === 'RUNNING' && t.runId === runId ? { status: next, runId: undefined, dispatch: undefined, failureCause: cause } : {},
  );
  countRun(task.role, stepFunctionsError === 'Budget.Exceeded' ? 'BudgetExceeded' : 'AgentRunFailed');
  await recordGoalEvent(runtime, {
    type: failureEventType(stepFunctionsError),
    goal,
    taskId: task.id,
    actor: { kind: 'agent', id: runId, role: task.role },
    data: { role: task.role, attempt: task.attempts, final: false, error: cause.code, cause: cause.message },
    idempotencyKey: `failed:${runId}`,
  });
  await answerFailure(runtime, message, Object.assign(new Error(cause.message), { name: stepFunctionsError }));
  return 'failed';
}

function failureEventType(stepFunctionsError: string): 'Budget.Exceeded' | 'Agent.Stuck' | 'Task.Cancelled' | 'Task.Failed' {
  switch (stepFunctionsError) {
    case 'Budget.Exceeded':
    case 'Agent.Stuck':
      return stepFunctionsError;
    case 'Agent.Cancelled':
      return 'Task.Cancelled';
    default:
      return 'Task.Failed';
  }
}

/** Run outcomes per role, so the Behaviour dashboard can compare roles. */
function countRun(role: AgentRole, metric: 'AgentRunSucceeded' | 'AgentRunFailed' | 'BudgetExceeded'): void {
  const single = metrics.singleMetric();
  single.addDimension('role', role);
  single.addMetric(metric, 'Count', 1);
}

async function answerFailure(runtime: Runtime, message: AgentMessage, error: Error): Promise<void> {
  await answer(() => runtime.ports.callbacks.fail(message.taskToken, stepFunctionsErrorOf(error), error.message));
}

/** Answers a task token; one the state machine no longer waits on (timed out, stopped) is only logged. */
async function answer(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof TaskTokenExpiredError) {
      logger.warn('the state machine no longer waits for this task', { error });
      return;
    }
    throw error;
  }
}

async function recordModelEvent(runtime: Runtime, goal: Goal, task: Task, event: ModelGatewayEvent): Promise<void> {
  if (event.type === 'Model.Called') {
    const call = event.data;
    await runtime.store.usage.addUsage(goal.projectId, dayOf(event.at), call.spec, {
      inputTokens: call.inputTokens,
      outputTokens: call.outputTokens,
      cacheReadTokens: call.cacheReadTokens,
      cacheWriteTokens: call.cacheWriteTokens,
      usd: call.costUsd,
      calls: 1,
    });
    const single = metrics.singleMetric();
    single.addDimensions({ model: call.spec.slice(0, 250), role: task.role, projectId: goal.projectId });
    single.addMetric('TokensIn', 'Count', call.inputTokens);
    single.addMetric('TokensOut', 'Count', call.outputTokens);
    single.addMetric('TokensCacheRead', 'Count', call.cacheReadTokens);
    single.addMetric('TokensCacheWrite', 'Count', call.cacheWriteTokens);
    single.addMetric('CostUsd', 'None', call.costUsd);
    await recordGoalEvent(runtime, {
      type: 'Model.Called',
      goal,
      taskId: task.id,
      data: {
        model: call.spec,
        tier: call.tier,
        inputTokens: call.inputTokens,
        outputTokens: call.outputTokens,
        cacheReadTokens: call.cacheReadTokens,
        cacheWriteTokens: call.cacheWriteTokens,
        costUsd: call.costUsd,
        priceKnown: call.priceKnown,
        latencyMs: call.latencyMs,
      },
    });
  } else if (event.type === 'Model.Fallback') {
    await recordGoalEvent(runtime, { type: 'Model.Fallback', goal, taskId: task.id, data: { ...event.data } as Record<string, unknown> });
  }
}

async function recordAgentEvent(runtime: Runtime, goal: Goal, task: Task, event: AgentEvent): Promise<void> {
  if (event.type === 'Agent.FinishRejected') {
    await recordGoalEvent(runtime, { type: 'Agent.FinishRejected', goal, taskId: task.id, data: event.data });
  }
}
