import { describe, expect, it } from 'vitest';
import { NOTIFICATIONS, renderNotification, type NotificationDefinition } from '../../lib/domain/index';
import { LocalEventBus, LocalEventPublisher } from '../../lib/local/event-bus';
import { installLocalNotifications } from '../../lib/local/notifications';

const cell = { apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/', cliTarget: ' --endpoint https://abc123.execute-api.eu-west-1.amazonaws.com/v1' };
const goalId = 'gol_01JDZ8W5T1N6V1Q2ZK3M4X5Y6Z';
const projectId = 'prj_01JDZ8W5T1N6V1Q2ZK3M4X5Y6Z';

function definition(id: string): NotificationDefinition {
  const found = NOTIFICATIONS.find((d) => d.id === id);
  if (!found) throw new Error(`no notification ${id}`);
  return found;
}

/** A bus event as EventBridge delivers it: the domain event is the detail. */
function busEvent(type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { 'detail-type': type, source: 'cahoots', detail: { eventId: 'e1', type, projectId, goalId, data, ...extra } };
}

describe('notification messages', () => {
  it('an approval waiting names the exact command and API call', () => {
    const message = renderNotification(definition('approval-waiting'), busEvent('Goal.AwaitingApproval', { title: 'Add rate limiting', stage: 'plan', costUsd: 0.42 }), cell);
    expect(message.title).toBe(`Cahoots: goal ${goalId} waits for your plan approval`);
    expect(message.text.split('\n')).toEqual([
      `Cahoots: goal ${goalId} waits for your plan approval`,
      '',
      `Goal ${goalId} "Add rate limiting" of project ${projectId} waits for your plan approval (spent so far: 0.42 USD).`,
      '',
      `Approve:  cahoots approve ${goalId} --endpoint https://abc123.execute-api.eu-west-1.amazonaws.com/v1`,
      '          (a budget gate takes the new per-goal limit: --budget-usd N)',
      `Reject:   cahoots reject ${goalId} --endpoint https://abc123.execute-api.eu-west-1.amazonaws.com/v1 --comment "why"`,
      `API:      POST https://abc123.execute-api.eu-west-1.amazonaws.com/v1/goals/${goalId}/approvals with {"decision": "approve"} or {"decision": "reject", "comment": "why"}`,
      '',
      'Unanswered, the goal is cancelled when the approval times out.',
    ]);
  });

  it('a succeeded goal gives its pull request; a failed one its cause', () => {
    const done = renderNotification(definition('goal-succeeded'), busEvent('Goal.Completed', { title: 'Fix login', costUsd: 1.5, delivery: 'https://github.com/acme/shop/pull/7' }), cell);
    expect(done.text).toContain('Delivered: https://github.com/acme/shop/pull/7');
    expect(done.text).toContain(`Goal ${goalId} "Fix login" of project ${projectId} succeeded (cost: 1.5 USD).`);
    const failed = renderNotification(definition('goal-failed'), busEvent('Goal.Failed', { title: 'Fix login', code: 'Budget.Exceeded', cause: 'spent 5.02 USD of a 5 USD budget' }), cell);
    expect(failed.text).toContain(`failed (Budget.Exceeded): spent 5.02 USD of a 5 USD budget`);
    expect(failed.text).toContain(`cahoots events ${goalId} --endpoint`);
  });

  it('a critical finding links its findings and the call that makes it a goal', () => {
    const finding = renderNotification(
      definition('critical-finding'),
      busEvent('Finding.Detected', { findingId: 'fnd_1', severity: 'critical', title: 'lodash 4.17.15: prototype pollution' }, { goalId: undefined }),
      { apiUrl: 'http://127.0.0.1:8787', cliTarget: '' },
    );
    expect(finding.text.split('\n').slice(2)).toEqual([
      `Work detection found a critical problem in project ${projectId}: lodash 4.17.15: prototype pollution`,
      '',
      `Findings:  GET http://127.0.0.1:8787/projects/${projectId}/findings?severity=critical`,
      'Fix it:    POST http://127.0.0.1:8787/findings/fnd_1/goal',
    ]);
  });

  it('locally, the same patterns select the events and the same words are delivered', async () => {
    const bus = new LocalEventBus();
    const delivered: string[] = [];
    const remove = installLocalNotifications(bus, cell, (n) => delivered.push(n.id));
    const publisher = new LocalEventPublisher(bus);
    await publisher.publish([
      { eventId: 'e1', type: 'Goal.AwaitingApproval', projectId, goalId, data: { stage: 'delivery' } },
      { eventId: 'e2', type: 'Task.Started', projectId, goalId, data: {} },
      { eventId: 'e3', type: 'Finding.Detected', projectId, data: { findingId: 'f1', severity: 'high', title: 'lint errors' } },
      { eventId: 'e4', type: 'Finding.Detected', projectId, data: { findingId: 'f2', severity: 'critical', title: 'tests fail' } },
      { eventId: 'e5', type: 'Goal.Failed', projectId, goalId, data: { code: 'X', cause: 'y' } },
    ]);
    await bus.idle();
    expect(delivered.sort()).toEqual(['approval-waiting', 'critical-finding', 'goal-failed']);
    remove();
    await publisher.publish([{ eventId: 'e6', type: 'Goal.Failed', projectId, goalId, data: {} }]);
    await bus.idle();
    expect(delivered).toHaveLength(3);
  });
});
