// Turns a goal's event log into lines a person can follow: the plan with roles and dependencies,
// each task starting and ending (role, model, attempt), reviews, QA, rework rounds, approvals and a
// running cost. It reads only events, so it shows the same story locally and for a deployed goal.
import type { EventEnvelope } from '../domain/events';
import { shorten, usd } from './format';

interface TaskLabel {
  key: string;
  role: string;
  title: string;
}

export interface ProgressOptions {
  /** The model an attempt of a role most likely starts on, when no Model.Called says it yet. */
  expectedModel?: (role: string, attempt: number) => string | undefined;
  /** Also show every model call. */
  verbose?: boolean;
}

export class GoalProgress {
  private readonly tasks = new Map<string, TaskLabel>();
  private spent = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly options: ProgressOptions = {},
  ) {}

  /** Dollars spent so far according to the Model.Called events seen. */
  get spentUsd(): number {
    return this.spent;
  }

  handle(events: readonly EventEnvelope[]): void {
    events.forEach((event, index) => {
      this.track(event);
      for (const line of this.describe(event, events.slice(index + 1))) this.write(line);
    });
  }

  /** Takes in events that happened before this reporter started (names, cost) without printing them. */
  prime(events: readonly EventEnvelope[]): void {
    for (const event of events) {
      this.track(event);
      this.describe(event, []);
    }
  }

  private track(event: EventEnvelope): void {
    if (event.type === 'Model.Called') this.spent += num(event.data.costUsd);
  }

  private label(taskId: string | undefined, data: Record<string, unknown> = {}): TaskLabel {
    const known = taskId ? this.tasks.get(taskId) : undefined;
    if (known) return known;
    const kind = str(data.kind);
    const label: TaskLabel = { key: kind === 'plan' ? 'plan' : (kind ?? 'task'), role: str(data.role) ?? '?', title: str(data.title) ?? '' };
    if (taskId) this.tasks.set(taskId, label);
    return label;
  }

  private describe(event: EventEnvelope, later: readonly EventEnvelope[]): string[] {
    const d = event.data;
    switch (event.type) {
      case 'Goal.Created':
        return [`Goal ${event.goalId}: "${str(d.title) ?? ''}"`];
      case 'Goal.Started':
        return [`Pipeline started${d.autonomyLevel !== undefined ? ` (autonomy ${String(d.autonomyLevel)})` : ''}`];
      case 'Goal.Resumed':
        return [`↺ Resumed after a restart${str(d.reason) ? `: ${str(d.reason)}` : ''}`];
      case 'Task.Created': {
        // Planned tasks get their plan key from Goal.Planned right after; review, QA, rework and
        // conflict tasks are known by their kind.
        const label = this.label(event.taskId, d);
        return this.options.verbose ? [`+ ${label.key} ${label.role} "${label.title}"`] : [];
      }
      case 'Goal.Planned':
        return this.describePlan(d);
      case 'Task.Started': {
        const label = this.label(event.taskId, d);
        const attempt = num(d.attempt);
        const model = this.lookaheadModel(event.taskId, later) ?? this.options.expectedModel?.(label.role, attempt);
        return [`▶ ${label.key} ${label.role} "${label.title}" · attempt ${attempt}${model ? ` · ${shorten(model, 50)}` : ''}`];
      }
      case 'Task.Succeeded': {
        const label = this.label(event.taskId, d);
        const models = Array.isArray(d.models) ? (d.models as unknown[]).map(String) : [];
        const extra = [
          d.verdict !== undefined ? `verdict ${String(d.verdict)}` : '',
          d.testsPassed !== undefined ? `tests ${String(d.testsPassed)} passed, ${String(d.testsFailed ?? 0)} failed` : '',
        ].filter(Boolean);
        return [
          `✔ ${label.key} ${label.role} done · attempt ${num(d.attempt)}${models.length ? ` · ${models.map((m) => shorten(m, 50)).join(', ')}` : ''} · ${num(d.turns)} model call(s) · ${usd(num(d.costUsd))} · total ${usd(this.spent)}${extra.length ? ` · ${extra.join(' · ')}` : ''}`,
        ];
      }
      case 'Task.Failed': {
        const label = this.label(event.taskId, d);
        return d.final === true
          ? [`✖ ${label.key} ${label.role} failed for good after ${num(d.attempts)} attempt(s): ${str(d.error) ?? ''} ${oneLine(str(d.cause))}`.trimEnd()]
          : [`✖ ${label.key} ${label.role} attempt ${num(d.attempt)} failed (${str(d.error) ?? 'error'}): ${oneLine(str(d.cause))} · total ${usd(this.spent)}`];
      }
      case 'Task.Blocked': {
        const by = typeof d.blockedBy === 'string' ? (this.tasks.get(d.blockedBy)?.key ?? d.blockedBy) : '?';
        return [`⊘ ${this.label(event.taskId).key} blocked: ${by} failed`];
      }
      case 'Task.Continued':
        return [`… ${this.label(event.taskId).key} continues in a new invocation`];
      case 'Task.Cancelled':
        return [`⊘ ${this.label(event.taskId).key} cancelled`];
      case 'Review.Verdict':
        return [`Review (round ${num(d.round)}): ${str(d.verdict) ?? '?'}, ${num(d.comments)} comment(s)`];
      case 'Qa.Result':
        return [`QA (round ${num(d.round)}): ${num(d.passed)} passed, ${num(d.failed)} failed, ${num(d.skipped)} skipped`];
      case 'Rework.Requested':
        return [`↻ Rework round ${num(d.round)}: ${num(d.points)} point(s) for the ${str(d.role) ?? 'developer'}`];
      case 'Merge.Conflict':
        return [`⚠ Merge conflict${Array.isArray(d.paths) ? ` in ${(d.paths as unknown[]).map(String).join(', ')}` : ''}; a conflict task resolves it`];
      case 'Model.Called':
        return this.options.verbose
          ? [`  · ${this.label(event.taskId).key} ${shorten(str(d.model) ?? '?', 50)}: ${num(d.inputTokens)} in / ${num(d.outputTokens)} out · ${usd(num(d.costUsd))}`]
          : [];
      case 'Model.Fallback':
        return [`⚠ ${this.label(event.taskId).key}: model ${shorten(str(d.from) ?? '?', 40)} failed (${oneLine(str(d.reason))}); falling back to ${shorten(str(d.to) ?? '?', 40)}`];
      case 'Agent.Stuck':
        return [`⚠ ${this.label(event.taskId).key}: the agent repeated itself and was stopped`];
      case 'Agent.FinishRejected':
        return [`⚠ ${this.label(event.taskId).key}: the agent's result was refused and it was asked to fix it`];
      case 'Budget.Exceeded':
        return [`$ Budget reached by ${this.label(event.taskId).key}: ${oneLine(str(d.cause))}`];
      case 'Budget.Raised':
        return [`$ Budget raised${d.budgetUsd !== undefined ? ` to ${usd(num(d.budgetUsd))}` : ''}`];
      case 'Goal.AwaitingApproval':
        if (str(d.budgetScope)?.startsWith('project-')) {
          return [`? Waiting for budget approval · the ${str(d.budgetScope)!.replace('project-', 'project ')} budget has ${usd(num(d.budgetSpentUsd))} spent of ${usd(num(d.budgetUsd))}`];
        }
        return [`? Waiting for ${str(d.stage) ?? 'an'} approval · spent ${usd(num(d.costUsd))}${d.budgetUsd != null ? ` of ${usd(num(d.budgetUsd))}` : ''}`];
      case 'Goal.Approved':
        return [`✔ ${str(d.stage) ?? 'Gate'} approved by ${str(d.by) ?? '?'}${str(d.comment) ? `: ${str(d.comment)}` : ''}${d.budgetUsd !== undefined ? ` · new ${str(d.budgetScope)?.startsWith('project-') ? `${str(d.budgetScope)!.replace('project-', 'project ')} ` : ''}budget ${usd(num(d.budgetUsd))}` : ''}`];
      case 'Goal.Rejected':
        return [`✖ ${str(d.stage) ?? 'Gate'} rejected by ${str(d.by) ?? '?'}${str(d.comment) ? `: ${str(d.comment)}` : ''}`];
      case 'Goal.Blocked':
        return [`⊘ Goal blocked: ${oneLine(str(d.cause) ?? str(d.reason))}`];
      case 'Delivery.Created':
        return [
          `Delivered on branch ${str(d.branch) ?? '?'} · ${num(d.commits)} commit(s) · ${typeof d.filesChangedCount === 'number' ? d.filesChangedCount : Array.isArray(d.filesChanged) ? d.filesChanged.length : 0} file(s)` +
            (str(d.url) ? ` · pull request #${num(d.number)} ${d.pullRequestCreated === false ? 'updated' : 'opened'}: ${str(d.url)}` : ''),
        ];
      case 'Lesson.Learned':
        return [`Learned ${num(d.count)} lesson(s) for later goals`];
      case 'Goal.Completed':
        return [`✔ Goal succeeded · ${usd(num(d.costUsd))}`];
      case 'Goal.Failed':
        return [`✖ Goal failed: ${str(d.code) ?? ''} ${oneLine(str(d.cause) ?? str(d.message))}`.trimEnd()];
      case 'Goal.Cancelled':
        return [`✖ Goal cancelled${str(d.reason) ?? str(d.cause) ? `: ${oneLine(str(d.reason) ?? str(d.cause))}` : ''}`];
      default:
        return [];
    }
  }

  private describePlan(d: Record<string, unknown>): string[] {
    const tasks = Array.isArray(d.tasks) ? (d.tasks as Array<Record<string, unknown>>) : [];
    for (const t of tasks) {
      const id = str(t.id);
      if (id) this.tasks.set(id, { key: str(t.key) ?? id, role: str(t.role) ?? '?', title: str(t.title) ?? '' });
    }
    const lines = [`Plan: ${oneLine(str(d.summary))} (risk ${str(d.risk) ?? '?'}, ${tasks.length} task(s))`];
    for (const t of tasks) {
      const deps = Array.isArray(t.dependsOn) ? (t.dependsOn as unknown[]).map((id) => this.tasks.get(String(id))?.key ?? String(id)) : [];
      lines.push(`  ${str(t.key) ?? '?'}  ${(str(t.role) ?? '?').padEnd(9)}  ${str(t.title) ?? ''}${deps.length ? `  (after ${deps.join(', ')})` : ''}`);
    }
    return lines;
  }

  private lookaheadModel(taskId: string | undefined, later: readonly EventEnvelope[]): string | undefined {
    if (!taskId) return undefined;
    const call = later.find((e) => e.type === 'Model.Called' && e.taskId === taskId);
    return call ? str(call.data.model) : undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function oneLine(text: string | undefined, max = 300): string {
  if (!text) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
