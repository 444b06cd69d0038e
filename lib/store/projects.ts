// Projects: create, read, change settings (version-checked), list.
import { newId } from '../domain/ids';
import {
  CreateProjectInputSchema,
  ProjectSchema,
  UpdateProjectSettingsInputSchema,
  applyProjectSettings,
  type CreateProjectInput,
  type Project,
  type UpdateProjectSettingsInput,
} from '../domain/project';
import { now, type StoreConfig } from './config';
import { ConcurrencyConflictError } from './errors';
import { decodeItem, indexCursor, queryPage, VersionedItems, type Page, type PageRequest } from './items';
import { PROJECTS_INDEX_PK, projectIndexKeys, projectKey } from './keys';
import { updateWithRetry, type RetryOptions } from './retry';

export type ProjectChanges = Partial<Omit<Project, 'id' | 'createdAt' | 'updatedAt' | 'version'>>;

export class ProjectRepository {
  private readonly items: VersionedItems<Project>;

  constructor(
    private readonly store: StoreConfig,
    private readonly retry: RetryOptions = {},
  ) {
    this.items = new VersionedItems(store, {
      entity: 'project',
      schema: ProjectSchema,
      keyOf: (p) => projectKey(p.id),
      indexKeysOf: projectIndexKeys,
      immutable: ['id', 'createdAt'],
      idOf: (p) => p.id,
    });
  }

  /** Validates the input (ZodError if invalid), fills defaults and stores a new project. */
  async create(input: CreateProjectInput, options: { id?: string } = {}): Promise<Project> {
    const request = CreateProjectInputSchema.parse(input);
    const at = now(this.store).toISOString();
    return this.items.create({
      ...request,
      id: options.id ?? newId('project'),
      createdAt: at,
      updatedAt: at,
      version: 1,
    });
  }

  find(id: string): Promise<Project | undefined> {
    return this.items.get(projectKey(id));
  }

  get(id: string): Promise<Project> {
    return this.items.getOrThrow(projectKey(id), id);
  }

  /** Applies `changes` to `current`; ConcurrencyConflictError if the project changed since it was read. */
  update(current: Project, changes: ProjectChanges): Promise<Project> {
    return this.items.update(current, { ...current, ...changes, updatedAt: now(this.store).toISOString() });
  }

  /** Read-modify-write with retries; `fn` may be called several times. */
  mutate(id: string, fn: (current: Project) => ProjectChanges): Promise<Project> {
    return updateWithRetry(
      () => this.get(id),
      (p) => this.update(p, fn(p)),
      this.retry,
    );
  }

  /**
   * The API's settings PATCH. With `expectedVersion` the write is a single conditional attempt
   * (the client asserted what it saw); without it, concurrent changes are merged by retrying.
   */
  async updateSettings(id: string, input: UpdateProjectSettingsInput): Promise<Project> {
    const patch = UpdateProjectSettingsInputSchema.parse(input);
    if (patch.expectedVersion === undefined) return this.mutate(id, (p) => applyProjectSettings(p, patch));
    const current = await this.get(id);
    if (current.version !== patch.expectedVersion) throw new ConcurrencyConflictError('project', id, patch.expectedVersion, current.version);
    return this.update(current, applyProjectSettings(current, patch));
  }

  /** Projects, newest first. */
  list(page: PageRequest = {}): Promise<Page<Project>> {
    return queryPage(
      this.store,
      {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': PROJECTS_INDEX_PK },
        ScanIndexForward: false,
      },
      page,
      indexCursor('GSI2', PROJECTS_INDEX_PK),
      (item) => decodeItem(ProjectSchema, 'project', item),
    );
  }
}
