// A lesson learned from a goal's outcome, kept per project and fed into later prompts.
import * as z from 'zod';
import { IsoTimestampSchema } from './common';
import { GoalIdSchema, LessonIdSchema, ProjectIdSchema } from './ids';
import { TaskKindSchema } from './plan';
import { AgentRoleSchema } from './settings';

export const LESSON_OUTCOMES = ['succeeded', 'failed', 'partial'] as const;

export const LessonTagSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[a-z0-9][a-z0-9._:-]*$/, { message: 'tags are lowercase letters, digits, . _ : -' });

export const LessonSchema = z.object({
  id: LessonIdSchema,
  projectId: ProjectIdSchema,
  text: z.string().trim().min(1).max(2000),
  tags: z.array(LessonTagSchema).max(20),
  sourceGoalId: GoalIdSchema.optional(),
  outcome: z.enum(LESSON_OUTCOMES),
  role: AgentRoleSchema.optional(),
  taskKind: TaskKindSchema.optional(),
  createdAt: IsoTimestampSchema,
});
export type Lesson = z.infer<typeof LessonSchema>;

export const NewLessonSchema = LessonSchema.omit({ id: true, createdAt: true }).extend({
  tags: z.array(LessonTagSchema).max(20).default([]),
});
export type NewLesson = z.input<typeof NewLessonSchema>;
