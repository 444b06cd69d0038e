// Projects: create, read, change settings (version-checked), list, and find by repository.
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { newId } from '../domain/ids';
import {
  CreateProjectInputSchema,
  ProjectSchema,
  UpdateProjectSettingsInputSchema,
  applyProjectSettings,
  repositoryAddress,
  type CreateProjectInput,
  type Project,
  type UpdateProjectSettingsInput,
} from '../domain/project';
import { now, type StoreConfig } from './config';
import { ConcurrencyConflictError } from './errors';
import { decodeItem, indexCursor, queryPage, VersionedItems, type Page, type PageRequest } from './items';
import { PROJECTS_INDEX_PK, projectIndexKeys, projectKey, repositoryLinkKey, repositoryPk } from './keys';
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
    const id = options.id ?? newId('project');
    // The link first: a crash between the two writes leaves a link to no project, which
    // findByRepository skips, rather than a project the webhook cannot find.
    await this.linkRepository(id, request.repo.url);
    return this.items.create({ ...request, id, createdAt: at, updatedAt: at, version: 1 });
  }

  /**
   * Projects whose repository has this address (repositoryAddress), oldest first. Usually one;
   * several projects may work on one repository.
   */
  async findByRepository(address: string): Promise<Project[]> {
    const projects: Project[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.store.client.send(
        new QueryCommand({
          TableName: this.store.tableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': repositoryPk(address) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const project = typeof item.projectId === 'string' ? await this.find(item.projectId) : undefined;
        if (project?.repo.url !== undefined && repositoryAddress(project.repo.url) === address) projects.push(project);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return projects.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Writes the project's repository link; the same item every time, so repeating it is harmless. */
  private async linkRepository(projectId: string, url: string | undefined): Promise<void> {
    const address = url === undefined ? undefined : repositoryAddress(url);
    if (address === undefined) return;
    await this.store.client.send(
      new PutCommand({
        TableName: this.store.tableName,
        Item: { ...repositoryLinkKey(address, projectId), entity: 'repository-link', projectId, address },
      }),
    );
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
    let updated: Project;
    if (patch.expectedVersion === undefined) {
      updated = await this.mutate(id, (p) => applyProjectSettings(p, patch));
    } else {
      const current = await this.get(id);
      if (current.version !== patch.expectedVersion) throw new ConcurrencyConflictError('project', id, patch.expectedVersion, current.version);
      updated = await this.update(current, applyProjectSettings(current, patch));
    }
    // Projects created before repository links existed get theirs on their next change.
    await this.linkRepository(id, updated.repo.url);
    return updated;
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
