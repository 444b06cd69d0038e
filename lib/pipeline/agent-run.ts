// Building an agent run for a claimed task: its working copy, the model tier (escalation or
// learned routing), the gateway, what the agent is told (goal, lessons, dependency outputs,
// rework feedback, the previous attempt), the budget, heartbeats, cancellation and suspension.
// The run's ending goes to completeTask (success) or continueLater (suspended); failures are
// thrown to the worker.
import { AgentCancelledError, AgentSuspendedError, runAgent, type DependencyOutput, type RunAgentOptions } from '../agents/index';
import type { Goal } from '../domain/goal';
import { modelPolicyOf, type Project } from '../domain/project';
import { isTerminal } from '../domain/status';
import type { Task } from '../domain/task';
import { chooseStartTier } from '../models/routing';
import type { Runtime } from '../runtime';
import { cahootsIdentity, DependencySetupRunner, goalBranchName, RefNotFoundError, taskBranchName, type CommitInfo, type GitWorkspace, type TaskWorkingCopy } from '../workspace/index';
import { NoModelConfiguredError } from './errors';
import { answer } from './agent-callbacks';
import { CHECKPOINT_MARGIN_MS, continueLater, loadCheckpoint, SUSPEND_MARGIN_MS } from './agent-continuation';
import { completeFromMergedWork, completeTask, TASK_TRAILER, type FinishedRun } from './agent-results';
import { recordAgentEvent, recordModelEvent } from './agent-telemetry';
import { createStoreBudget } from './budget';
import { meteredCommands } from './infrastructure-usage';
import { runtimeModelGateway } from './model-gateway';
import type { AgentMessage } from './inputs';
import { branchTaskIdOf } from './dispatch';
import { openProjectWorkspace } from './workspace';

export interface ClaimedWork {
  message: AgentMessage;
  goal: Goal;
  project: Project;
  task: Task;
  runId: string;
  /** Whether this run continues from a checkpoint (keep its working copy); otherwise it starts fresh. */
  continuesCheckpoint: boolean;
  /** Milliseconds this invocation has left. */
  remainingMs: () => number;
}


export async function runClaimedTask(runtime: Runtime, work: ClaimedWork): Promise<'succeeded' | 'continued'> {
  const { store, config } = runtime;
  const { goal, project, task } = work;
  const workspace = await openProjectWorkspace(runtime, project, goal);
  await workspace.createGoalBranch(goal.id, project.repo.defaultBranch);
  // An earlier attempt may have merged its change and stopped before the task was recorded (a
  // crash, a failed write): running the agent again on top of its own merged work would apply it
  // twice. The merged commit is the record of that attempt, so the task completes from it.
  const merged = work.continuesCheckpoint ? undefined : await mergedWorkOfEarlierAttempt(workspace, task);
  if (merged) return completeFromMergedWork(runtime, { ...work, workspace }, merged);
  const copy = await workingCopyFor(workspace, task, work.continuesCheckpoint);

  const policy = modelPolicyOf(project, task.role, config.defaultModels);
  if (policy.length === 0) throw new NoModelConfiguredError(task.role);
  const escalation = Math.max(0, task.attempts - 1);
  const learned = chooseStartTier(policy, await store.routingStats.list(project.id), { role: task.role, kind: task.kind });
  const startTier = Math.min(policy.length - 1, Math.max(escalation, learned));
  if (startTier !== task.modelTier) await store.tasks.mutate(goal.id, task.id, () => ({ modelTier: startTier }));

  // A goal cancelled while its agents work stops them at their next turn.
  const cancellation = new AbortController();
  let finished: FinishedRun;
  try {
    finished = await runAgent({ ...(await agentOptions(runtime, work, copy, cancellation)), model: { gateway: gatewayFor(runtime, work, policy), startTier } });
  } catch (error) {
    if (error instanceof AgentSuspendedError) return continueLater(runtime, work, error);
    throw error;
  }

  // The goal may have ended while the agent worked: its result must not reach the goal branch.
  if (isTerminal((await store.goals.get(goal.id)).status)) {
    await store.agentRuns.record(finished.run);
    throw new AgentCancelledError();
  }
  return completeTask(runtime, { ...work, copy, workspace, startModel: policy[startTier]! }, finished);
}

function gatewayFor(runtime: Runtime, { goal, task }: ClaimedWork, policy: readonly string[]) {
  return runtimeModelGateway(runtime, policy, (event) => recordModelEvent(runtime, goal, task, event));
}

