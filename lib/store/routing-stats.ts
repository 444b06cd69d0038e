// Routing statistics per project: attempts, successes and spend per role × task kind × model,
// kept with atomic ADD so concurrent agents never lose a count. The router (lib/models/routing)
// reads them to start a task on the cheapest model that has proven good enough.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ProjectIdSchema } from '../domain/ids';
import { RoutingStatSchema, type RoutingObservation, type RoutingStat } from '../domain/routing-stat';
import type { StoreConfig } from './config';
import { decodeItem, queryAll } from './items';
import { PREFIX, projectPk, routingStatKey } from './keys';

export class RoutingStatsRepository {
  constructor(private readonly store: StoreConfig) {}

  /** Counts one finished attempt. */
  async record(projectId: string, observation: RoutingObservation): Promise<void> {
    ProjectIdSchema.parse(projectId);
    await this.store.client.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: routingStatKey(projectId, observation.role, observation.kind, observation.model),
        UpdateExpression: 'SET #role = :role, kind = :kind, #model = :model, entity = :entity ADD attempts :one, successes :success, costUsd :cost',
        ExpressionAttributeNames: { '#role': 'role', '#model': 'model' },
        ExpressionAttributeValues: {
          ':role': observation.role,
          ':kind': observation.kind,
          ':model': observation.model,
          ':entity': 'routing-stat',
          ':one': 1,
          ':success': observation.succeeded ? 1 : 0,
          ':cost': Math.max(0, observation.costUsd),
        },
      }),
    );
  }

  async list(projectId: string): Promise<RoutingStat[]> {
    const items = await queryAll(this.store, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': projectPk(projectId), ':sk': PREFIX.routing },
      ConsistentRead: true,
    });
    return items.map((item) => decodeItem(RoutingStatSchema, 'routing-stat', item));
  }
}
