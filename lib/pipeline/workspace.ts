// Opens the git workspace of a project for the pipeline steps and agent workers.
import type { Project } from '../domain/project';
import type { Runtime } from '../runtime';
import { GitWorkspace } from '../workspace/index';
import { RemoteRepositoryNotSupportedError } from './errors';

export async function openProjectWorkspace(runtime: Runtime, project: Project): Promise<GitWorkspace> {
  if (!project.repo.path) throw new RemoteRepositoryNotSupportedError(project.repo.url ?? '(no url)');
  return GitWorkspace.open({ repoDir: project.repo.path, ...(runtime.config.workspaceRoot ? { root: runtime.config.workspaceRoot } : {}) });
}
