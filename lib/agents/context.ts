// The context engine: builds the stable prompt prefix (project context files, files the task
// names, dependency outputs, lessons, repo map) under a token budget, trimming the least
// important parts first and saying what it trimmed. Everything in it is redacted and wrapped
// as untrusted data.
import { DEFAULT_CONTEXT_FILES, type AgentRole, type TaskOutputs } from '../domain/index';
import { estimateTokens } from '../models/index';
import { invokeTool, isToolError, readFileTool, repoMap } from '../workspace/index';
import { redact, wrapUntrusted } from './redaction';

export interface DependencyOutput {
  /** The planner's key (t1) or the task id. */
  taskId: string;
  title: string;
  role?: AgentRole;
  outputs: TaskOutputs;
}

export interface ContextLesson {
  text: string;
  role?: AgentRole;
  taskKind?: string;
  outcome?: string;
}

export interface ContextOptions {
  /** The task's working copy; files are read through the workspace tools, so paths stay inside it. */
  workingDir: string;
  /** Token budget of the whole prefix (estimateTokens). */
  budgetTokens: number;
  /** Project context files to look for, in order; all that exist are included. */
  contextFiles?: readonly string[];
  /** Paths the task names explicitly. */
  namedFiles?: readonly string[];
  /** Task text in which further file paths are looked for. */
  taskText?: string;
  dependencyOutputs?: readonly DependencyOutput[];
  /** Most relevant first (selectRelevantLessons); the last ones are dropped first. */
  lessons?: readonly ContextLesson[];
  /** At most this many named files are included. */
  maxNamedFiles?: number;
  /** Upper bound for the repo map before any trimming. */
  repoMapMaxChars?: number;
}

export type ContextSectionKind = 'project-context' | 'named-file' | 'dependency-output' | 'lesson' | 'repo-map';

export interface ContextSection {
  kind: ContextSectionKind;
  label: string;
  tokens: number;
  /** What trimming did to this section, if anything. */
  trimmed?: string;
}

export interface ContextPrefix {
  text: string;
  tokens: number;
  /** Sections kept, in the order they appear. */
  sections: ContextSection[];
  /** Human-readable notes on what was shortened or left out (also at the end of `text`). */
  trimmed: string[];
}

/** Priority order, highest first: what a task can least do without is kept longest. */
const PRIORITY: readonly ContextSectionKind[] = ['project-context', 'named-file', 'dependency-output', 'lesson', 'repo-map'];

const HEADINGS: Record<ContextSectionKind, string> = {
  'project-context': 'Project context file',
  'named-file': 'File named by the task',
  'dependency-output': 'Output of a task this one depends on',
  lesson: 'Lesson from earlier goals',
  'repo-map': 'Repository map (tracked files with sizes)',
};

const MIN_TOKENS: Record<ContextSectionKind, number> = {
  'project-context': 300,
  'named-file': 200,
  'dependency-output': 80,
  lesson: Number.POSITIVE_INFINITY, // a lesson is kept whole or left out
  'repo-map': 60,
};

const PREAMBLE =
  '# Context\nReference material gathered before the task started: the project\'s own context files, files the task names, ' +
  'reports of the tasks this one depends on, lessons from earlier goals and a map of the repository. Files may have changed since; ' +
  'read them again with the tools before relying on details.';
// Room kept for the closing notes so that trimming never has to trim its own report.
const NOTES_RESERVE_TOKENS = 150;

interface Part {
  kind: ContextSectionKind;
  label: string;
  source: string;
  body: string;
  rendered: string;
  tokens: number;
  trimmed?: string;
  /** Returns a shorter body of about `tokens` tokens, or undefined when it cannot shrink further. */
  shrink?: (tokens: number) => Promise<string | undefined>;
}

function render(kind: ContextSectionKind, label: string, source: string, body: string): string {
  return `## ${HEADINGS[kind]}: ${label}\n${wrapUntrusted(source, body)}`;
}

function makePart(kind: ContextSectionKind, label: string, source: string, body: string, shrink?: Part['shrink']): Part {
  const redacted = redact(body);
  const rendered = render(kind, label, source, redacted);
  return { kind, label, source, body: redacted, rendered, tokens: estimateTokens(rendered), shrink };
}

/** Cuts text to about `tokens` tokens, keeping the start, with a marker saying how much was cut. */
export function cutToTokens(text: string, tokens: number, hint = 'read the rest with read_file'): string {
  if (estimateTokens(text) <= tokens) return text;
  let chars = Math.max(0, tokens * 3 - 120);
  let head = text.slice(0, chars);
  while (chars > 0 && estimateTokens(head) > tokens - 40) {
    chars = Math.floor(chars * 0.9);
    head = text.slice(0, chars);
  }
  return `${head}\n[... cut here to fit the context budget: ${text.length - head.length} more characters; ${hint} ...]`;
}

const textShrinker = (text: string, hint?: string) => async (tokens: number) => cutToTokens(text, tokens, hint);

// A path-like word: directories optional, a name with an extension that starts with a letter
// (so versions such as 1.2.3 are not taken for files).
const PATH_IN_TEXT = /(?<![\w/.@-])((?:[\w@.-]+\/)*[\w@-][\w@.-]*\.[A-Za-z][A-Za-z0-9]{0,9})(?![\w/-])/g;

/** File paths mentioned in task text, in order of first mention, without URLs. */
export function pathsMentioned(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(PATH_IN_TEXT)) {
    const path = match[1]!;
    const before = text.slice(Math.max(0, match.index - 3), match.index);
    if (before.endsWith('://') || before.endsWith('//')) continue;
    if (!found.includes(path)) found.push(path);
  }
  return found;
}

