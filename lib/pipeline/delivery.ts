// Delivery: every succeeded task branch is merged into the goal branch (a no-op for those merged
// when they finished), the goal branch is published through the RepositoryHost port (pushed,
// compare-and-swap, to a remote; already in place for a local checkout), and where the project
// wants one and its host can, a pull request against the default branch is opened — or, when the
// goal is delivered again after rework, the same pull request is updated.
import type { Goal, GoalDelivery } from '../domain/goal';
import { issueOfUrl } from '../domain/issue-link';
import { logger } from '../powertools';
import { DEFAULT_DELIVERY_MODE, type Project } from '../domain/project';
import type { Task } from '../domain/task';
import type { Runtime } from '../runtime';
import { RefNotFoundError, taskBranchName, type CommitInfo, type FileChange, type GitWorkspace } from '../workspace/index';
import { recordGoalEvent } from './events';
import { ensureGoalRunning } from './goal-state';
import type { GoalStepInput } from './inputs';
import { branchTaskIdOf, isWorkTask } from './dispatch';
import { pullRequestTitle, renderPullRequestBody, type DeliveryReport } from './pull-request-body';
import { openProjectWorkspace } from './workspace';

/**
 * What the Deliver step returns to the state machine: the goal's delivery record without its time.
 * Kept small (no file list), since it travels in the execution's state (256 KB at most).
 */
export type Delivery = Omit<GoalDelivery, 'deliveredAt'> & { filesChanged: number };

/** Changed paths listed in the Delivery.Created event; the pull request body lists its own. */
const MAX_LISTED_FILES = 200;

export async function deliverGoal(runtime: Runtime, input: GoalStepInput): Promise<Delivery> {
  const goal = await ensureGoalRunning(runtime, input.goalId);
  const project = await runtime.store.projects.get(goal.projectId);
  const base = project.repo.defaultBranch;
  const workspace = await openProjectWorkspace(runtime, project, goal);
  await workspace.createGoalBranch(goal.id, base);
  const tasks = await runtime.store.tasks.listAll(goal.id);
  for (const task of tasks.filter((t) => isWorkTask(t) && t.status === 'SUCCEEDED' && t.outputs?.branch)) {
    // A goal delivered before had its task branches merged and removed when it succeeded.
    if (!(await hasBranch(workspace, taskBranchName(goal.id, branchTaskIdOf(task))))) continue;
    await workspace.mergeTask(goal.id, branchTaskIdOf(task), { message: `Merge ${task.title}` });
  }
  const commits = await workspace.listCommits(goal.branch, { notIn: base, limit: 1_000 });
  const files = await workspace.diffSummary(base, goal.branch);

  const published = await runtime.ports.repositories.publishBranch(project, goal);
  const pullRequest = wantsPullRequest(runtime, project)
    ? await runtime.ports.repositories.openOrUpdatePullRequest(project, {
        title: pullRequestTitle(goal.title),
        body: renderPullRequestBody(await deliveryReport(runtime, goal, tasks, commits, files)),
        head: goal.branch,
        base,
      })
    : undefined;

  const delivery: Delivery = {
    kind: pullRequest ? 'pull-request' : 'branch',
    branch: published.branch,
    sha: published.sha,
    commits: commits.length,
    filesChanged: files.length,
    ...(pullRequest ? { url: pullRequest.url, number: pullRequest.number } : {}),
  };
  if (pullRequest?.created) await tellTheRequestingIssue(runtime, project, goal, pullRequest.url);
  const { filesChanged: _count, ...record } = delivery;
  await runtime.store.goals.mutate(goal.id, () => ({ delivery: { ...record, deliveredAt: new Date().toISOString() } }));
  await recordGoalEvent(runtime, {
    type: 'Delivery.Created',
    goal,
    data: {
      ...delivery,
      filesChanged: files.slice(0, MAX_LISTED_FILES).map((f) => f.path),
      filesChangedCount: files.length,
      pushed: !published.unchanged,
      ...(pullRequest ? { pullRequestCreated: pullRequest.created } : {}),
    },
    // One event per delivered commit: a retried step records nothing new, a delivery after rework does.
    idempotencyKey: `delivered:${published.sha}`,
  });
  return delivery;
}

