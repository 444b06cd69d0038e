// Picks goals up again after the local runtime restarted. Executions, task tokens and queue
// messages live in memory, so a goal that was running when the process stopped would sit in the
// store as RUNNING forever. At start-up every unfinished goal is either resumed — tasks that were
// being worked go back to PENDING and the pipeline is started again, whose steps are idempotent
// (finished tasks are answered from the store, a pending approval is asked again) — or, when it
// cannot be (its repository is gone), ended FAILED with a cause that says why.
import type { Goal } from '../domain/goal';
import type { Project } from '../domain/project';
import { isTerminal, type Status } from '../domain/status';
import { withoutToken } from '../api/goals';
import { recordGoalEvent } from '../pipeline/events';
import { endGoal } from '../pipeline/goals';
import { openProjectWorkspace } from '../pipeline/workspace';
import { logger } from '../powertools';
import type { LocalRuntime } from './runtime';

/** Statuses a goal can be left in by a process that stopped. */
export const UNFINISHED_GOAL_STATUSES: readonly Status[] = ['PENDING', 'RUNNING', 'AWAITING_APPROVAL', 'BLOCKED'];

/** The failure code of a goal that could not be resumed after a restart. */
export const RESUME_FAILED = 'Goal.ResumeFailed';

export interface RecoveredGoal {
  goalId: string;
  projectId: string;
  title: string;
  /** The status the goal was found in. */
  from: Status;
  action: 'resumed' | 'failed';
  /** Tasks put back to PENDING because their agent stopped with the process. */
  requeuedTasks: string[];
  /** Why a goal could not be resumed. */
  cause?: string;
}

export async function recoverInterruptedGoals(local: Pick<LocalRuntime, 'runtime' | 'store'>): Promise<RecoveredGoal[]> {
  const { store } = local;
  // Collected before anything changes: resuming moves goals between the status listings.
  const found = new Map<string, { project: Project; goal: Goal }>();
  for (const project of await allProjects(local)) {
    for (const status of UNFINISHED_GOAL_STATUSES) {
      let cursor: string | undefined;
      do {
        const page = await store.goals.listByStatus(project.id, status, { limit: 100, order: 'oldest', ...(cursor ? { cursor } : {}) });
        for (const goal of page.items) found.set(goal.id, { project, goal });
        cursor = page.items.length > 0 ? page.cursor : undefined;
      } while (cursor);
    }
  }
  const outcomes: RecoveredGoal[] = [];
  for (const { project, goal } of found.values()) {
    const fresh = await store.goals.get(goal.id);
    if (isTerminal(fresh.status)) continue;
    outcomes.push(await recoverGoal(local, project, fresh));
  }
  return outcomes;
}

async function allProjects(local: Pick<LocalRuntime, 'store'>): Promise<Project[]> {
  const projects: Project[] = [];
  let cursor: string | undefined;
  do {
    const page = await local.store.projects.list({ limit: 100, ...(cursor ? { cursor } : {}) });
    projects.push(...page.items);
    cursor = page.items.length > 0 ? page.cursor : undefined;
  } while (cursor);
  return projects;
}

async function recoverGoal(local: Pick<LocalRuntime, 'runtime' | 'store'>, project: Project, goal: Goal): Promise<RecoveredGoal> {
  const { runtime, store } = local;
  const base = { goalId: goal.id, projectId: goal.projectId, title: goal.title, from: goal.status };
  const requeuedTasks = await requeueRunningTasks(local, goal.id);
  // The approval's task token belonged to an execution that no longer exists; the resumed
  // pipeline asks again with a new one. Until then nothing can be approved.
  if (goal.approval.taskToken !== undefined || goal.status === 'AWAITING_APPROVAL') {
    await store.goals.mutate(goal.id, (current) => ({
      approval: withoutToken(current.approval),
      ...(current.status === 'AWAITING_APPROVAL' ? { status: 'RUNNING' as const } : {}),
    }));
  }

  const unresumable = await whyNotResumable(local, project, goal);
  if (unresumable) return { ...base, action: 'failed', requeuedTasks, cause: await fail(local, goal, unresumable) };

  await recordGoalEvent(runtime, {
    type: 'Goal.Resumed',
    goal,
    data: { from: goal.status, requeuedTasks, reason: 'the local runtime restarted while the goal was unfinished' },
  });
  try {
    const { executionId } = await runtime.ports.pipeline.startGoal({ goalId: goal.id, projectId: goal.projectId });
    await store.goals.mutate(goal.id, (current) => (current.executionId === executionId ? {} : { executionId }));
    return { ...base, action: 'resumed', requeuedTasks };
  } catch (error) {
    const cause = `its pipeline could not be started again: ${error instanceof Error ? error.message : String(error)}`;
    return { ...base, action: 'failed', requeuedTasks, cause: await fail(local, goal, cause) };
  }
}

/**
 * A RUNNING task's agent stopped with the process; RUNNING → PENDING lets the resumed pipeline
 * dispatch it again (a new claim, a fresh attempt from the goal branch).
 */
async function requeueRunningTasks(local: Pick<LocalRuntime, 'store'>, goalId: string): Promise<string[]> {
  const requeued: string[] = [];
  for (const task of await local.store.tasks.listAll(goalId)) {
    if (task.status !== 'RUNNING') continue;
    // The interrupted attempt did not fail on its own, so it does not count against the task's retries.
    await local.store.tasks.transition(
      goalId,
      task.id,
      'PENDING',
      (current) => ({ runId: undefined, dispatch: undefined, attempts: Math.max(0, current.attempts - 1) }),
      { idempotent: true },
    );
    requeued.push(task.id);
  }
  return requeued;
}

async function whyNotResumable(local: Pick<LocalRuntime, 'runtime'>, project: Project, goal: Goal): Promise<string | undefined> {
  try {
    const workspace = await openProjectWorkspace(local.runtime, project, goal);
    await workspace.resolve(project.repo.defaultBranch);
    return undefined;
  } catch (error) {
    const where = project.repo.path ?? project.repo.url ?? 'its repository';
    return `the project's repository ${where} cannot be used any more (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Ends the goal the way the pipeline's EndGoal step does; returns the cause recorded. */
async function fail(local: Pick<LocalRuntime, 'runtime'>, goal: Goal, reason: string): Promise<string> {
  const cause = `Cannot resume after a restart: ${reason}`;
  logger.warn('interrupted goal cannot be resumed; ending it FAILED', { goalId: goal.id, cause });
  await endGoal(local.runtime, { goalId: goal.id, projectId: goal.projectId, outcome: 'FAILED', error: { Error: RESUME_FAILED, Cause: cause } });
  return cause;
}
