// Learning from outcomes: picking the lessons relevant to a task (TF-IDF cosine similarity) and
// deriving lessons, deterministically, from a finished goal's tasks and agent runs.
import type { AgentRole, AgentRun, NewLesson, Task } from '../domain/index';
import { redact } from './redaction';

// ---------------------------------------------------------------- similarity

const STOPWORDS = new Set(
  (
    'a an and are as at be but by do does for from has have if in into is it its of on or so than that the their then there ' +
    'these this those to was were when which while will with without not no should must can could would may might we you they ' +
    'he she i our your task tasks use used using make made add added'
  ).split(' '),
);

/**
 * Words of a text for similarity: camelCase and snake_case split, lower-cased, stop words and
 * one-letter words dropped, a plural "s" removed (tests → test) so inflections still meet.
 */
export function similarityTerms(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 1 && !STOPWORDS.has(word))
    .map((word) => (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word));
}

function termCounts(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

export interface LessonLike {
  text: string;
  tags?: readonly string[];
  role?: AgentRole;
  taskKind?: string;
  createdAt?: string;
  id?: string;
}

export interface LessonSelectionOptions {
  /** Lessons for this role score a little higher (they were learned doing the same job). */
  role?: AgentRole;
  /** Lessons for this task kind score a little higher. */
  kind?: string;
  /** Lessons scoring below this are not relevant and never selected. */
  minScore?: number;
}

export const ROLE_MATCH_BONUS = 0.1;
export const KIND_MATCH_BONUS = 0.05;
export const DEFAULT_MIN_LESSON_SCORE = 0.05;

/**
 * Scores every lesson against the task text: cosine similarity of TF-IDF vectors (sublinear term
 * frequency 1 + ln tf, smoothed idf ln((N+1)/(df+1)) + 1 over the lessons and the task), plus small
 * bonuses for the same role and task kind. Lesson tags count as words of the lesson.
 */
export function scoreLessons<L extends LessonLike>(
  lessons: readonly L[],
  taskText: string,
  options: LessonSelectionOptions = {},
): Array<{ lesson: L; score: number }> {
  const docs = lessons.map((l) => termCounts(similarityTerms(`${l.text} ${(l.tags ?? []).join(' ')}`)));
  const query = termCounts(similarityTerms(taskText));
  const all = [...docs, query];
  const df = new Map<string, number>();
  for (const doc of all) for (const term of doc.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const idf = (term: string) => Math.log((all.length + 1) / ((df.get(term) ?? 0) + 1)) + 1;
  const weigh = (counts: Map<string, number>) => {
    const vector = new Map<string, number>();
    let norm = 0;
    for (const [term, tf] of counts) {
      const w = (1 + Math.log(tf)) * idf(term);
      vector.set(term, w);
      norm += w * w;
    }
    return { vector, norm: Math.sqrt(norm) };
  };
  const q = weigh(query);
  return lessons.map((lesson, i) => {
    const d = weigh(docs[i]!);
    let dot = 0;
    for (const [term, w] of q.vector) dot += w * (d.vector.get(term) ?? 0);
    const cosine = q.norm === 0 || d.norm === 0 ? 0 : dot / (q.norm * d.norm);
    // Bonuses only lift lessons that share something with the task; they never make an unrelated lesson relevant.
    const bonus =
      cosine > 0
        ? (options.role && lesson.role === options.role ? ROLE_MATCH_BONUS : 0) +
          (options.kind && lesson.taskKind === options.kind ? KIND_MATCH_BONUS : 0)
        : 0;
    return { lesson, score: cosine + bonus };
  });
}

/**
 * The k lessons most similar to the task, best first; lessons below the relevance floor are left
 * out even when fewer than k remain. Ties go to the newer lesson, then to the id, so the result is
 * deterministic.
 */
export function selectRelevantLessons<L extends LessonLike>(
  lessons: readonly L[],
  taskText: string,
  k: number,
  options: LessonSelectionOptions = {},
): L[] {
  const floor = options.minScore ?? DEFAULT_MIN_LESSON_SCORE;
  return scoreLessons(lessons, taskText, options)
    .filter((s) => s.score >= floor)
    .sort(
      (a, b) =>
        b.score - a.score ||
        (b.lesson.createdAt ?? '').localeCompare(a.lesson.createdAt ?? '') ||
        (a.lesson.id ?? '').localeCompare(b.lesson.id ?? ''),
    )
    .slice(0, Math.max(0, k))
    .map((s) => s.lesson);
}

// ---------------------------------------------------------------- lessons from an outcome

export type OutcomeTask = Pick<Task, 'id' | 'role' | 'kind' | 'title' | 'status' | 'attempts' | 'modelTier'> &
  Partial<Pick<Task, 'planKey' | 'outputs' | 'failureCause' | 'reworkOf'>>;

export type OutcomeRun = Pick<AgentRun, 'taskId' | 'role' | 'attempt' | 'modelTier' | 'outcome' | 'costUsd'> &
  Partial<Pick<AgentRun, 'modelCalls' | 'error' | 'startedAt'>>;

export interface GoalOutcome {
  goal: { id: string; projectId: string; title: string };
  tasks: readonly OutcomeTask[];
  runs: readonly OutcomeRun[];
}

const MAX_LESSON_TEXT = 2000;
const MAX_COMMENTS_PER_LESSON = 3;

function tag(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9._:-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return cleaned || 'misc';
}

function tags(...values: Array<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => !!v).map(tag))].slice(0, 20);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The model that answered a run's last call, which is the one that produced its result. */
function finalModel(run: OutcomeRun): string | undefined {
  return run.modelCalls?.at(-1)?.model;
}

