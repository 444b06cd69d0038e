// The one RepositoryHost the runtime hands out: it picks the adapter for each project from its
// `repo` settings (see remote.ts), so callers never ask where a repository lives.
import { resolve } from 'node:path';
import type { Goal } from '../../domain/goal';
import type { Project } from '../../domain/project';
import type { Secrets } from '../index';
import type {
  OpenIssueListing,
  PreparedRepository,
  PublishedBranch,
  PullRequestContent,
  PullRequestRef,
  RepositoryAccess,
  RepositoryHost,
} from '../repository-host';
import { UnsupportedRepositoryError } from './errors';
import { GitMirrors } from './git-remote';
import { GitHubRepositoryHost } from './github';
import { HttpsGitRepositoryHost } from './https-git';
import { LocalPathRepositoryHost } from './local-path';
import { locateRepository } from './remote';

export * from './errors';
export { REPOSITORY_SECRETS, DEFAULT_GIT_USERNAME, INSTALLATION_TOKEN_REFRESH_MS, type GitHubAppSecret } from './credentials';
export { mirrorDir, MIRRORS_DIR } from './git-remote';
export { GITHUB_API_URL, isLoopbackHost, locateRepository, type RepositoryLocation } from './remote';
export { GitHubRepositoryHost, HttpsGitRepositoryHost, LocalPathRepositoryHost, GitMirrors };

export interface RepositoryHostOptions {
  secrets: Secrets;
  /** The workspace root (CAHOOTS_WORKSPACE_ROOT): mirrors live in `<root>/mirrors`. */
  workspaceRoot: string;
  /** Clock for token expiry, for tests. */
  now?: () => number;
}

export class DispatchingRepositoryHost implements RepositoryHost {
  private readonly localPath: LocalPathRepositoryHost;
  private readonly httpsGit: HttpsGitRepositoryHost;
  private readonly gitHub: GitHubRepositoryHost;

  constructor(options: RepositoryHostOptions) {
    const root = resolve(options.workspaceRoot);
    const mirrors = new GitMirrors(root);
    this.localPath = new LocalPathRepositoryHost(root);
    this.httpsGit = new HttpsGitRepositoryHost(mirrors, options.secrets);
    this.gitHub = new GitHubRepositoryHost(mirrors, options.secrets, options.now);
  }

  /** The adapter for this project; throws UnsupportedRepositoryError naming what to change. */
  hostFor(project: Project): RepositoryHost {
    const kind = locateRepository(project.repo).kind;
    return kind === 'path' ? this.localPath : kind === 'github' ? this.gitHub : this.httpsGit;
  }

  prepare(project: Project, goal: Pick<Goal, 'id'>): Promise<PreparedRepository> {
    return this.hostFor(project).prepare(project, goal);
  }

  publishBranch(project: Project, goal: Pick<Goal, 'id' | 'branch'>): Promise<PublishedBranch> {
    return this.hostFor(project).publishBranch(project, goal);
  }

  supportsPullRequests(project: Project): boolean {
    return this.hostFor(project).supportsPullRequests(project);
  }

  openOrUpdatePullRequest(project: Project, content: PullRequestContent): Promise<PullRequestRef> {
    return this.hostFor(project).openOrUpdatePullRequest(project, content);
  }

  commentOnIssue(project: Project, issueNumber: number, body: string): Promise<{ url: string }> {
    return this.hostFor(project).commentOnIssue(project, issueNumber, body);
  }

  listOpenIssues(project: Project, label: string): Promise<OpenIssueListing> {
    return this.hostFor(project).listOpenIssues(project, label);
  }

  hasWriteAccess(project: Project, login: string): Promise<boolean> {
    return this.hostFor(project).hasWriteAccess(project, login);
  }

  async checkAccess(project: Project): Promise<RepositoryAccess> {
    let host: RepositoryHost;
    try {
      host = this.hostFor(project);
    } catch (error) {
      if (error instanceof UnsupportedRepositoryError) return { ok: false, reason: 'not-supported', message: error.message };
      throw error;
    }
    return host.checkAccess(project);
  }
}

export function createRepositoryHost(options: RepositoryHostOptions): RepositoryHost {
  return new DispatchingRepositoryHost(options);
}

