// The pull request a delivered goal becomes, as the people who review it read it: the goal, the
// plan and its tasks, what changed, QA's test results, the reviewer's verdict, what it cost and
// where the full record is. Pure: the Deliver step gathers a DeliveryReport, this renders it.
// Everything that came from a person or a model is escaped (see ./markdown).
import { codeSpan, inlineText, quotedBlock } from './markdown';

export interface DeliveryReport {
  goal: {
    id: string;
    title: string;
    description: string;
    planSummary?: string;
    risk?: string;
    reworkRounds: number;
  };
  /** Every task of the goal (plan, work, gate, rework), in the order they were created. */
  tasks: Array<{ title: string; role: string; kind: string; status: string; attempts: number }>;
  /** Commits on the goal branch that the base branch lacks, newest first. */
  commits: Array<{ sha: string; subject: string }>;
  files: Array<{ path: string; status: 'added' | 'modified' | 'deleted' }>;
  /** QA's report of the last quality gate round, when QA ran. */
  tests?: { command?: string; passed: number; failed: number; skipped: number; summary?: string };
  /** Reviews in round order; the last one is the verdict that let the goal through. */
  reviews: Array<{
    round: number;
    verdict: string;
    summary?: string;
    comments: Array<{ file?: string; line?: number; severity: string; body: string }>;
  }>;
  cost: {
    totalUsd: number;
    byRole: Array<{ role: string; usd: number; calls: number }>;
    byModel: Array<{ model: string; usd: number; calls: number }>;
  };
}

/** GitHub refuses bodies over 65,536 characters; stay well below. */
export const MAX_BODY_CHARS = 60_000;
const MAX_TITLE_CHARS = 200;
const MAX_TASKS = 100;
const MAX_FILES = 100;
const MAX_COMMITS = 50;
const MAX_COMMENTS = 30;

/** The hidden first line that marks a pull request as a goal's delivery. */
export function goalMarker(goalId: string): string {
  return `<!-- cahoots:goal=${goalId} -->`;
}

/**
 * A pull request title is plain text, but GitHub still links `#12` and `@someone` in it. A zero
 * width space after them keeps the words and drops the links.
 */
