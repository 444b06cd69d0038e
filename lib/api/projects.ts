// Project operations behind the API: create (recording Project.Created), read, and change
// settings (recording Project.SettingsChanged with the names of the fields that changed).
import type { Actor, CreateProjectInput, Project, UpdateProjectSettingsInput } from '../domain/index';
import { projectStream } from '../store/index';
import type { ApiDependencies } from './dependencies';

export async function createProject(deps: ApiDependencies, input: CreateProjectInput, actor: Actor): Promise<Project> {
  const project = await deps.store.projects.create(input);
  await deps.store.events.append(projectStream(project.id), {
    type: 'Project.Created',
    actor,
    correlationId: project.id,
    projectId: project.id,
    data: { name: project.name, repo: project.repo },
  });
  return project;
}

export function getProject(deps: ApiDependencies, projectId: string): Promise<Project> {
  return deps.store.projects.get(projectId);
}

export async function updateProject(deps: ApiDependencies, projectId: string, patch: UpdateProjectSettingsInput, actor: Actor): Promise<Project> {
  const project = await deps.store.projects.updateSettings(projectId, patch);
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
