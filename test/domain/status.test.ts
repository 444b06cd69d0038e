import { describe, expect, it } from 'vitest';
import {
  assertTransition,
  canTransition,
  GOAL_TRANSITIONS,
  IllegalTransitionError,
  isTerminal,
  STATUSES,
  TASK_TRANSITIONS,
  TERMINAL_STATUSES,
  transitionFinding,
  transitionGoal,
  transitionTask,
} from '../../lib/domain/status';

describe('goal status machine', () => {
  it.each([
    ['PENDING', 'RUNNING'],
    ['RUNNING', 'AWAITING_APPROVAL'],
    ['AWAITING_APPROVAL', 'RUNNING'],
    ['AWAITING_APPROVAL', 'CANCELLED'],
    ['RUNNING', 'BLOCKED'],
    ['BLOCKED', 'RUNNING'],
    ['RUNNING', 'SUCCEEDED'],
    ['RUNNING', 'FAILED'],
    ['PENDING', 'CANCELLED'],
  ] as const)('allows %s → %s', (from, to) => {
    expect(transitionGoal(from, to)).toBe(to);
  });

  it.each([
    ['PENDING', 'SUCCEEDED'],
    ['PENDING', 'AWAITING_APPROVAL'],
    ['SUCCEEDED', 'RUNNING'],
    ['FAILED', 'PENDING'],
    ['CANCELLED', 'RUNNING'],
    ['RUNNING', 'PENDING'],
    ['RUNNING', 'RUNNING'],
  ] as const)('refuses %s → %s with an error naming entity, from and to', (from, to) => {
    const attempt = () => transitionGoal(from, to, 'goal_1');
    expect(attempt).toThrow(IllegalTransitionError);
    expect(attempt).toThrow(`illegal goal transition ${from} → ${to} (goal_1)`);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({ entity: 'goal', from, to, code: 'IllegalTransition', name: 'IllegalTransitionError' });
    }
  });
});

describe('task status machine', () => {
  it('allows the claim, retry, success and blocking paths', () => {
    expect(transitionTask('PENDING', 'RUNNING')).toBe('RUNNING');
    expect(transitionTask('RUNNING', 'PENDING')).toBe('PENDING');
    expect(transitionTask('RUNNING', 'SUCCEEDED')).toBe('SUCCEEDED');
    expect(transitionTask('PENDING', 'BLOCKED')).toBe('BLOCKED');
    expect(transitionTask('BLOCKED', 'PENDING')).toBe('PENDING');
  });

  it('refuses reopening a finished task and running a blocked one', () => {
    expect(() => transitionTask('SUCCEEDED', 'PENDING')).toThrow(IllegalTransitionError);
    expect(() => transitionTask('BLOCKED', 'RUNNING')).toThrow(/illegal task transition BLOCKED → RUNNING/);
  });
});

describe('graph properties', () => {
  it('terminal statuses have no way out, in both graphs', () => {
    for (const terminal of TERMINAL_STATUSES) {
      expect(isTerminal(terminal)).toBe(true);
      for (const to of STATUSES) {
        expect(canTransition('goal', terminal, to)).toBe(false);
        expect(canTransition('task', terminal, to)).toBe(false);
      }
    }
  });

  it('every non-terminal status can still reach a terminal one, and none loops to itself', () => {
    for (const graph of [GOAL_TRANSITIONS, TASK_TRANSITIONS]) {
      for (const status of STATUSES) {
        expect(graph[status]).not.toContain(status);
        if (!isTerminal(status)) expect(graph[status].some(isTerminal)).toBe(true);
      }
    }
  });

  it('finding statuses: open → in-progress → resolved → open; dismissed only reopens', () => {
    expect(transitionFinding('open', 'in-progress')).toBe('in-progress');
    expect(transitionFinding('in-progress', 'open')).toBe('open');
    expect(transitionFinding('in-progress', 'resolved')).toBe('resolved');
    expect(transitionFinding('resolved', 'open')).toBe('open');
    expect(transitionFinding('dismissed', 'open')).toBe('open');
    expect(() => assertTransition('finding', 'in-progress', 'dismissed')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('finding', 'dismissed', 'resolved')).toThrow(IllegalTransitionError);
    expect(canTransition('goal', 'NOPE', 'RUNNING')).toBe(false);
  });
});
