// The end-of-run report: tasks and how they ended, tokens by kind, dollars and the share of input
// read from the prompt cache by model and by role, infrastructure cost beside token cost, duration
// and the branch with the result. Built only from the goal's detail (tasks, infrastructure usage)
// and its event log (Model.Called events carry model, tokens and cost; their taskId gives the
// role), so the same report can be made for a goal that ran anywhere.
import type { PublicGoal, GoalDetail } from '../api/schemas';
import type { EventEnvelope } from '../domain/events';
import type { InfrastructureUsage } from '../domain/infrastructure-cost';
import { count, duration, shorten, table, usd } from './format';

export interface CostLine {
  usd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  calls: number;
  /** Cache reads over all input tokens (plain, cache read, cache write), 0–1; 0 without input. */
  cacheReadShare: number;
}

export interface TaskSummary {
  id: string;
  key: string;
  role: string;
  kind: string;
  title: string;
  status: string;
  attempts: number;
  /** The model that answered this task's last model call; null if it never called one. */
  model: string | null;
}

export interface RunSummary {
  goalId: string;
  projectId: string;
  title: string;
  status: string;
  branch: string;
  /** The repository that holds the branch: a directory, or the URL it was pushed to. */
  repo: string | null;
  /** Where the work went: the branch, and the pull request when one was opened; null until delivered. */
  delivery: { kind: string; branch: string; url: string | null; number: number | null } | null;
  failureCause: { code: string; message: string } | null;
  tasks: TaskSummary[];
  cost: CostLine & { byModel: Record<string, CostLine>; byRole: Record<string, CostLine> };
  /** What the goal consumed besides tokens, priced (GET /goals/{id} cost.infrastructure). */
  infrastructure: InfrastructureUsage;
  durationMs: number;
  eventCount: number;
}

const emptyLine = (): CostLine => ({ usd: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, calls: 0, cacheReadShare: 0 });

/** All input tokens of a line: plain input does not include what was read from or written to the cache. */
const allInput = (line: CostLine) => line.inputTokens + line.cacheReadTokens + line.cacheWriteTokens;

function updateShare(line: CostLine): void {
  const input = allInput(line);
  line.cacheReadShare = input === 0 ? 0 : line.cacheReadTokens / input;
}

// Costs are rounded to a billionth of a dollar (as the gateway rounds each call) so that totals
// and their parts agree exactly instead of drifting in the last float digits.
const roundUsd = (value: number) => Math.round(value * 1e9) / 1e9;

function add(line: CostLine, data: Record<string, unknown>): void {
  line.usd = roundUsd(line.usd + num(data.costUsd));
  line.inputTokens += num(data.inputTokens);
  line.outputTokens += num(data.outputTokens);
  line.cacheReadTokens += num(data.cacheReadTokens);
  line.cacheWriteTokens += num(data.cacheWriteTokens);
  line.calls += 1;
  updateShare(line);
}

export function summarizeRun(input: { detail: GoalDetail; events: readonly EventEnvelope[]; repo?: string; now?: Date }): RunSummary {
  const { detail, events } = input;
  const goal: PublicGoal = detail.goal;
  const roleOf = new Map(detail.tasks.map((t) => [t.id, t.role]));
  const lastModel = new Map<string, string>();
  const byModel: Record<string, CostLine> = {};
  const byRole: Record<string, CostLine> = {};
  for (const event of events) {
    if (event.type !== 'Model.Called') continue;
    const model = typeof event.data.model === 'string' ? event.data.model : 'unknown';
    const role = (event.taskId && roleOf.get(event.taskId)) || 'unknown';
    add((byModel[model] ??= emptyLine()), event.data);
    add((byRole[role] ??= emptyLine()), event.data);
    if (event.taskId) lastModel.set(event.taskId, model);
  }
  const total = emptyLine();
  for (const line of Object.values(byModel)) {
    total.usd = roundUsd(total.usd + line.usd);
    total.inputTokens += line.inputTokens;
    total.outputTokens += line.outputTokens;
    total.cacheReadTokens += line.cacheReadTokens;
    total.cacheWriteTokens += line.cacheWriteTokens;
    total.calls += line.calls;
  }
  updateShare(total);
  const keys = planKeys(events);
  // In the order the story mentions them: the plan task starts first, planned tasks in plan order.
  const firstSeen = new Map<string, number>();
  for (const event of events) {
    if (event.taskId && !firstSeen.has(event.taskId) && (event.type === 'Task.Created' || event.type === 'Task.Started')) firstSeen.set(event.taskId, event.seq);
  }
  const position = (id: string) => firstSeen.get(id) ?? Number.MAX_SAFE_INTEGER;
  const tasks: TaskSummary[] = [...detail.tasks]
    .sort((a, b) => position(a.id) - position(b.id) || (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1))
    .map((t) => ({
      id: t.id,
      key: keys.get(t.id) ?? t.planKey,
      role: t.role,
      kind: t.kind,
      title: t.title,
      status: t.status,
      attempts: t.attempts,
      model: lastModel.get(t.id) ?? null,
    }));
  const end = goal.completedAt ? Date.parse(goal.completedAt) : (input.now ?? new Date()).getTime();
  return {
    goalId: goal.id,
    projectId: goal.projectId,
    title: goal.title,
    status: goal.status,
    branch: goal.branch,
    repo: input.repo ?? null,
    delivery: goal.delivery ? { kind: goal.delivery.kind, branch: goal.delivery.branch, url: goal.delivery.url ?? null, number: goal.delivery.number ?? null } : null,
    failureCause: goal.failureCause ? { code: goal.failureCause.code, message: goal.failureCause.message } : null,
    tasks,
    cost: { ...total, byModel, byRole },
    infrastructure: detail.cost.infrastructure,
    durationMs: Math.max(0, end - Date.parse(goal.createdAt)),
    eventCount: events.length,
  };
}

