// Lessons learned, per project, newest first. Immutable once written.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { newId } from '../domain/ids';
import { LessonSchema, NewLessonSchema, type Lesson, type NewLesson } from '../domain/lesson';
import { now, type StoreConfig } from './config';
import { decodeItem, queryPage, tableCursor, withoutUndefined, type Page, type PageRequest } from './items';
import { lessonKey, PREFIX, projectPk } from './keys';

export class LessonRepository {
  constructor(private readonly store: StoreConfig) {}

  async put(input: NewLesson): Promise<Lesson> {
    const fields = NewLessonSchema.parse(input);
    const at = now(this.store);
    const lesson = LessonSchema.parse({ ...fields, id: newId('lesson', at.getTime()), createdAt: at.toISOString() });
    await this.store.client.send(
      new PutCommand({
        TableName: this.store.tableName,
        Item: withoutUndefined({ ...lesson, ...lessonKey(lesson.projectId, lesson.id), entity: 'lesson' }),
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return lesson;
  }

  /** Lessons of a project, newest first (lesson ids are ULIDs). */
  list(projectId: string, page: PageRequest = {}): Promise<Page<Lesson>> {
    return queryPage(
      this.store,
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': projectPk(projectId), ':sk': PREFIX.lesson },
        ScanIndexForward: false,
      },
      page,
      tableCursor(projectPk(projectId), PREFIX.lesson),
      (item) => decodeItem(LessonSchema, 'lesson', item),
    );
  }
}
