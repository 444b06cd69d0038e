// What detection does with findings, by autonomy level: 1–2 report them; 3 proposes the top ones
// as goals whose plan waits for a person's approval; 4–5 start goals for the top ones. Levels 3–5
// start at most `detection.maxGoalsPerDay` goals a day and none while the project's daily budget
// is spent. A goal made from a finding carries its fingerprint (`sourceRef`) and the finding moves
// to `in-progress`.
import { dayOf } from '../domain/common';
import type { Actor } from '../domain/events';
import type { Finding, Severity } from '../domain/finding';
import type { Goal } from '../domain/goal';
import type { Priority } from '../domain/settings';
import { ulidFor, ID_PREFIXES } from '../domain/ids';
import { detectionSettingsOf, type Project } from '../domain/project';
import { CahootsError } from '../domain/errors';
import type { PipelineStarter } from '../ports/index';
import type { Runtime } from '../runtime';
import { AlreadyExistsError, goalStream, type Store } from '../store/index';
import { logger } from '../powertools';
import { DETECTION_ACTOR } from './events';
import type { DecideGoalsInput, GoalDecision } from './inputs';

const PRIORITY: Record<Severity, Priority> = { low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'CRITICAL' };
/** The autonomy a proposed goal (level 3) runs at: its plan waits for approval before any code is written. */
export const PROPOSAL_AUTONOMY = 2;

export class FindingNotActionableError extends CahootsError {
  readonly code = 'FindingNotActionable';
  readonly stepFunctionsError = 'Detection.FindingNotActionable';
  readonly permanent = true;
}

export interface GoalStartDependencies {
  store: Store;
  pipeline: PipelineStarter;
}

function goalDescription(finding: Finding): string {
  const where = finding.location.file ? `\n\nWhere: ${finding.location.file}${finding.location.line ? `:${finding.location.line}` : ''}` : '';
  return [
    `Work detection (${finding.detector}) found this problem on the default branch and it is still there.`,
    finding.detail ? `Evidence:\n${finding.detail}` : '',
    `Done when the ${finding.detector} detector no longer reports it (finding ${finding.fingerprint}).${where}`,
  ]
    .filter(Boolean)
    .join('\n\n')
    .slice(0, 8000);
}

/**
 * Creates the goal for a finding and starts its pipeline, then marks the finding in-progress. The
 * goal id derives from the finding and `attempt`, so a retried step finds the goal it already made.
 */
export async function startGoalForFinding(
  deps: GoalStartDependencies,
  finding: Finding,
  options: { actor: Actor; attempt: string; autonomyOverride?: number },
): Promise<Goal> {
  if (finding.status !== 'open') {
    throw new FindingNotActionableError(`Finding ${finding.fingerprint} is ${finding.status}; only an open finding can become a goal`);
  }
  const goalId = `${ID_PREFIXES.goal}_${ulidFor(`${finding.projectId}:${finding.fingerprint}:${options.attempt}`, Date.parse(finding.lastSeenAt))}`;
  let goal: Goal;
  let created = true;
  try {
    goal = await deps.store.goals.create(
      {
        projectId: finding.projectId,
        title: finding.title,
        description: goalDescription(finding),
        source: 'detection',
        sourceRef: finding.fingerprint,
        priority: PRIORITY[finding.severity],
        labels: ['detected', finding.detector],
        ...(options.autonomyOverride !== undefined ? { autonomyOverride: options.autonomyOverride } : {}),
      },
      { id: goalId },
    );
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    goal = await deps.store.goals.get(goalId);
    created = false;
  }
  if (created) {
    await deps.store.events.append(goalStream(goal.id), {
      type: 'Goal.Created',
      actor: options.actor,
      correlationId: goal.id,
      projectId: goal.projectId,
      goalId: goal.id,
      data: { title: goal.title, priority: goal.priority, source: goal.source, labels: goal.labels, fingerprint: finding.fingerprint },
    });
  }
  if (!goal.executionId) {
    const { executionId } = await deps.pipeline.startGoal({ goalId: goal.id, projectId: goal.projectId });
    goal = await deps.store.goals.mutate(goal.id, () => ({ executionId }));
  }
  await deps.store.findings.setStatus(finding.projectId, finding.fingerprint, 'in-progress', goal.id);
  return goal;
}

/** Goals detection created for the project today (UTC). */
async function detectionGoalsToday(store: Store, projectId: string, now: Date): Promise<number> {
  const today = dayOf(now);
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await store.goals.listByProject(projectId, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const goal of page.items) {
      // Newest first: the first goal from before today ends the count.
      if (dayOf(goal.createdAt) < today) return count;
      if (goal.source === 'detection') count++;
    }
    cursor = page.cursor;
  } while (cursor);
  return count;
}

async function dailyBudgetSpent(store: Store, project: Project, now: Date): Promise<boolean> {
  const limit = project.budgets.perProjectDailyUsd;
  if (limit === undefined) return false;
  const today = dayOf(now);
  const usage = await store.usage.getUsage(project.id, today, today);
  return (usage.byDay[today]?.usd ?? 0) >= limit;
}

/**
 * Open problems, best score first (the status index sorts by score). Proposals are left out: the
 * analyst's judgement becomes work only when a person makes it a goal (`POST /findings/{id}/goal`).
 */
async function topOpenFindings(store: Store, projectId: string, limit: number): Promise<Finding[]> {
  if (limit <= 0) return [];
  const page = await store.findings.list(projectId, { status: 'open', kind: 'problem', limit: 100 });
  return page.items.slice(0, limit);
}

export async function decideGoals(runtime: Runtime, input: DecideGoalsInput, now: Date = new Date()): Promise<GoalDecision> {
  const { store } = runtime;
  const project = await store.projects.get(input.projectId);
  const level = project.autonomyLevel;
  if (level <= 2) return { autonomyLevel: level, mode: 'report', goals: [] };
  const mode = level === 3 ? 'propose' : 'start';
  const settings = detectionSettingsOf(project);
  const remaining = settings.maxGoalsPerDay - (await detectionGoalsToday(store, project.id, now));
  if (remaining <= 0) return { autonomyLevel: level, mode, goals: [], limitedBy: 'daily-limit' };
  if (await dailyBudgetSpent(store, project, now)) return { autonomyLevel: level, mode, goals: [], limitedBy: 'budget' };

  const goals: GoalDecision['goals'] = [];
  for (const finding of await topOpenFindings(store, project.id, remaining)) {
    try {
      const goal = await startGoalForFinding({ store, pipeline: runtime.ports.pipeline }, finding, {
        actor: DETECTION_ACTOR,
        attempt: input.runId,
        ...(mode === 'propose' ? { autonomyOverride: PROPOSAL_AUTONOMY } : {}),
      });
      goals.push({ goalId: goal.id, fingerprint: finding.fingerprint, score: finding.score });
    } catch (error) {
      // One finding that cannot become a goal (it changed meanwhile) must not stop the others.
      if (!(error instanceof FindingNotActionableError)) throw error;
      logger.info('finding skipped', { fingerprint: finding.fingerprint, reason: error.message });
    }
  }
  const limitedBy = goals.length === remaining ? 'daily-limit' : undefined;
  return { autonomyLevel: level, mode, goals, ...(limitedBy ? { limitedBy } : {}) };
}
