// Opens the git workspace of a project for the pipeline steps and agent workers. Where the
// repository lives (a local checkout, an HTTPS remote, GitHub) is the RepositoryHost port's
// business: it hands back a directory with the default branch current, mirrored under the
// workspace root when the repository is remote.
import type { Goal } from '../domain/goal';
import type { Project } from '../domain/project';
import type { Runtime } from '../runtime';
import { GitWorkspace } from '../workspace/index';

export async function openProjectWorkspace(runtime: Runtime, project: Project, goal: Pick<Goal, 'id'>): Promise<GitWorkspace> {
  const { repoDir } = await runtime.ports.repositories.prepare(project, goal);
  return GitWorkspace.open({ repoDir, ...(runtime.config.workspaceRoot ? { root: runtime.config.workspaceRoot } : {}) });
}