/**
 * A goal that came from a GitHub issue (webhook) says on that issue where its work is, once, when
 * its pull request is opened. Best effort: the delivery stands even if the comment fails.
 */
async function tellTheRequestingIssue(runtime: Runtime, project: Project, goal: Goal, pullRequestUrl: string): Promise<void> {
  // A webhook goal's source is the issue's address or the address of the comment that asked.
  const issueNumber = goal.source === 'webhook' ? issueOfUrl(goal.sourceRef)?.number : undefined;
  if (issueNumber === undefined) return;
  try {
    await runtime.ports.repositories.commentOnIssue(project, issueNumber, `The work for this issue is ready for review: ${pullRequestUrl} (goal \`${goal.id}\`).`);
  } catch (error) {
    logger.warn('could not comment the pull request on the requesting issue', { goalId: goal.id, issueNumber, error: error as Error });
  }
}

async function hasBranch(workspace: GitWorkspace, branch: string): Promise<boolean> {
  try {
    await workspace.resolve(branch);
    return true;
  } catch (error) {
    if (error instanceof RefNotFoundError) return false;
    throw error;
  }
}

function wantsPullRequest(runtime: Runtime, project: Project): boolean {
  return (project.delivery ?? DEFAULT_DELIVERY_MODE) === 'pull-request' && runtime.ports.repositories.supportsPullRequests(project);
}

/** Everything the pull request body tells, read from the store and the workspace. */
async function deliveryReport(runtime: Runtime, goal: Goal, tasks: readonly Task[], commits: readonly CommitInfo[], files: readonly FileChange[]): Promise<DeliveryReport> {
  const ordered = [...tasks].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  const reviews = ordered.filter((t) => t.kind === 'review' && t.status === 'SUCCEEDED' && t.outputs?.review);
  const tests = ordered.filter((t) => t.kind === 'qa' && t.status === 'SUCCEEDED' && t.outputs?.testResults).at(-1)?.outputs?.testResults;
  return {
    goal: {
      id: goal.id,
      title: goal.title,
      description: goal.description,
      reworkRounds: goal.reworkRounds,
      ...(goal.planSummary ? { planSummary: goal.planSummary } : {}),
      ...(goal.risk ? { risk: goal.risk } : {}),
    },
    tasks: ordered.map((t) => ({ title: t.title, role: t.role, kind: t.kind, status: t.status, attempts: t.attempts })),
    commits: commits.map((c) => ({ sha: c.sha, subject: c.subject })),
    files: files.map((f) => ({ path: f.path, status: f.status })),
    ...(tests ? { tests } : {}),
    reviews: reviews.map((t, i) => ({
      round: i + 1,
      verdict: t.outputs!.review!.verdict,
      ...(t.outputs?.summary ? { summary: t.outputs.summary } : {}),
      comments: t.outputs!.review!.comments,
    })),
    cost: await costOf(runtime, goal),
  };
}

/** The goal's spend by role and by model, from its agent runs. */
async function costOf(runtime: Runtime, goal: Goal): Promise<DeliveryReport['cost']> {
  const byRole = new Map<string, { usd: number; calls: number }>();
  const byModel = new Map<string, { usd: number; calls: number }>();
  const add = (into: Map<string, { usd: number; calls: number }>, key: string, usd: number, calls: number) => {
    const line = into.get(key) ?? { usd: 0, calls: 0 };
    into.set(key, { usd: roundUsd(line.usd + usd), calls: line.calls + calls });
  };
  let cursor: string | undefined;
  do {
    const page = await runtime.store.agentRuns.listByGoal(goal.id, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const run of page.items) {
      add(byRole, run.role, run.costUsd, run.modelCallCount);
      for (const call of run.modelCalls) add(byModel, call.model, call.costUsd, 1);
    }
    cursor = page.cursor;
  } while (cursor);
  return {
    totalUsd: goal.costUsd,
    byRole: [...byRole].map(([role, line]) => ({ role, ...line })),
    byModel: [...byModel].map(([model, line]) => ({ model, ...line })),
  };
}

// As the gateway rounds each call: sums of dollars must not drift in the last float digits.
function roundUsd(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