export function pullRequestTitle(goalTitle: string): string {
  const oneLine = goalTitle.replace(/[\p{Cc}\s]+/gu, ' ').trim();
  const clipped = oneLine.length <= MAX_TITLE_CHARS ? oneLine : `${oneLine.slice(0, MAX_TITLE_CHARS - 1).trimEnd()}…`;
  return clipped.replace(/([@#])(?=[A-Za-z0-9])/g, '$1\u200b');
}

export function renderPullRequestBody(report: DeliveryReport): string {
  const sections = [
    goalMarker(report.goal.id),
    goalSection(report),
    planSection(report),
    changesSection(report),
    testsSection(report),
    reviewSection(report),
    costSection(report),
    footer(report),
  ];
  return fitBody(sections.join('\n\n'), report.goal.id);
}

function goalSection({ goal }: DeliveryReport): string {
  const lines = ['## Goal', '', `**${inlineText(goal.title, 200)}**`];
  const description = goal.description.trim();
  if (description !== '' && description !== goal.title.trim()) lines.push('', quotedBlock(description, 3_000));
  return lines.join('\n');
}

function planSection({ goal, tasks }: DeliveryReport): string {
  const facts = [`${count(tasks.length, 'task')}`, ...(goal.risk ? [`risk ${inlineText(goal.risk, 20)}`] : []), count(goal.reworkRounds, 'rework round')];
  const lines = ['## Plan', '', facts.join(' · ')];
  if (goal.planSummary?.trim()) lines.push('', quotedBlock(goal.planSummary, 2_000));
  if (tasks.length > 0) {
    lines.push('', '| Task | Role | Kind | Status | Attempts |', '| --- | --- | --- | --- | ---: |');
    for (const task of tasks.slice(0, MAX_TASKS)) {
      lines.push(`| ${inlineText(task.title, 120)} | ${inlineText(task.role, 20)} | ${inlineText(task.kind, 20)} | ${statusText(task.status)} | ${task.attempts} |`);
    }
    if (tasks.length > MAX_TASKS) lines.push('', `… and ${tasks.length - MAX_TASKS} more tasks`);
  }
  return lines.join('\n');
}

function statusText(status: string): string {
  const mark = status === 'SUCCEEDED' ? '✅ ' : status === 'FAILED' ? '❌ ' : status === 'CANCELLED' ? '⏹️ ' : '';
  return `${mark}${inlineText(status.toLowerCase(), 20)}`;
}

function changesSection({ commits, files }: DeliveryReport): string {
  const by = (status: string) => files.filter((f) => f.status === status).length;
  const lines = [
    '## What changed',
    '',
    `${count(commits.length, 'commit')} · ${count(files.length, 'file')} (${by('added')} added, ${by('modified')} modified, ${by('deleted')} deleted)`,
  ];
  if (files.length > 0) {
    lines.push('', '**Files**', '');
    for (const file of files.slice(0, MAX_FILES)) lines.push(`- ${file.status} ${codeSpan(file.path, 200)}`);
    if (files.length > MAX_FILES) lines.push(`- … and ${files.length - MAX_FILES} more`);
  }
  if (commits.length > 0) {
    lines.push('', '**Commits**', '');
    for (const commit of commits.slice(0, MAX_COMMITS)) lines.push(`- ${codeSpan(commit.sha.slice(0, 7), 12)} ${inlineText(commit.subject, 120)}`);
    if (commits.length > MAX_COMMITS) lines.push(`- … and ${commits.length - MAX_COMMITS} more`);
  }
  return lines.join('\n');
}

function testsSection({ tests }: DeliveryReport): string {
  if (!tests) return ['## Tests', '', 'QA did not report test results for this goal.'].join('\n');
  const mark = tests.failed > 0 ? '❌' : '✅';
  const command = tests.command ? ` running ${codeSpan(tests.command, 200)}` : '';
  const lines = ['## Tests', '', `${mark} ${tests.passed} passed · ${tests.failed} failed · ${tests.skipped} skipped${command}`];
  if (tests.summary?.trim()) lines.push('', quotedBlock(tests.summary, 2_000));
  return lines.join('\n');
}

function reviewSection({ reviews }: DeliveryReport): string {
  const last = reviews.at(-1);
  if (!last) return ['## Review', '', 'No reviewer looked at this goal.'].join('\n');
  const lines = ['## Review', '', `Verdict: **${inlineText(last.verdict, 40)}** (round ${last.round})`];
  if (last.summary?.trim()) lines.push('', quotedBlock(last.summary, 2_000));
  if (last.comments.length > 0) {
    lines.push('');
    for (const comment of last.comments.slice(0, MAX_COMMENTS)) {
      const where = comment.file ? ` ${codeSpan(`${comment.file}${comment.line ? `:${comment.line}` : ''}`, 200)}` : '';
      lines.push(`- **${inlineText(comment.severity, 20)}**${where}: ${inlineText(comment.body, 500)}`);
    }
    if (last.comments.length > MAX_COMMENTS) lines.push(`- … and ${last.comments.length - MAX_COMMENTS} more`);
  }
  const earlier = reviews.slice(0, -1);
  if (earlier.length > 0) {
    lines.push('', `Earlier rounds: ${earlier.map((r) => `round ${r.round} ${inlineText(r.verdict, 40)} (${count(r.comments.length, 'comment')})`).join(' · ')}`);
  }
  return lines.join('\n');
}

function costSection({ cost }: DeliveryReport): string {
  const lines = ['## Cost', '', `Total **${usd(cost.totalUsd)}**`];
  const table = (head: string, rows: Array<{ name: string; usd: number; calls: number }>) => {
    if (rows.length === 0) return;
    lines.push('', `| ${head} | Cost | Model calls |`, '| --- | ---: | ---: |');
    for (const row of [...rows].sort((a, b) => b.usd - a.usd || (a.name < b.name ? -1 : 1))) {
      lines.push(`| ${inlineText(row.name, 80)} | ${usd(row.usd)} | ${row.calls} |`);
    }
  };
  table('Role', cost.byRole.map((r) => ({ name: r.role, usd: r.usd, calls: r.calls })));
  table('Model', cost.byModel.map((m) => ({ name: m.model, usd: m.usd, calls: m.calls })));
  return lines.join('\n');
}

function footer({ goal }: DeliveryReport): string {
  return [
    '---',
    `Opened by Cahoots for goal ${codeSpan(goal.id)}. The full record — every task, model call, verdict and approval — is in its event log: ${codeSpan(`cahoots events ${goal.id}`)}.`,
  ].join('\n');
}

/** A body over GitHub's limit is cut at a line boundary, saying where the rest is. */
function fitBody(body: string, goalId: string): string {
  if (body.length <= MAX_BODY_CHARS) return body;
  const note = `\n\n…(cut to fit; the whole report is in ${codeSpan(`cahoots events ${goalId}`)})`;
  const cut = body.slice(0, MAX_BODY_CHARS - note.length);
  return `${cut.slice(0, Math.max(0, cut.lastIndexOf('\n')))}${note}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function usd(value: number): string {
  if (value === 0) return '$0.00';
  return Math.abs(value) < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}
