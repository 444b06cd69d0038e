// The one place that owns status machines for goals, tasks and findings: which status may follow
// which. Every status change in the store goes through these functions.
import * as z from 'zod';
import { CahootsError } from './errors';

export const STATUSES = ['PENDING', 'RUNNING', 'AWAITING_APPROVAL', 'BLOCKED', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export const StatusSchema = z.enum(STATUSES);
export type Status = z.infer<typeof StatusSchema>;
export type GoalStatus = Status;
export type TaskStatus = Status;

export const TERMINAL_STATUSES: readonly Status[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export function isTerminal(status: Status): boolean {
  return TERMINAL_STATUSES.includes(status);
}

type Graph<S extends string> = Readonly<Record<S, readonly S[]>>;

/**
 * Goal graph.
 *   PENDING → RUNNING (pipeline started) | CANCELLED | FAILED (start failed)
 *   RUNNING → AWAITING_APPROVAL (plan/delivery/budget gate) | BLOCKED | SUCCEEDED | FAILED | CANCELLED
 *   AWAITING_APPROVAL → RUNNING (approved) | CANCELLED (rejected, timed out) | FAILED
 *   BLOCKED → RUNNING (unblocked) | CANCELLED | FAILED
 * BLOCKED on a goal means it cannot continue until something outside it changes without a human
 * decision being asked for (project daily budget spent, repository unreachable, role unstaffed).
 * Terminal statuses have no way out: a retry is a new goal, so history stays truthful.
 */
export const GOAL_TRANSITIONS: Graph<Status> = {
  PENDING: ['RUNNING', 'CANCELLED', 'FAILED'],
  RUNNING: ['AWAITING_APPROVAL', 'BLOCKED', 'SUCCEEDED', 'FAILED', 'CANCELLED'],
  AWAITING_APPROVAL: ['RUNNING', 'CANCELLED', 'FAILED'],
  BLOCKED: ['RUNNING', 'CANCELLED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
};

/**
 * Task graph.
 *   PENDING → RUNNING (claimed by an agent) | BLOCKED (a dependency failed) | CANCELLED
 *           | FAILED (never claimed: dispatch timed out or went to the DLQ)
 *   RUNNING → SUCCEEDED | FAILED (retries exhausted) | PENDING (retry, usually with a stronger
 *           model tier) | AWAITING_APPROVAL (agent needs a human, e.g. budget) | CANCELLED
 *   AWAITING_APPROVAL → RUNNING | CANCELLED | FAILED
 *   BLOCKED → PENDING (its failed dependency was replaced) | CANCELLED
 * Rework after review is a new task of kind `rework`, never SUCCEEDED → PENDING.
 */
export const TASK_TRANSITIONS: Graph<Status> = {
  PENDING: ['RUNNING', 'BLOCKED', 'CANCELLED', 'FAILED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'PENDING', 'AWAITING_APPROVAL', 'CANCELLED'],
  AWAITING_APPROVAL: ['RUNNING', 'CANCELLED', 'FAILED'],
  BLOCKED: ['PENDING', 'CANCELLED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
};

export const FINDING_STATUSES = ['open', 'in-progress', 'dismissed', 'resolved'] as const;
export const FindingStatusSchema = z.enum(FINDING_STATUSES);
export type FindingStatus = z.infer<typeof FindingStatusSchema>;

/**
 * Finding graph.
 *   open → in-progress (a goal works on it) | dismissed (a person said no) | resolved (no longer detected)
 *   in-progress → open (the goal failed or was cancelled) | resolved (no longer detected: fixed)
 *   dismissed → open (a person reopened it); a dismissed finding is never resolved or reopened by detection
 *   resolved → open (detected again)
 */
export const FINDING_TRANSITIONS: Graph<FindingStatus> = {
  open: ['in-progress', 'dismissed', 'resolved'],
  'in-progress': ['open', 'resolved'],
  dismissed: ['open'],
  resolved: ['open'],
};

export type TransitionEntity = 'goal' | 'task' | 'finding';

export class IllegalTransitionError extends CahootsError {
  readonly code = 'IllegalTransition';
  readonly stepFunctionsError = 'Domain.IllegalTransition';
  readonly permanent = true;

  constructor(
    readonly entity: TransitionEntity,
    readonly from: string,
    readonly to: string,
    readonly id?: string,
  ) {
    super(`illegal ${entity} transition ${from} → ${to}${id ? ` (${id})` : ''}`);
  }
}

function graphOf(entity: TransitionEntity): Graph<string> {
  if (entity === 'goal') return GOAL_TRANSITIONS;
  if (entity === 'task') return TASK_TRANSITIONS;
  return FINDING_TRANSITIONS;
}

export function canTransition(entity: TransitionEntity, from: string, to: string): boolean {
  return graphOf(entity)[from]?.includes(to) ?? false;
}

/** Throws IllegalTransitionError unless `from → to` is an edge of the entity's graph. */
export function assertTransition(entity: TransitionEntity, from: string, to: string, id?: string): void {
  if (!canTransition(entity, from, to)) throw new IllegalTransitionError(entity, from, to, id);
}

/** Returns `to` when the goal may move there from `from`; throws IllegalTransitionError otherwise. */
export function transitionGoal(from: Status, to: Status, id?: string): Status {
  assertTransition('goal', from, to, id);
  return to;
}

export function transitionTask(from: Status, to: Status, id?: string): Status {
  assertTransition('task', from, to, id);
  return to;
}

export function transitionFinding(from: FindingStatus, to: FindingStatus, id?: string): FindingStatus {
  assertTransition('finding', from, to, id);
  return to;
}
