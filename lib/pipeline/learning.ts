// Learning from a finished goal: its tasks and agent runs become lessons that the context engine
// puts in front of later agents of the same project. Called when a goal succeeds (AssessGoal) and
// when it fails or is cancelled (EndGoal).
import { lessonsFromOutcome } from '../agents/learning';
import type { Goal } from '../domain/goal';
import type { Runtime } from '../runtime';
import { hasRecorded, recordGoalEvent } from './events';

const LESSONS_RECORDED = 'lessons';

/** Stores the lessons of a finished goal; called for successes and failures alike. Safe to repeat. */
export async function learnFromGoal(runtime: Runtime, goal: Goal): Promise<number> {
  // A retried step must not store the same lessons twice.
  if (await hasRecorded(runtime, goal, LESSONS_RECORDED)) return 0;
  const tasks = await runtime.store.tasks.listAll(goal.id);
  const runs = [];
  let cursor: string | undefined;
  do {
    const page = await runtime.store.agentRuns.listByGoal(goal.id, { limit: 100, ...(cursor ? { cursor } : {}) });
    runs.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  const lessons = lessonsFromOutcome({ goal, tasks, runs });
  for (const lesson of lessons) await runtime.store.lessons.put(lesson);
  if (lessons.length > 0) {
    await recordGoalEvent(runtime, { type: 'Lesson.Learned', goal, data: { count: lessons.length }, idempotencyKey: LESSONS_RECORDED });
  }
  return lessons.length;
}
