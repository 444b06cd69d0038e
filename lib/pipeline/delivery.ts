// Delivery: every succeeded task branch is merged into the goal branch (a no-op for those merged
// when they finished), then the goal branch is handed to the delivery target — locally the branch
// in the project's own repository; a git-hosting adapter (push + pull request) plugs in here.
import type { Goal } from '../domain/goal';
import type { Project } from '../domain/project';
import type { Runtime } from '../runtime';
import type { GitWorkspace } from '../workspace/index';
import { recordGoalEvent } from './events';
import { ensureGoalRunning } from './goal-state';
import type { GoalStepInput } from './inputs';
import { branchTaskIdOf, isWorkTask } from './dispatch';
import { openProjectWorkspace } from './workspace';

export interface Delivery {
  kind: 'branch' | 'pull-request';
  branch: string;
  commits: number;
  filesChanged: string[];
  url?: string;
}

/** Where a finished goal branch goes. */
export interface DeliveryTarget {
  deliver(input: { project: Project; goal: Goal; workspace: GitWorkspace; commits: number; filesChanged: string[] }): Promise<Delivery>;
}

/** The local target: the goal branch stays in the project repository for a person to inspect and merge. */
export const branchDelivery: DeliveryTarget = {
  async deliver({ goal, commits, filesChanged }) {
    return { kind: 'branch', branch: goal.branch, commits, filesChanged };
  },
};

export async function deliverGoal(runtime: Runtime, input: GoalStepInput, target: DeliveryTarget = branchDelivery): Promise<Delivery> {
  const goal = await ensureGoalRunning(runtime, input.goalId);
  const project = await runtime.store.projects.get(goal.projectId);
  const workspace = await openProjectWorkspace(runtime, project);
  await workspace.createGoalBranch(goal.id, project.repo.defaultBranch);
  const tasks = await runtime.store.tasks.listAll(goal.id);
  for (const task of tasks.filter((t) => isWorkTask(t) && t.status === 'SUCCEEDED' && t.outputs?.branch)) {
    await workspace.mergeTask(goal.id, branchTaskIdOf(task), { message: `Merge ${task.title}` });
  }
  const commits = await workspace.listCommits(goal.branch, { notIn: project.repo.defaultBranch, limit: 1_000 });
  const files = await workspace.diffSummary(project.repo.defaultBranch, goal.branch);
  const delivery = await target.deliver({ project, goal, workspace, commits: commits.length, filesChanged: files.map((f) => f.path) });
  await recordGoalEvent(runtime, {
    type: 'Delivery.Created',
    goal,
    data: { ...delivery, filesChanged: delivery.filesChanged.slice(0, 200) },
    idempotencyKey: 'delivered',
  });
  return delivery;
}
