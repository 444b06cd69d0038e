// Goals: create, read, version-checked updates with enforced status transitions, the atomic cost
// counter, and listings by project (all, or by status).
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CreateGoalInputSchema, GoalSchema, goalBranch, type CreateGoalInput, type Goal } from '../domain/goal';
import { newId } from '../domain/ids';
import { isTerminal, transitionGoal, type Status } from '../domain/status';
import { now, type StoreConfig } from './config';
import { NotFoundError, StoreInputError } from './errors';
import { decodeItem, indexCursor, isConditionalCheckFailed, queryPage, VersionedItems, type Page, type PageRequest } from './items';
import { goalIndexKeys, goalKey, goalsByStatusPk, goalsOfProjectPk, projectKey } from './keys';
import { updateWithRetry, type RetryOptions } from './retry';

/** What may change on a goal after creation. Cost changes only through `addCost`. */
export type GoalChanges = Partial<Omit<Goal, 'id' | 'projectId' | 'source' | 'branch' | 'costUsd' | 'createdAt' | 'updatedAt' | 'version'>>;

export interface GoalListRequest extends PageRequest {
  /** `newest` (default) or `oldest` first, by creation time. */
  order?: 'newest' | 'oldest';
}

export interface TransitionOptions {
  /** When the goal is already in the target status, return it unchanged instead of throwing. */
  idempotent?: boolean;
}

export class GoalRepository {
  private readonly items: VersionedItems<Goal>;

  constructor(
    private readonly store: StoreConfig,
    private readonly retry: RetryOptions = {},
  ) {
    this.items = new VersionedItems(store, {
      entity: 'goal',
      schema: GoalSchema,
      keyOf: (g) => goalKey(g.id),
      indexKeysOf: goalIndexKeys,
      immutable: ['id', 'projectId', 'source', 'branch', 'createdAt'],
      idOf: (g) => g.id,
    });
  }

  /** Stores a new PENDING goal; NotFoundError if the project does not exist. */
  async create(input: CreateGoalInput, options: { id?: string } = {}): Promise<Goal> {
    const request = CreateGoalInputSchema.parse(input);
    const project = await this.store.client.send(
      new GetCommand({ TableName: this.store.tableName, Key: projectKey(request.projectId), ProjectionExpression: 'PK', ConsistentRead: true }),
    );
    if (!project.Item) throw new NotFoundError('project', request.projectId);
    const id = options.id ?? newId('goal');
    const at = now(this.store).toISOString();
    return this.items.create({
      ...request,
      id,
      status: 'PENDING',
      branch: goalBranch(id),
      costUsd: 0,
      reworkRounds: 0,
      approval: { state: 'not-required' },
      createdAt: at,
      updatedAt: at,
      version: 1,
    });
  }

  find(id: string): Promise<Goal | undefined> {
    return this.items.get(goalKey(id));
  }

  get(id: string): Promise<Goal> {
    return this.items.getOrThrow(goalKey(id), id);
  }

  /**
   * Writes `changes` if the goal is still at `current.version`. A status change must be an edge
   * of the goal graph (IllegalTransitionError otherwise); entering RUNNING the first time stamps
   * `startedAt`, entering a terminal status stamps `completedAt`.
   */
  update(current: Goal, changes: GoalChanges): Promise<Goal> {
    const at = now(this.store).toISOString();
    const next: Goal = { ...current, ...changes, updatedAt: at };
    if (changes.status !== undefined && changes.status !== current.status) {
      transitionGoal(current.status, changes.status, current.id);
      if (changes.status === 'RUNNING' && !current.startedAt) next.startedAt = at;
      if (isTerminal(changes.status)) next.completedAt = at;
    }
    return this.items.update(current, next);
  }

  mutate(id: string, fn: (current: Goal) => GoalChanges): Promise<Goal> {
    return updateWithRetry(
      () => this.get(id),
      (g) => this.update(g, fn(g)),
      this.retry,
    );
  }

  /** Moves the goal to `to` (with optional extra changes), re-reading on conflicts. */
  transition(id: string, to: Status, changes: GoalChanges | ((current: Goal) => GoalChanges) = {}, options: TransitionOptions = {}): Promise<Goal> {
    return updateWithRetry(
      () => this.get(id),
      (g) => {
        if (options.idempotent && g.status === to) return g;
        const extra = typeof changes === 'function' ? changes(g) : changes;
        return this.update(g, { ...extra, status: to });
      },
      this.retry,
    );
  }

  /**
   * Adds spend with an atomic ADD — many agents of one goal report cost at once, and a counter
   * must not need a read. Returns the new total. Does not bump `version` (cost is not part of
   * what optimistic updates guard, and version-checked updates never write it).
   */
  async addCost(id: string, usd: number): Promise<number> {
    if (!Number.isFinite(usd) || usd < 0) throw new StoreInputError('cost increment must be a non-negative number');
    try {
      const out = await this.store.client.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: goalKey(id),
          UpdateExpression: 'ADD costUsd :usd',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':usd': usd },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.costUsd ?? 0);
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError('goal', id);
      throw error;
    }
  }

  /** Every goal of a project (GSI2). GSI reads are eventually consistent in AWS. */
  listByProject(projectId: string, request: GoalListRequest = {}): Promise<Page<Goal>> {
    return this.listIndex('GSI2', goalsOfProjectPk(projectId), request);
  }

  /** Goals of a project in one status (GSI1). */
  listByStatus(projectId: string, status: Status, request: GoalListRequest = {}): Promise<Page<Goal>> {
    return this.listIndex('GSI1', goalsByStatusPk(projectId, status), request);
  }

  private listIndex(index: 'GSI1' | 'GSI2', pk: string, request: GoalListRequest): Promise<Page<Goal>> {
    return queryPage(
      this.store,
      {
        IndexName: index,
        KeyConditionExpression: `${index}PK = :pk`,
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: request.order === 'oldest',
      },
      request,
      indexCursor(index, pk),
      (item) => decodeItem(GoalSchema, 'goal', item),
    );
  }
}