async function readText(workingDir: string, path: string): Promise<{ path: string; text: string } | undefined> {
  try {
    const result = await invokeTool(readFileTool, { root: workingDir }, { path });
    return { path: result.path, text: result.content };
  } catch (error) {
    // Missing (the task may create it), binary, too large or outside the working copy: not context.
    if (isToolError(error)) return undefined;
    throw error;
  }
}

function renderOutputs(outputs: TaskOutputs): string {
  const lines: string[] = [];
  if (outputs.summary) lines.push(outputs.summary);
  if (outputs.filesChanged?.length) lines.push(`Files changed: ${outputs.filesChanged.join(', ')}`);
  if (outputs.branch) lines.push(`Branch: ${outputs.branch}`);
  if (outputs.testResults) {
    const t = outputs.testResults;
    lines.push(`Tests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped${t.command ? ` (${t.command})` : ''}`);
  }
  if (outputs.review) {
    lines.push(`Review verdict: ${outputs.review.verdict}`);
    for (const c of outputs.review.comments) lines.push(`- [${c.severity}] ${c.file ? `${c.file}${c.line ? `:${c.line}` : ''}: ` : ''}${c.body}`);
  }
  return lines.join('\n') || '(no report)';
}

/** Builds the stable prefix. Deterministic for the same working copy and inputs, so it caches well. */
export async function buildContextPrefix(options: ContextOptions): Promise<ContextPrefix> {
  const parts: Part[] = [];
  const seenFiles = new Set<string>();
  const seenContent = new Set<string>();

  for (const file of options.contextFiles ?? DEFAULT_CONTEXT_FILES) {
    const read = await readText(options.workingDir, file);
    // CLAUDE.md is often a copy of (or a link to) AGENTS.md; one copy is enough.
    if (!read || seenFiles.has(read.path) || seenContent.has(read.text)) continue;
    seenFiles.add(read.path);
    seenContent.add(read.text);
    parts.push(makePart('project-context', read.path, `file:${read.path}`, read.text, textShrinker(read.text)));
  }

  const named = [...(options.namedFiles ?? []), ...pathsMentioned(options.taskText ?? '')];
  let namedCount = 0;
  for (const file of named) {
    if (namedCount >= (options.maxNamedFiles ?? 8)) break;
    const read = await readText(options.workingDir, file);
    if (!read || seenFiles.has(read.path)) continue;
    seenFiles.add(read.path);
    namedCount++;
    parts.push(makePart('named-file', read.path, `file:${read.path}`, read.text, textShrinker(read.text)));
  }

  for (const dep of options.dependencyOutputs ?? []) {
    const body = renderOutputs(dep.outputs);
    parts.push(
      makePart(
        'dependency-output',
        `${dep.taskId}${dep.role ? ` (${dep.role})` : ''} ${dep.title}`,
        `task-output:${dep.taskId}`,
        body,
        textShrinker(body, 'the full report is in the task record'),
      ),
    );
  }

  for (const lesson of options.lessons ?? []) {
    const label = [lesson.role, lesson.taskKind, lesson.outcome].filter(Boolean).join(', ') || 'general';
    parts.push(makePart('lesson', label, 'lesson', lesson.text));
  }

  const mapChars = Math.max(200, Math.min(options.repoMapMaxChars ?? 12_000, options.budgetTokens * 3));
  const map = await repoMap(options.workingDir, mapChars);
  parts.push(
    makePart('repo-map', 'working copy', 'repo-map', map, async (tokens) => {
      const chars = tokens * 3 - 200;
      return chars >= 120 ? repoMap(options.workingDir, chars) : undefined;
    }),
  );

  // Highest priority first (stable within a kind), then trim from the end.
  parts.sort((a, b) => PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind));
  const notes: string[] = [];
  const fixed = estimateTokens(PREAMBLE) + NOTES_RESERVE_TOKENS;
  const total = () => fixed + parts.reduce((n, p) => n + p.tokens, 0);

  for (let i = parts.length - 1; i >= 0 && total() > options.budgetTokens; i--) {
    const part = parts[i]!;
    const target = part.tokens - (total() - options.budgetTokens);
    if (part.shrink && target >= MIN_TOKENS[part.kind]) {
      const headingTokens = part.tokens - estimateTokens(part.body);
      const shorter = await part.shrink(Math.max(1, target - headingTokens));
      if (shorter !== undefined) {
        const rendered = render(part.kind, part.label, part.source, redact(shorter));
        const tokens = estimateTokens(rendered);
        if (tokens < part.tokens) {
          part.trimmed = part.kind === 'repo-map' ? 'repository map shortened' : `${part.label} shortened from about ${part.tokens} to ${tokens} tokens`;
          part.rendered = rendered;
          part.tokens = tokens;
          notes.push(part.trimmed);
        }
      }
    }
    if (total() > options.budgetTokens) {
      parts.splice(i, 1);
      notes.push(`${HEADINGS[part.kind].toLowerCase()} "${part.label}" left out`);
    }
  }

  const closing = notes.length
    ? `## Context notes\nTo fit the context budget: ${notes.join('; ')}. Use the file tools to read anything you need.`
    : '';
  const text = [PREAMBLE, ...parts.map((p) => p.rendered), closing].filter(Boolean).join('\n\n');
  return {
    text,
    tokens: estimateTokens(text),
    sections: parts.map((p) => ({ kind: p.kind, label: p.label, tokens: p.tokens, ...(p.trimmed ? { trimmed: p.trimmed } : {}) })),
    trimmed: notes,
  };
}
