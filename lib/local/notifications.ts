// Notifications on the local bus: the same definitions (lib/domain/notifications.ts) a cell turns
// into EventBridge rules with input transformers, matched by the same patterns and filled with the
// same words, handed to `deliver` (cahoots dev prints them) instead of an SNS topic.
import { NOTIFICATIONS, renderNotification, type NotificationContext, type RenderedNotification } from '../domain/notifications';
import { EVENT_SOURCE } from '../ports/event-entries';
import type { LocalEventBus } from './event-bus';

/** Adds one bus rule per notification; returns a function that removes them again. */
export function installLocalNotifications(bus: LocalEventBus, context: NotificationContext, deliver: (notification: RenderedNotification) => void): () => void {
  const names = NOTIFICATIONS.map((definition) => {
    const name = `notify-${definition.id}`;
    bus.putRule(name, { source: [EVENT_SOURCE], ...definition.pattern }, (event) => deliver(renderNotification(definition, event, context)));
    return name;
  });
  return () => {
    for (const name of names) bus.removeRule(name);
  };
}
