// Agent runs: one immutable record per agent invocation, stored in its goal's partition next to
// the task it worked on.
import { AgentRunSchema, type AgentRun } from '../domain/agent-run';
import { AlreadyExistsError, NotFoundError } from './errors';
import type { StoreConfig } from './config';
import { decodeItem, isConditionalCheckFailed, queryPage, tableCursor, withoutUndefined, type Page, type PageRequest } from './items';
import { agentRunKey, agentRunTaskPrefix, goalPk, PREFIX } from './keys';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

export class AgentRunRepository {
  constructor(private readonly store: StoreConfig) {}

  /** Stores the run once; recording the same run id again returns the stored record. */
  async record(run: AgentRun): Promise<{ run: AgentRun; created: boolean }> {
    const checked = AgentRunSchema.parse(run);
    const key = agentRunKey(checked.goalId, checked.taskId, checked.id);
    try {
      await this.store.client.send(
        new PutCommand({
          TableName: this.store.tableName,
          Item: withoutUndefined({ ...checked, ...key, entity: 'agentRun' }),
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return { run: checked, created: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.find(checked.goalId, checked.taskId, checked.id);
      if (!existing) throw new AlreadyExistsError('agentRun', checked.id);
      return { run: existing, created: false };
    }
  }

  async find(goalId: string, taskId: string, runId: string): Promise<AgentRun | undefined> {
    const out = await this.store.client.send(new GetCommand({ TableName: this.store.tableName, Key: agentRunKey(goalId, taskId, runId), ConsistentRead: true }));
    return out.Item ? decodeItem(AgentRunSchema, 'agentRun', out.Item) : undefined;
  }

  async get(goalId: string, taskId: string, runId: string): Promise<AgentRun> {
    const run = await this.find(goalId, taskId, runId);
    if (!run) throw new NotFoundError('agentRun', runId);
    return run;
  }

  /** Runs of one task, oldest first (run ids are ULIDs). */
  listByTask(goalId: string, taskId: string, page: PageRequest = {}): Promise<Page<AgentRun>> {
    return this.list(goalId, agentRunTaskPrefix(taskId), page);
  }

  /** Every run of a goal, grouped by task. */
  listByGoal(goalId: string, page: PageRequest = {}): Promise<Page<AgentRun>> {
    return this.list(goalId, PREFIX.run, page);
  }

  private list(goalId: string, prefix: string, page: PageRequest): Promise<Page<AgentRun>> {
    return queryPage(
      this.store,
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': goalPk(goalId), ':sk': prefix },
      },
      page,
      tableCursor(goalPk(goalId), prefix),
      (item) => decodeItem(AgentRunSchema, 'agentRun', item),
    );
  }
}
