// The project's repository is a checkout on this machine (`repo.path`, local runtime only): the
// workspace works in it directly, the goal branch is already "published" once it exists there,
// and there is no host to open pull requests on.
import type { Goal } from '../../domain/goal';
import type { Project } from '../../domain/project';
import { GitWorkspace, WorkspaceError } from '../../workspace/index';
import type { OpenIssueListing, PreparedRepository, PublishedBranch, PullRequestRef, RepositoryAccess, RepositoryHost } from '../repository-host';
import { BranchNotFoundError, DefaultBranchMissingError, PullRequestsNotSupportedError, UnsupportedRepositoryError } from './errors';

function pathOf(project: Project): string {
  if (project.repo.path === undefined) throw new UnsupportedRepositoryError(`project ${project.id} has no repo.path`);
  return project.repo.path;
}

export class LocalPathRepositoryHost implements RepositoryHost {
  constructor(private readonly workspaceRoot: string) {}

  async prepare(project: Project, _goal: Pick<Goal, 'id'>): Promise<PreparedRepository> {
    const repoDir = pathOf(project);
    const workspace = await GitWorkspace.open({ repoDir, root: this.workspaceRoot });
    const defaultBranchSha = await workspace.resolve(`refs/heads/${project.repo.defaultBranch}`).catch((error: unknown) => {
      if (error instanceof WorkspaceError) throw new DefaultBranchMissingError(repoDir, project.repo.defaultBranch);
      throw error;
    });
    return { repoDir, defaultBranchSha };
  }

  async publishBranch(project: Project, goal: Pick<Goal, 'id' | 'branch'>): Promise<PublishedBranch> {
    const workspace = await GitWorkspace.open({ repoDir: pathOf(project), root: this.workspaceRoot });
    const sha = await workspace.resolve(`refs/heads/${goal.branch}`).catch((error: unknown) => {
      if (error instanceof WorkspaceError) throw new BranchNotFoundError(goal.branch);
      throw error;
    });
    // The branch lives in the person's own repository already; nothing to send anywhere.
    return { branch: goal.branch, sha, unchanged: true };
  }

  supportsPullRequests(): boolean {
    return false;
  }

  async openOrUpdatePullRequest(project: Project): Promise<PullRequestRef> {
    throw new PullRequestsNotSupportedError(pathOf(project));
  }

  async commentOnIssue(project: Project): Promise<{ url: string }> {
    throw new PullRequestsNotSupportedError(pathOf(project));
  }

  async listOpenIssues(): Promise<OpenIssueListing> {
    return { supported: false, reason: 'the repository is a local path, which has no issue tracker' };
  }

  async hasWriteAccess(): Promise<boolean> {
    return false;
  }

  async checkAccess(project: Project): Promise<RepositoryAccess> {
    try {
      const prepared = await this.prepare(project, { id: 'access-check' });
      return { ok: true, defaultBranchSha: prepared.defaultBranchSha };
    } catch (error) {
      if (error instanceof DefaultBranchMissingError) return { ok: false, reason: 'default-branch-missing', message: error.message };
      if (error instanceof WorkspaceError) return { ok: false, reason: 'unreachable', message: error.message };
      throw error;
    }
  }
}
