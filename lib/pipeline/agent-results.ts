// What a finished agent leaves behind: the planner's plan becomes tasks, a developer's change is
// committed and merged into the goal branch (a conflict becomes a resolution task), reviewer and
// QA reports become outputs; then the run and the routing outcome are recorded, the task
// SUCCEEDS and the task token is answered.
import type { AgentResultFor, ChangeReport, QaReport, ReviewReport } from '../agents/index';
import { LIMITS } from '../domain/common';
import type { Goal } from '../domain/goal';
import type { Plan } from '../domain/plan';
import type { Project } from '../domain/project';
import type { AgentRole } from '../domain/settings';
import { newGoalTask, tasksFromPlan, type Task, type TaskOutputs } from '../domain/task';
import { logger } from '../powertools';
import type { Runtime } from '../runtime';
import { cahootsIdentity, MergeConflictError, taskBranchName, type CommitInfo, type GitWorkspace, type TaskWorkingCopy } from '../workspace/index';
import { answer } from './agent-callbacks';
import { countRun } from './agent-telemetry';
import { recordGoalEvent } from './events';
import type { AgentMessage } from './inputs';
import { branchTaskIdOf } from './dispatch';

/** The result of an agent run on a task of any role: `role` tells which payload it holds. */
export type FinishedRun = AgentResultFor<AgentRole>;

export interface FinishedWork {
  message: AgentMessage;
  goal: Goal;
  project: Project;
  task: Task;
  runId: string;
  copy: TaskWorkingCopy;
  workspace: GitWorkspace;
  /** The model the run started on, whose routing statistics the success counts for. */
  startModel: string;
}

/** The commit trailer naming the task whose change a commit holds. */
export const TASK_TRAILER = 'Cahoots-Task';

/**
 * Completes a task whose change an earlier attempt already merged into the goal branch (that
 * attempt stopped before recording it). No agent runs: the outputs come from the merged commit.
 */
export async function completeFromMergedWork(
  runtime: Runtime,
  work: Pick<FinishedWork, 'message' | 'goal' | 'task' | 'runId' | 'workspace'>,
  commit: CommitInfo,
): Promise<'succeeded'> {
  const { goal, task, workspace } = work;
  const files = commit.parents[0] ? (await workspace.diffSummary(commit.parents[0], commit.sha)).map((f) => f.path) : [];
  // The message is "<title>\n\n<summary>\n\nCahoots-Task: <id>" (persistChange).
  const summary = commit.message.split('\n\n').slice(1, -1).join('\n\n').trim().slice(0, LIMITS.summary) || commit.subject;
  const outputs: TaskOutputs = { summary, branch: taskBranchName(goal.id, task.id), commits: [commit.sha], filesChanged: files };
  logger.info('task completed from the merged work of an earlier attempt', { goalId: goal.id, taskId: task.id, sha: commit.sha });
  // No agent ran, so no run is counted in AgentRunSucceeded.
  return markSucceeded(runtime, work, outputs, {
    data: { models: [], costUsd: 0, turns: 0, summary, recoveredFrom: commit.sha },
    idempotencyKey: `succeeded:${commit.sha}`,
  });
}

/** Stores what the agent produced, marks the task SUCCEEDED and answers the token. */
export async function completeTask(runtime: Runtime, work: FinishedWork, finished: FinishedRun): Promise<'succeeded'> {
  const { store } = runtime;
  const { project, task, runId } = work;
  const outputs = await persistResult(runtime, work, finished);
  await store.agentRuns.record(finished.run);
  await store.routingStats.record(project.id, { role: task.role, kind: task.kind, model: work.startModel, succeeded: true, costUsd: finished.run.costUsd });
  countRun(task.role, 'AgentRunSucceeded');
  return markSucceeded(runtime, work, outputs, {
    data: {
      models: finished.modelsUsed,
      costUsd: finished.run.costUsd,
      turns: finished.run.modelCallCount,
      summary: outputs.summary ?? '',
      ...(outputs.review ? { verdict: outputs.review.verdict } : {}),
      ...(outputs.testResults ? { testsPassed: outputs.testResults.passed, testsFailed: outputs.testResults.failed } : {}),
    },
    idempotencyKey: `succeeded:${runId}`,
  });
}

