// Tasks of a goal: idempotent creation from a plan, claim by an agent run, version-checked
// updates with enforced status transitions, and blocking the dependants of a failed task.
import { isTerminal, transitionTask, type Status } from '../domain/status';
import { TaskSchema, type Task } from '../domain/task';
import { tasksToBlock } from '../domain/task-graph';
import { now, type StoreConfig } from './config';
import { decodeItem, queryAll, queryPage, tableCursor, VersionedItems, type Page, type PageRequest } from './items';
import { goalPk, PREFIX, taskKey } from './keys';
import { updateWithRetry, type RetryOptions } from './retry';

export type TaskChanges = Partial<Omit<Task, 'id' | 'goalId' | 'projectId' | 'planKey' | 'createdAt' | 'updatedAt' | 'version'>>;

export interface ClaimResult {
  /** True when this run holds the task now (also when it already did: a redelivered message). */
  claimed: boolean;
  task: Task;
}

export class TaskRepository {
  private readonly items: VersionedItems<Task>;

  constructor(
    private readonly store: StoreConfig,
    private readonly retry: RetryOptions = {},
  ) {
    this.items = new VersionedItems(store, {
      entity: 'task',
      schema: TaskSchema,
      keyOf: (t) => taskKey(t.goalId, t.id),
      immutable: ['id', 'goalId', 'projectId', 'planKey', 'createdAt'],
      idOf: (t) => t.id,
    });
  }

  /** Stores a new task; AlreadyExistsError if the id is taken. */
  create(task: Task): Promise<Task> {
    return this.items.create(task);
  }

  /**
   * Stores tasks that do not exist yet and returns what is stored for each. With the
   * deterministic ids of `tasksFromPlan`, materialising the same plan twice is harmless.
   */
  async createMany(tasks: readonly Task[]): Promise<Task[]> {
    return Promise.all(tasks.map(async (t) => (await this.items.createIfAbsent(t)).item));
  }

  find(goalId: string, taskId: string): Promise<Task | undefined> {
    return this.items.get(taskKey(goalId, taskId));
  }

  get(goalId: string, taskId: string): Promise<Task> {
    return this.items.getOrThrow(taskKey(goalId, taskId), taskId);
  }

  /** Tasks of a goal in id order, one page at a time. */
  listByGoal(goalId: string, page: PageRequest = {}): Promise<Page<Task>> {
    return queryPage(
      this.store,
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': goalPk(goalId), ':sk': PREFIX.task },
        ConsistentRead: true,
      },
      page,
      tableCursor(goalPk(goalId), PREFIX.task),
      (item) => decodeItem(TaskSchema, 'task', item),
    );
  }

  /** Every task of a goal (what the scheduler needs to compute the ready set). */
  async listAll(goalId: string): Promise<Task[]> {
    const items = await queryAll(this.store, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': goalPk(goalId), ':sk': PREFIX.task },
      ConsistentRead: true,
    });
    return items.map((item) => decodeItem(TaskSchema, 'task', item));
  }

  /**
   * Writes `changes` if the task is still at `current.version`; a status change must be an edge
   * of the task graph. Entering RUNNING stamps `startedAt` once, a terminal status `completedAt`.
   */
  update(current: Task, changes: TaskChanges): Promise<Task> {
    const at = now(this.store).toISOString();
    const next: Task = { ...current, ...changes, updatedAt: at };
    if (changes.status !== undefined && changes.status !== current.status) {
      transitionTask(current.status, changes.status, current.id);
      if (changes.status === 'RUNNING' && !current.startedAt) next.startedAt = at;
      if (isTerminal(changes.status)) next.completedAt = at;
    }
    return this.items.update(current, next);
  }

  mutate(goalId: string, taskId: string, fn: (current: Task) => TaskChanges): Promise<Task> {
    return updateWithRetry(
      () => this.get(goalId, taskId),
      (t) => this.update(t, fn(t)),
      this.retry,
    );
  }

  transition(
    goalId: string,
    taskId: string,
    to: Status,
    changes: TaskChanges | ((current: Task) => TaskChanges) = {},
    options: { idempotent?: boolean } = {},
  ): Promise<Task> {
    return updateWithRetry(
      () => this.get(goalId, taskId),
      (t) => {
        if (options.idempotent && t.status === to) return t;
        const extra = typeof changes === 'function' ? changes(t) : changes;
        return this.update(t, { ...extra, status: to });
      },
      this.retry,
    );
  }

  /**
   * An agent run takes a PENDING task: RUNNING, attempts + 1, `runId` and `dispatch` recorded, all
   * in one version-checked write. The same run claiming again (a redelivered message) gets it back;
   * a duplicate delivery of the same dispatch finds it held and gets `claimed: false` — the caller
   * then does nothing. A RUNNING task held for another dispatch was abandoned by the state machine
   * (it timed out and re-dispatched), so the new dispatch takes it over without a new attempt.
   */
  claim(goalId: string, taskId: string, runId: string, dispatch?: string): Promise<ClaimResult> {
    return updateWithRetry(
      () => this.get(goalId, taskId),
      async (t): Promise<ClaimResult> => {
        if (t.status === 'RUNNING' && t.runId === runId) return { claimed: true, task: t };
        if (t.status === 'RUNNING' && dispatch !== undefined && t.dispatch !== undefined && t.dispatch !== dispatch) {
          return { claimed: true, task: await this.update(t, { runId, dispatch }) };
        }
        if (t.status !== 'PENDING') return { claimed: false, task: t };
        return {
          claimed: true,
          task: await this.update(t, { status: 'RUNNING', runId, attempts: t.attempts + 1, ...(dispatch !== undefined ? { dispatch } : {}) }),
        };
      },
      this.retry,
    );
  }

  /**
   * Marks BLOCKED every unfinished task that depends (transitively) on `failedTaskId`, and
   * returns them. Each write is its own conditional update; re-running after a crash finishes
   * the job because already-blocked tasks are skipped.
   */
  async blockDependants(goalId: string, failedTaskId: string): Promise<Task[]> {
    const targets = tasksToBlock(await this.listAll(goalId), failedTaskId);
    const blocked: Task[] = [];
    for (const t of targets) {
      const result = await updateWithRetry(
        () => this.get(goalId, t.id),
        (fresh) => (fresh.status === 'BLOCKED' || isTerminal(fresh.status) ? undefined : this.update(fresh, { status: 'BLOCKED' })),
        this.retry,
      );
      if (result) blocked.push(result);
    }
    return blocked;
  }
}
