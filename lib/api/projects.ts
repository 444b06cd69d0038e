// Project operations behind the API: create (recording Project.Created) after checking that the
// repository can be worked on from here, read, and change settings (recording
// Project.SettingsChanged with the names of the fields that changed).
import { CreateProjectInputSchema, FALLBACK_PER_GOAL_BUDGET_USD, type Actor, type ProjectDefaults, type CreateProjectInput, type Project, type UpdateProjectSettingsInput } from '../domain/index';
import { projectStream, type Page } from '../store/index';
import type { ApiDependencies } from './dependencies';
import { ApiError } from './errors';

/** A repository the deployment cannot work on; the message says why and what to do instead. */
export class RepositoryNotUsableError extends ApiError {
  constructor(code: string, field: 'path' | 'url', message: string) {
    super(422, code, message, [{ path: `body.repo.${field}`, message }]);
  }
}

/**
 * Refuses, before anything is stored, a repository this deployment cannot work on. In a cell: a
 * `repo.path` (each Lambda environment has its own disk, so no step would see it) and any URL when
 * the cell has no egress. Everywhere: a URL the configured credentials cannot reach.
 */
export async function checkRepositoryUsable(deps: ApiDependencies, input: CreateProjectInput): Promise<void> {
  const request = CreateProjectInputSchema.parse(input);
  const inCell = deps.deployment?.deployment === 'cell';
  if (request.repo.path !== undefined) {
    if (inCell) {
      throw new RepositoryNotUsableError(
        'RepositoryPathNotSupported',
        'path',
        'repo.path names a directory on one machine; a cell runs every step in a different Lambda environment, so give repo.url (the https:// URL of the repository) instead',
      );
    }
    return;
  }
  const url = request.repo.url;
  if (url === undefined) return;
  if (inCell && deps.deployment?.egress === 'none') {
    let host = url;
    try {
      host = new URL(url).host;
    } catch {
      // scp-style and other URLs: name the whole URL
    }
    throw new RepositoryNotUsableError(
      'RepositoryHostUnreachable',
      'url',
      `this cell is deployed with egress "none": it has no route out of its VPC and cannot reach ${host}; deploy the cell with egress "nat" to work on repositories outside AWS`,
    );
  }
  if (!deps.repositories) return;
  const at = new Date(0).toISOString();
  // Not stored: only the repository settings matter to the check.
  const candidate: Project = { ...request, id: 'prj_00000000000000000000000000', createdAt: at, updatedAt: at, version: 1 };
  const access = await deps.repositories.checkAccess(candidate);
  if (!access.ok) throw new RepositoryNotUsableError('RepositoryNotAccessible', 'url', `repo.url cannot be used (${access.reason}): ${access.message}`);
}

/**
 * The request with what it leaves out taken from the deployment's project defaults: autonomy
 * level, model policy, and each budget field on its own. A project always gets a per-goal cap:
 * the request's, else the defaults', else FALLBACK_PER_GOAL_BUDGET_USD.
 */
export function withProjectDefaults(input: CreateProjectInput, defaults: ProjectDefaults | undefined): CreateProjectInput {
  const budgets = { ...defaults?.budgets, ...definedFields(input.budgets ?? {}) };
  return {
    ...input,
    autonomyLevel: input.autonomyLevel ?? defaults?.autonomyLevel,
    modelPolicy: input.modelPolicy ?? defaults?.modelPolicy,
    budgets: { ...budgets, perGoalUsd: budgets.perGoalUsd ?? FALLBACK_PER_GOAL_BUDGET_USD },
  };
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

export async function createProject(deps: ApiDependencies, requested: CreateProjectInput, actor: Actor): Promise<Project> {
  const input = withProjectDefaults(requested, deps.projectDefaults);
  await checkRepositoryUsable(deps, input);
  const project = await deps.store.projects.create(input);
  // A new project without detection has no schedule to remove: no call at all.
  if (project.schedule.enabled) await saveDetectionSchedule(deps, project);
  await deps.store.events.append(projectStream(project.id), {
    type: 'Project.Created',
    actor,
    correlationId: project.id,
    projectId: project.id,
    data: { name: project.name, repo: project.repo },
  });
  return project;
}

/** A page of the deployment's projects, newest first. */
export async function listProjects(deps: ApiDependencies, query: { limit?: number; cursor?: string }): Promise<Page<Project>> {
  const result = await deps.store.projects.list({ limit: query.limit, cursor: query.cursor });
  return result.cursor ? { items: result.items, cursor: result.cursor } : { items: result.items };
}

export function getProject(deps: ApiDependencies, projectId: string): Promise<Project> {
  return deps.store.projects.get(projectId);
}

/**
 * Puts the project's schedule where it fires (EventBridge Scheduler in a cell, timers locally):
 * created or replaced when detection is enabled, removed when not. Called after the project is
 * stored, so a failure here leaves the settings saved and the same request, repeated, completes it.
 */
async function saveDetectionSchedule(deps: ApiDependencies, project: Project): Promise<void> {
  await deps.schedules?.upsert(project.id, project.schedule);
}

export async function updateProject(deps: ApiDependencies, projectId: string, patch: UpdateProjectSettingsInput, actor: Actor): Promise<Project> {
  const project = await deps.store.projects.updateSettings(projectId, patch);
  if (patch.schedule !== undefined) await saveDetectionSchedule(deps, project);
  const changed = Object.keys(patch)
    .filter((field) => field !== 'expectedVersion')
    .sort();
  await deps.store.events.append(projectStream(projectId), {
    type: 'Project.SettingsChanged',
    actor,
    correlationId: projectId,
    projectId,
    data: { changed, version: project.version },
  });
  return project;
}
