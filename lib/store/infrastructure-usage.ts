// Infrastructure usage counters — what a goal consumed besides tokens (lib/domain/infrastructure-cost.ts)
// — per goal and per project and UTC day, incremented with atomic ADD like the token usage counters,
// so every step and worker of a goal can report at once without reading first.
import { UpdateCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DaySchema } from '../domain/common';
import { GoalIdSchema, ProjectIdSchema } from '../domain/ids';
import {
  addInfrastructureUsage,
  emptyInfrastructureUsage,
  INFRASTRUCTURE_COUNTERS,
  InfrastructureUsageSchema,
  type InfrastructureUsage,
} from '../domain/infrastructure-cost';
import type { StoreConfig } from './config';
import { StoreInputError } from './errors';
import { queryAll } from './items';
import { goalInfrastructureKey, PREFIX, projectInfrastructureKey, projectPk } from './keys';

/** What recording one delta costs the table: two counter updates. Counted into the delta itself. */
export const WRITE_UNITS_PER_RECORDING = 2;

const DeltaSchema = InfrastructureUsageSchema.partial();

export class InfrastructureUsageRepository {
  constructor(private readonly store: StoreConfig) {}

  /** Adds `delta` to the goal's counters and to its project's counters of `day`. */
  async add(goal: { goalId: string; projectId: string }, day: string, delta: Partial<InfrastructureUsage>): Promise<void> {
    GoalIdSchema.parse(goal.goalId);
    ProjectIdSchema.parse(goal.projectId);
    DaySchema.parse(day);
    const parsed = DeltaSchema.safeParse(delta);
    if (!parsed.success) throw new StoreInputError(`invalid infrastructure usage: ${parsed.error.issues[0]?.message ?? 'invalid value'}`);
    const adds: string[] = [];
    const values: Record<string, unknown> = { ':entity': 'infrastructureUsage', ':projectId': goal.projectId };
    for (const counter of INFRASTRUCTURE_COUNTERS) {
      const value = parsed.data[counter];
      if (value !== undefined && value !== 0) {
        adds.push(`${counter} :${counter}`);
        values[`:${counter}`] = value;
      }
    }
    if (adds.length === 0) return;
    const update = (key: Record<string, string>, label: { name: string; value: string }) =>
      this.store.client.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: key,
          UpdateExpression: `SET entity = :entity, projectId = :projectId, #label = :label ADD ${adds.join(', ')}`,
          ExpressionAttributeNames: { '#label': label.name },
          ExpressionAttributeValues: { ...values, ':label': label.value },
        }),
      );
    await update(goalInfrastructureKey(goal.goalId), { name: 'goalId', value: goal.goalId });
    await update(projectInfrastructureKey(goal.projectId, day), { name: 'day', value: day });
  }

  /** A goal's counters; zeros when nothing was recorded. */
  async forGoal(goalId: string): Promise<InfrastructureUsage> {
    const out = await this.store.client.send(new GetCommand({ TableName: this.store.tableName, Key: goalInfrastructureKey(goalId), ConsistentRead: true }));
    return countersOf(out.Item);
  }

  /** A project's counters for `fromDay`..`toDay` inclusive, by day, and their total. */
  async forProject(projectId: string, fromDay: string, toDay: string): Promise<{ total: InfrastructureUsage; byDay: Record<string, InfrastructureUsage> }> {
    const items = await queryAll(this.store, {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': projectPk(projectId), ':from': `${PREFIX.infrastructure}${fromDay}`, ':to': `${PREFIX.infrastructure}${toDay}` },
      ConsistentRead: true,
    });
    let total = emptyInfrastructureUsage();
    const byDay: Record<string, InfrastructureUsage> = {};
    for (const item of items) {
      const counters = countersOf(item);
      byDay[String(item.day)] = counters;
      total = addInfrastructureUsage(total, counters);
    }
    return { total, byDay };
  }
}

function countersOf(item: Record<string, unknown> | undefined): InfrastructureUsage {
  const counters = emptyInfrastructureUsage();
  if (!item) return counters;
  for (const key of INFRASTRUCTURE_COUNTERS) counters[key] = Number(item[key] ?? 0);
  return counters;
}