function planKeys(events: readonly EventEnvelope[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const event of events) {
    if (event.type !== 'Goal.Planned' || !Array.isArray(event.data.tasks)) continue;
    for (const t of event.data.tasks as Array<Record<string, unknown>>) {
      if (typeof t.id === 'string' && typeof t.key === 'string') keys.set(t.id, t.key);
    }
  }
  return keys;
}

/** The summary as a person reads it at the end of `cahoots run`. */
export function renderSummary(summary: RunSummary): string[] {
  const lines: string[] = ['', `Summary — goal ${summary.goalId}: ${summary.status}`];
  lines.push(
    ...table(
      ['task', 'role', 'status', 'attempts', 'model', 'title'],
      summary.tasks.map((t) => [t.key, t.role, t.status, String(t.attempts), t.model ? shorten(t.model, 40) : '-', shorten(t.title, 60)]),
    ),
  );
  const c = summary.cost;
  lines.push(
    '',
    `Tokens: ${count(c.inputTokens)} input · ${count(c.outputTokens)} output · ${count(c.cacheReadTokens)} cache read · ${count(c.cacheWriteTokens)} cache write · ${count(c.calls)} model call(s) · ${share(c)} of input read from cache`,
  );
  const costRows = (group: Record<string, CostLine>) =>
    Object.entries(group)
      .sort(([a, x], [b, y]) => y.usd - x.usd || (a < b ? -1 : 1))
      .map(([name, line]) => [shorten(name, 60), usd(line.usd), String(line.calls), count(allInput(line)), share(line), count(line.outputTokens)]);
  lines.push('', 'Cost by model', ...table(['model', 'usd', 'calls', 'tokens in', 'cache read', 'tokens out'], costRows(c.byModel)));
  lines.push('', 'Cost by role', ...table(['role', 'usd', 'calls', 'tokens in', 'cache read', 'tokens out'], costRows(c.byRole)));
  const infra = summary.infrastructure;
  const infraShare = c.usd > 0 ? ` (${((100 * infra.usd) / c.usd).toFixed(2)}% of token cost)` : '';
  lines.push(
    '',
    `Infrastructure ${usd(infra.usd)}${infraShare}: Lambda ${infra.lambdaGbSeconds.toFixed(1)} GB-s in ${count(infra.lambdaRequests)} invocation(s) · ` +
      `sandbox ${infra.sandboxGbSeconds.toFixed(1)} GB-s · ${count(infra.stateTransitions)} state transitions · ${count(infra.sqsRequests)} SQS requests · ` +
      `DynamoDB ${count(Math.round(infra.dynamoReadUnits))} read / ${count(Math.round(infra.dynamoWriteUnits))} write units · ${count(infra.busEvents)} bus events`,
  );
  lines.push('', `Total ${usd(c.usd)} tokens + ${usd(infra.usd)} infrastructure · duration ${duration(summary.durationMs)} · ${summary.eventCount} events`);
  if (summary.failureCause) lines.push(`Cause: ${summary.failureCause.code}: ${summary.failureCause.message}`);
  return lines;
}

/** The cache-read share of a line as a percentage, or '-' for a line without input. */
function share(line: CostLine): string {
  return allInput(line) === 0 ? '-' : `${(line.cacheReadShare * 100).toFixed(1)}%`;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
