// What people are told, and in which words: the domain events someone must act on or wants to know
// about, each with the EventBridge pattern that selects it and a message template. A cell turns
// each definition into a bus rule whose input transformer fills the template (infra/constructs/
// cell-notifications.ts); the local runtime fills the same template with renderNotification and
// prints it (cahoots dev). One wording, two deliveries.
import type { SEVERITIES } from './finding';

type Severity = (typeof SEVERITIES)[number];

/** How a deployment is reached, filled into the commands and API calls of a message. */
export interface NotificationContext {
  /** The API base URL without a trailing slash, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/v1`. */
  apiUrl: string;
  /** What follows a `cahoots` command to reach this deployment, e.g. ` --endpoint <url>`; empty locally. */
  cliTarget: string;
}

export interface NotificationDefinition {
  /** Stable id: part of the bus rule's name. */
  id: string;
  /** For the rule's description and the docs. */
  description: string;
  /** EventBridge pattern over a Cahoots bus event; the `source` is added where the rule is made. */
  pattern: { 'detail-type': string[]; detail?: Record<string, unknown> };
  /** The subject line, a template like the lines. */
  title: string;
  /**
   * The message body. `<name>` is a field below, `<apiUrl>` and `<cliTarget>` come from the
   * NotificationContext; EventBridge input transformers use the same placeholder syntax.
   */
  lines: readonly string[];
  /** Placeholder name → where its value is in the bus event (EventBridge JSONPath: `$.detail.goalId`). */
  fields: Readonly<Record<string, string>>;
}

/** The severities that are worth a message; lower ones wait in `GET /projects/{id}/findings`. */
export const NOTIFIED_FINDING_SEVERITIES: readonly Severity[] = ['critical'];

const GOAL_FIELDS = { goalId: '$.detail.goalId', projectId: '$.detail.projectId', goalTitle: '$.detail.data.title' } as const;

export const NOTIFICATIONS: readonly NotificationDefinition[] = [
  {
    id: 'approval-waiting',
    description: 'A goal waits for a person to approve its plan, its delivery or more budget',
    pattern: { 'detail-type': ['Goal.AwaitingApproval'] },
    title: 'Cahoots: goal <goalId> waits for your <stage> approval',
    lines: [
      'Goal <goalId> "<goalTitle>" of project <projectId> waits for your <stage> approval (spent so far: <costUsd> USD).',
      '',
      'Approve:  cahoots approve <goalId><cliTarget>',
      '          (a budget gate takes the new per-goal limit: --budget-usd N)',
      'Reject:   cahoots reject <goalId><cliTarget> --comment "why"',
      'API:      POST <apiUrl>/goals/<goalId>/approvals with {"decision": "approve"} or {"decision": "reject", "comment": "why"}',
      '',
      'Unanswered, the goal is cancelled when the approval times out.',
    ],
    fields: { ...GOAL_FIELDS, stage: '$.detail.data.stage', costUsd: '$.detail.data.costUsd' },
  },
  {
    id: 'goal-succeeded',
    description: 'A goal finished; its work is in a pull request (or on a branch)',
    pattern: { 'detail-type': ['Goal.Completed'] },
    title: 'Cahoots: goal <goalId> succeeded',
    lines: [
      'Goal <goalId> "<goalTitle>" of project <projectId> succeeded (cost: <costUsd> USD).',
      '',
      'Delivered: <delivery>',
      'Details:   cahoots events <goalId><cliTarget>  ·  GET <apiUrl>/goals/<goalId>',
    ],
    fields: { ...GOAL_FIELDS, costUsd: '$.detail.data.costUsd', delivery: '$.detail.data.delivery' },
  },
  {
    id: 'goal-failed',
    description: 'A goal failed; the message says why',
    pattern: { 'detail-type': ['Goal.Failed'] },
    title: 'Cahoots: goal <goalId> failed',
    lines: [
      'Goal <goalId> "<goalTitle>" of project <projectId> failed (<code>): <cause>',
      '',
      'Details:   cahoots events <goalId><cliTarget>  ·  GET <apiUrl>/goals/<goalId>',
    ],
    fields: { ...GOAL_FIELDS, code: '$.detail.data.code', cause: '$.detail.data.cause' },
  },
  {
    id: 'critical-finding',
    description: 'Work detection found a critical problem',
    pattern: { 'detail-type': ['Finding.Detected'], detail: { data: { severity: [...NOTIFIED_FINDING_SEVERITIES] } } },
    title: 'Cahoots: critical finding in project <projectId>',
    lines: [
      'Work detection found a <severity> problem in project <projectId>: <findingTitle>',
      '',
      'Findings:  GET <apiUrl>/projects/<projectId>/findings?severity=<severity>',
      'Fix it:    POST <apiUrl>/findings/<findingId>/goal',
    ],
    fields: {
      projectId: '$.detail.projectId',
      findingId: '$.detail.data.findingId',
      findingTitle: '$.detail.data.title',
      severity: '$.detail.data.severity',
    },
  },
];

/** The value at an EventBridge JSONPath (`$.a.b`) in `event`, as text; empty when absent. */
function valueAt(event: unknown, path: string): string {
  let value: unknown = event;
  for (const key of path.replace(/^\$\.?/, '').split('.').filter(Boolean)) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Fills `template`'s `<name>` placeholders from `values`; an unknown name is a programming error. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/<([A-Za-z][A-Za-z0-9]*)>/g, (placeholder, name: string) => {
    if (!(name in values)) return placeholder;
    return values[name]!;
  });
}

/**
 * The whole message as text — the title, a blank line, the lines — with the deployment context
 * filled in; what remains are the event's `<field>` placeholders, which an input transformer (or
 * renderNotification) fills.
 */
export function messageTemplate(definition: NotificationDefinition, context: NotificationContext): { title: string; text: string } {
  const values = { apiUrl: context.apiUrl.replace(/\/+$/, ''), cliTarget: context.cliTarget };
  const title = fillTemplate(definition.title, values);
  return { title, text: [title, '', ...definition.lines.map((line) => fillTemplate(line, values))].join('\n') };
}

export interface RenderedNotification {
  id: string;
  title: string;
  /** The full message: title, blank line, body. */
  text: string;
}

/** The message a definition gives for one bus event (the envelope EventBridge delivers), word for word as the cell sends it. */
export function renderNotification(definition: NotificationDefinition, event: unknown, context: NotificationContext): RenderedNotification {
  const values: Record<string, string> = {};
  for (const [name, path] of Object.entries(definition.fields)) values[name] = valueAt(event, path);
  const template = messageTemplate(definition, context);
  return { id: definition.id, title: fillTemplate(template.title, values), text: fillTemplate(template.text, values) };
}
