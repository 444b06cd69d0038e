// Usage counters per project, day and model, incremented with atomic ADD so any number of agents
// can report at once without reading first; read back aggregated for budgets and cost reports.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DaySchema } from '../domain/common';
import { ProjectIdSchema } from '../domain/ids';
import {
  addCounters,
  emptyUsage,
  USAGE_COUNTERS,
  UsageDeltaSchema,
  UsageModelSchema,
  UsageRecordSchema,
  type UsageCounters,
  type UsageDelta,
  type UsageRecord,
} from '../domain/usage';
import type { StoreConfig } from './config';
import { StoreInputError } from './errors';
import { decodeItem, queryAll } from './items';
import { projectPk, usageKey, usageRange } from './keys';

export interface UsageSummary {
  /** One row per (day, model), ordered by day then model. */
  records: UsageRecord[];
  total: UsageCounters;
  byDay: Record<string, UsageCounters>;
  byModel: Record<string, UsageCounters>;
}

export class UsageRepository {
  constructor(private readonly store: StoreConfig) {}

  /** Adds `deltas` to the (project, day, model) counters and returns the new totals. */
  async addUsage(projectId: string, day: string, model: string, deltas: UsageDelta): Promise<UsageRecord> {
    ProjectIdSchema.parse(projectId);
    DaySchema.parse(day);
    UsageModelSchema.parse(model);
    const delta = UsageDeltaSchema.parse(deltas);
    const adds: string[] = [];
    const values: Record<string, unknown> = { ':projectId': projectId, ':day': day, ':model': model, ':entity': 'usage' };
    for (const counter of USAGE_COUNTERS) {
      const value = delta[counter];
      if (value !== undefined && value !== 0) {
        adds.push(`${counter} :${counter}`);
        values[`:${counter}`] = value;
      }
    }
    const out = await this.store.client.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: usageKey(projectId, day, model),
        UpdateExpression:
          'SET projectId = :projectId, #day = :day, #model = :model, entity = :entity' + (adds.length ? ` ADD ${adds.join(', ')}` : ''),
        ExpressionAttributeNames: { '#day': 'day', '#model': 'model' },
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRecord(out.Attributes ?? {});
  }

  /** Counters for `fromDay`..`toDay` inclusive, with totals by day, by model and overall. */
  async getUsage(projectId: string, fromDay: string, toDay: string): Promise<UsageSummary> {
    DaySchema.parse(fromDay);
    DaySchema.parse(toDay);
    if (fromDay > toDay) throw new StoreInputError(`usage range starts (${fromDay}) after it ends (${toDay})`);
    const range = usageRange(fromDay, toDay);
    const items = await queryAll(this.store, {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': projectPk(projectId), ':from': range.from, ':to': range.to },
      ConsistentRead: true,
    });
    const summary: UsageSummary = { records: [], total: emptyUsage(), byDay: {}, byModel: {} };
    for (const item of items) {
      const record = toRecord(item);
      summary.records.push(record);
      summary.total = addCounters(summary.total, record);
      summary.byDay[record.day] = addCounters(summary.byDay[record.day] ?? emptyUsage(), record);
      summary.byModel[record.model] = addCounters(summary.byModel[record.model] ?? emptyUsage(), record);
    }
    return summary;
  }
}

// Counters appear on the item the first time they are ADDed, so a missing one reads as zero.
function toRecord(item: Record<string, unknown>): UsageRecord {
  return decodeItem(UsageRecordSchema, 'usage', { ...emptyUsage(), ...item });
}