/**
 * The end of every completed task, whether an agent produced the outputs or an earlier attempt's
 * merged commit did: the task becomes SUCCEEDED, Task.Succeeded is recorded, the token answered.
 */
async function markSucceeded(
  runtime: Runtime,
  work: Pick<FinishedWork, 'message' | 'goal' | 'task' | 'runId'>,
  outputs: TaskOutputs,
  event: { data: Record<string, unknown>; idempotencyKey: string },
): Promise<'succeeded'> {
  const { goal, task, runId } = work;
  await runtime.store.tasks.transition(goal.id, task.id, 'SUCCEEDED', { outputs, failureCause: undefined }, { idempotent: true });
  await recordGoalEvent(runtime, {
    type: 'Task.Succeeded',
    goal,
    taskId: task.id,
    actor: { kind: 'agent', id: runId, role: task.role },
    data: { role: task.role, attempt: task.attempts, ...event.data },
    idempotencyKey: event.idempotencyKey,
  });
  await answer(() => runtime.ports.callbacks.succeed(work.message.taskToken, { taskId: task.id, status: 'SUCCEEDED' }));
  return 'succeeded';
}

/** Stores what the agent produced, by role; returns the task's outputs. */
async function persistResult(runtime: Runtime, work: FinishedWork, finished: FinishedRun): Promise<TaskOutputs> {
  switch (finished.role) {
    case 'planner':
      return persistPlan(runtime, work.goal, finished.result);
    case 'developer':
    case 'ux':
      return persistChange(runtime, work, finished.result);
    case 'reviewer':
      return reviewOutputs(finished.result);
    case 'qa':
      return work.project.qaMayWriteTests ? persistQaTests(runtime, work, finished.result) : qaOutputs(finished.result);
  }
}

async function persistPlan(runtime: Runtime, goal: Goal, plan: Plan): Promise<TaskOutputs> {
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
async function persistChange(runtime: Runtime, { goal, task, copy, workspace }: FinishedWork, report: ChangeReport): Promise<TaskOutputs> {
  const commit = await workspace.commitAll(copy, {
    message: `${task.title}\n\n${report.summary}\n\n${TASK_TRAILER}: ${task.id}`,
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

function reviewOutputs(review: ReviewReport): TaskOutputs {
  return { summary: review.summary, review: { verdict: review.verdict, comments: review.comments } };
}

function qaOutputs(report: QaReport): TaskOutputs {
  return { summary: report.summary, testResults: report.testResults, ...(report.failures?.length ? { failures: report.failures } : {}) };
}

/**
 * QA on a project that lets it write tests: the test files it added are committed and merged into
 * the goal branch, so they are delivered with the work they cover. The outputs name no branch,
 * so delivery does not merge it again. Tests that conflict with the goal branch are left on QA's
 * task branch and the summary says so: a conflict-resolution task cannot run after the gate.
 */
async function persistQaTests(runtime: Runtime, { goal, task, copy, workspace }: FinishedWork, report: QaReport): Promise<TaskOutputs> {
  const outputs = qaOutputs(report);
  const commit = await workspace.commitAll(copy, {
    message: `${task.title}: tests\n\n${report.summary}\n\n${TASK_TRAILER}: ${task.id}`,
    author: cahootsIdentity(task.role),
  });
  if (!commit.committed) return outputs;
  const files = commit.files.map((f) => f.path);
  try {
    await workspace.mergeTask(goal.id, branchTaskIdOf(task), { message: `Merge ${task.title}: tests` });
  } catch (error) {
    if (!(error instanceof MergeConflictError)) throw error;
    logger.warn('QA tests conflict with the goal branch; left on the task branch', { taskId: task.id, paths: error.paths });
    const note = ` (QA's tests conflicted with ${goal.branch} and stay on ${commit.branch}: ${error.paths.join(', ')})`;
    return { ...outputs, summary: `${report.summary}${note}`.slice(0, LIMITS.summary), commits: [commit.sha], filesChanged: files };
  }
  return { ...outputs, commits: [commit.sha], filesChanged: files };
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