function describeRun(run: OutcomeRun): string {
  const model = finalModel(run);
  const cause = run.error ? ` (${run.error.code}: ${clip(run.error.message, 200)})` : '';
  return `attempt ${run.attempt} at tier ${run.modelTier}${model ? ` on ${model}` : ''} ended ${run.outcome}${cause}`;
}

const SEVERITY_ORDER = ['blocker', 'major', 'minor', 'info'] as const;

/**
 * Lessons a finished goal teaches, derived only from its records (no model call), so the same
 * goal always yields the same lessons:
 * - a task that failed before it succeeded: what failed and which model/tier finally succeeded;
 * - a task that never succeeded: how its attempts ended;
 * - a review that requested changes or rejected: its most severe comments;
 * - a QA run that failed: what failed.
 */
export function lessonsFromOutcome(outcome: GoalOutcome): NewLesson[] {
  const lessons: NewLesson[] = [];
  const base = { projectId: outcome.goal.projectId, sourceGoalId: outcome.goal.id };
  const runsOf = (taskId: string) =>
    outcome.runs.filter((r) => r.taskId === taskId).sort((a, b) => a.attempt - b.attempt || (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
  const taskById = new Map(outcome.tasks.map((t) => [t.id, t]));
  const name = (t: OutcomeTask) => `"${t.title}" (${t.role}, ${t.kind})`;

  for (const task of outcome.tasks) {
    const runs = runsOf(task.id);
    const failedRuns = runs.filter((r) => r.outcome !== 'succeeded' && r.outcome !== 'continued');
    const success = runs.find((r) => r.outcome === 'succeeded');

    if (success && failedRuns.length > 0) {
      const model = finalModel(success);
      lessons.push({
        ...base,
        role: task.role,
        taskKind: task.kind,
        outcome: 'succeeded',
        text: clip(
          `${name(task)} needed ${failedRuns.length + 1} attempts: ${failedRuns.map(describeRun).join('; ')}. ` +
            `It succeeded on attempt ${success.attempt} at tier ${success.modelTier}${model ? ` with ${model}` : ''}. ` +
            `Similar ${task.kind} work for the ${task.role} may need that tier from the start.`,
          MAX_LESSON_TEXT,
        ),
        tags: tags('escalation', task.role, task.kind, `tier-${success.modelTier}`, ...failedRuns.map((r) => r.outcome)),
      });
    } else if (!success && (task.status === 'FAILED' || failedRuns.length > 0)) {
      const cause = task.failureCause ? ` Final cause: ${task.failureCause.code}: ${clip(task.failureCause.message, 400)}.` : '';
      lessons.push({
        ...base,
        role: task.role,
        taskKind: task.kind,
        outcome: 'failed',
        text: clip(
          `${name(task)} did not succeed: ${failedRuns.length ? failedRuns.map(describeRun).join('; ') : 'no agent run finished'}.${cause}`,
          MAX_LESSON_TEXT,
        ),
        tags: tags('failure', task.role, task.kind, task.failureCause?.code, ...failedRuns.map((r) => r.outcome)),
      });
    }

    const review = task.outputs?.review;
    if (review && review.verdict !== 'approved') {
      const worst = [...review.comments]
        .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity))
        .slice(0, MAX_COMMENTS_PER_LESSON);
      const reworked = outcome.tasks.filter((t) => t.kind === 'rework' && t.reworkOf && taskById.has(t.reworkOf));
      const target = reworked[0] ? taskById.get(reworked[0].reworkOf!) : undefined;
      lessons.push({
        ...base,
        role: target?.role ?? 'developer',
        taskKind: target?.kind,
        outcome: 'partial',
        text: clip(
          `Review of "${outcome.goal.title}" returned ${review.verdict}` +
            (worst.length
              ? `: ${worst.map((c) => `[${c.severity}] ${c.file ? `${c.file}${c.line ? `:${c.line}` : ''}: ` : ''}${clip(c.body, 400)}`).join(' | ')}`
              : '') +
            '. Check for this before finishing similar work.',
          MAX_LESSON_TEXT,
        ),
        tags: tags('review', review.verdict, ...worst.map((c) => c.severity)),
      });
    }

    const tests = task.outputs?.testResults;
    if (task.role === 'qa' && tests && tests.failed > 0) {
      lessons.push({
        ...base,
        role: 'developer',
        taskKind: 'test',
        outcome: 'partial',
        text: clip(
          `QA for "${outcome.goal.title}" found ${tests.failed} failing test(s)${tests.command ? ` running ${tests.command}` : ''}` +
            `${tests.summary ? `: ${clip(tests.summary, 600)}` : ''}${task.outputs?.summary ? `. ${clip(task.outputs.summary, 600)}` : ''}. ` +
            'Run the full test suite before finishing similar work.',
          MAX_LESSON_TEXT,
        ),
        tags: tags('qa', 'test-failure'),
      });
    }
  }

  // Lessons end up in prompts and in the store; neither should hold a secret quoted from a run.
  const seen = new Set<string>();
  return lessons
    .map((l) => ({ ...l, text: redact(l.text) }))
    .filter((l) => (seen.has(l.text) ? false : (seen.add(l.text), true)));
}