/** Everything but the model: the task, the project's settings, the context, limits and hooks. */
async function agentOptions(runtime: Runtime, work: ClaimedWork, copy: TaskWorkingCopy, cancellation: AbortController): Promise<Omit<RunAgentOptions, 'model'>> {
  const { store, ports, config } = runtime;
  const { message, goal, project, task, runId } = work;
  const checkpoint = message.checkpointKey ? await loadCheckpoint(runtime, message.checkpointKey) : undefined;
  const all = await store.tasks.listAll(goal.id);
  const dependencyOutputs: DependencyOutput[] = all
    .filter((t) => task.dependsOn.includes(t.id) && t.outputs)
    .map((t) => ({ taskId: t.planKey, title: t.title, role: t.role, outputs: t.outputs! }));
  const lessons = (await store.lessons.list(project.id, { limit: 100 })).items;

  let lastHeartbeat = Date.now();
  const heartbeatEveryMs = Math.min(60_000, (config.heartbeatSeconds * 1000) / 3);
  return {
    role: task.role,
    task: { id: task.id, goalId: goal.id, projectId: project.id, kind: task.kind, title: task.title, spec: task.spec, acceptanceCriteria: task.acceptanceCriteria, attempt: task.attempts },
    settings: {
      workingDir: copy.dir,
      team: project.team,
      allowedCommands: project.allowedCommands,
      qaMayWriteTests: project.qaMayWriteTests,
      contextFiles: project.contextFiles,
      // The project's dependencies are installed (or copied from its cache) before the first command.
      commands: new DependencySetupRunner(meteredCommands(ports.commands), {
        projectId: project.id,
        ...(project.setup ? { setup: project.setup } : {}),
        timeLeftMs: () => work.remainingMs() - CHECKPOINT_MARGIN_MS,
      }),
    },
    context: {
      goal: { title: goal.title, description: goal.description, source: goal.source },
      lessons: lessons.map((l) => ({ id: l.id, text: l.text, tags: l.tags, createdAt: l.createdAt })),
      dependencyOutputs,
      ...(task.feedback ? { feedback: task.feedback } : {}),
      ...(task.failureCause ? { previousAttemptError: task.failureCause } : {}),
    },
    limits: { maxTurns: config.maxAgentTurns, maxOutputTokens: config.maxOutputTokens, budget: createStoreBudget(runtime, goal) },
    hooks: {
      onEvent: (event) => recordAgentEvent(runtime, goal, task, event),
      signal: cancellation.signal,
      heartbeat: async () => {
        if (Date.now() - lastHeartbeat < heartbeatEveryMs) return;
        lastHeartbeat = Date.now();
        if (isTerminal((await store.goals.get(goal.id)).status)) cancellation.abort();
        else await answer(() => ports.callbacks.heartbeat(message.taskToken));
      },
      heartbeatIntervalMs: heartbeatEveryMs / 2,
      // Commands and model calls end in time to suspend; their time is the agent's time.
      timeLeftMs: () => work.remainingMs() - CHECKPOINT_MARGIN_MS,
      shouldSuspend: () => work.remainingMs() < SUSPEND_MARGIN_MS,
    },
    resume: { runId, ...(checkpoint ? { checkpoint } : {}) },
  };
}

/**
 * The commit of this task that an earlier attempt made and merged into the goal branch, if any.
 * Only a task's own change counts: its branch tip must carry the task's `Cahoots-Task` trailer
 * (a fresh branch points at the goal tip and carries none). Work committed but never merged is
 * not taken: a fresh attempt discards it, as it discards uncommitted edits.
 */
async function mergedWorkOfEarlierAttempt(workspace: GitWorkspace, task: Task): Promise<CommitInfo | undefined> {
  if ((task.role !== 'developer' && task.role !== 'ux') || task.kind === 'conflict') return undefined;
  const branch = taskBranchName(task.goalId, task.id);
  let tip: CommitInfo | undefined;
  try {
    [tip] = await workspace.listCommits(branch, { limit: 1 });
  } catch (error) {
    if (error instanceof RefNotFoundError) return undefined;
    throw error;
  }
  if (!tip || !tip.message.includes(`${TASK_TRAILER}: ${task.id}`)) return undefined;
  const unmerged = await workspace.listCommits(branch, { notIn: goalBranchName(task.goalId), limit: 1 });
  return unmerged.length === 0 ? tip : undefined;
}

/**
 * The working copy a task works in. A conflict-resolution task continues in the working copy of
 * the task whose merge conflicted, with the goal's newer work merged in (conflict markers left for
 * the agent). Every other run that does not continue a checkpoint starts from the goal tip again
 * rather than from an earlier attempt's edits.
 */
async function workingCopyFor(workspace: GitWorkspace, task: Task, continuesCheckpoint: boolean): Promise<TaskWorkingCopy> {
  if (task.kind === 'conflict' && task.reworkOf) {
    const copy = await workspace.createTaskWorkingCopy(task.goalId, branchTaskIdOf(task));
    await workspace.syncTaskWithGoal(copy, { author: cahootsIdentity(task.role) });
    return copy;
  }
  return workspace.createTaskWorkingCopy(task.goalId, task.id, { fresh: !continuesCheckpoint });
}
