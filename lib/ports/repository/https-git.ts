// Any HTTPS git remote (GitLab, Gitea, Bitbucket, a company server) with a token: the mirror under
// the workspace root, compare-and-swap pushes, and no pull requests (the branch is the delivery).
import type { Goal } from '../../domain/goal';
import type { Project } from '../../domain/project';
import type { Secrets } from '../index';
import type { OpenIssueListing, PreparedRepository, PublishedBranch, PullRequestRef, RepositoryAccess, RepositoryHost } from '../repository-host';
import { GitTokenCredentials } from './credentials';
import { PullRequestsNotSupportedError, UnsupportedRepositoryError } from './errors';
import { checkRemoteAccess, type GitMirrors, type GitRemote } from './git-remote';
import { locateRepository } from './remote';

export class HttpsGitRepositoryHost implements RepositoryHost {
  private readonly credentials: GitTokenCredentials;

  constructor(
    private readonly mirrors: GitMirrors,
    secrets: Secrets,
  ) {
    this.credentials = new GitTokenCredentials(secrets);
  }

  private remote(project: Project): GitRemote {
    const location = locateRepository(project.repo);
    if (location.kind === 'path') throw new UnsupportedRepositoryError(`project ${project.id} has no repo.url`);
    return { url: location.url, credentials: this.credentials };
  }

  prepare(project: Project, _goal: Pick<Goal, 'id'>): Promise<PreparedRepository> {
    return this.mirrors.prepare(project.id, this.remote(project), project.repo.defaultBranch);
  }

  publishBranch(project: Project, goal: Pick<Goal, 'id' | 'branch'>): Promise<PublishedBranch> {
    return this.mirrors.publish(project.id, this.remote(project), goal.branch);
  }

  supportsPullRequests(): boolean {
    return false;
  }

  async openOrUpdatePullRequest(project: Project): Promise<PullRequestRef> {
    throw new PullRequestsNotSupportedError(this.remote(project).url);
  }

  async commentOnIssue(project: Project): Promise<{ url: string }> {
    throw new PullRequestsNotSupportedError(this.remote(project).url);
  }

  async listOpenIssues(): Promise<OpenIssueListing> {
    return { supported: false, reason: 'the repository is a plain git remote (not GitHub), which has no issue tracker Cahoots can read' };
  }

  async hasWriteAccess(): Promise<boolean> {
    return false;
  }

  checkAccess(project: Project): Promise<RepositoryAccess> {
    return checkRemoteAccess(this.remote(project), project.repo.defaultBranch);
  }
}
