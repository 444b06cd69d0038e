// GitHub and GitHub Enterprise Server: the git side is the same mirror and compare-and-swap push
// as any HTTPS remote (with `x-access-token` and a GitHub token), the rest goes through the REST
// API with @octokit/rest at `repo.apiUrl` (default https://api.github.com): pull requests, issue
// comments, labelled open issues (work detection) and collaborator permissions.
import { Octokit } from '@octokit/rest';
import type { Goal } from '../../domain/goal';
import type { Project } from '../../domain/project';
import type { Secrets } from '../index';
import {
  MAX_LISTED_ISSUES,
  type OpenIssue,
  type OpenIssueListing,
  type PreparedRepository,
  type PublishedBranch,
  type PullRequestContent,
  type PullRequestRef,
  type RepositoryAccess,
  type RepositoryHost,
} from '../repository-host';
import { GitHubCredentials, quietLog } from './credentials';
import { GitHubApiError, RepositoryAuthError, RepositoryHostError, UnsupportedRepositoryError } from './errors';
import { checkRemoteAccess, type GitMirrors, type GitRemote } from './git-remote';
import { locateRepository } from './remote';

interface GitHubRepository {
  url: string;
  apiUrl: string;
  owner: string;
  name: string;
}

/** The issues API's largest page; MAX_LISTED_ISSUES bounds the pages read. */
const ISSUES_PER_PAGE = 100;
const MAX_ISSUE_PAGES = MAX_LISTED_ISSUES / ISSUES_PER_PAGE;

/** Permissions that may push (the REST API reports `maintain` as `write` in `permission`). */
const WRITE_PERMISSIONS = new Set(['admin', 'maintain', 'write']);

export class GitHubRepositoryHost implements RepositoryHost {
  // One credential cache per API base URL: github.com and each Enterprise Server mint their own tokens.
  private readonly credentials = new Map<string, GitHubCredentials>();

  constructor(
    private readonly mirrors: GitMirrors,
    private readonly secrets: Secrets,
    private readonly now: () => number = Date.now,
  ) {}

  private repository(project: Project): GitHubRepository {
    const location = locateRepository(project.repo);
    if (location.kind !== 'github') throw new UnsupportedRepositoryError(`project ${project.id} is not a GitHub repository`);
    return location;
  }

  private credentialsFor(apiUrl: string): GitHubCredentials {
    let credentials = this.credentials.get(apiUrl);
    if (!credentials) {
      credentials = new GitHubCredentials(this.secrets, apiUrl, this.now);
      this.credentials.set(apiUrl, credentials);
    }
    return credentials;
  }

  private remote(project: Project): GitRemote {
    const repository = this.repository(project);
    return { url: repository.url, credentials: this.credentialsFor(repository.apiUrl) };
  }

  private async octokit(repository: GitHubRepository): Promise<Octokit> {
    const token = await this.credentialsFor(repository.apiUrl).token();
    return new Octokit({ baseUrl: repository.apiUrl, auth: token, log: quietLog, userAgent: 'cahoots' });
  }

  /** Runs one REST call, turning its failure into the port's errors. */
  private async call<T>(repository: GitHubRepository, operation: string, run: (octokit: Octokit) => Promise<T>): Promise<T> {
    const octokit = await this.octokit(repository);
    try {
      return await run(octokit);
    } catch (error) {
      throw this.describe(error, repository, operation);
    }
  }

  private describe(error: unknown, repository: GitHubRepository, operation: string): Error {
    if (error instanceof RepositoryHostError) return error;
    const status = (error as { status?: number }).status;
    const credentials = this.credentialsFor(repository.apiUrl);
    if (status === 401) {
      // A revoked or expired installation token must not be reused.
      credentials.forget();
      return new RepositoryAuthError(
        `GitHub (${repository.apiUrl}) refused the credentials while trying to ${operation} (HTTP 401); check the secret ${credentials.secretNames.join(' or ')}`,
        { cause: error },
      );
    }
    const message = (error as { response?: { data?: { message?: string } } }).response?.data?.message ?? (error as Error).message;
    return new GitHubApiError(`${operation} in ${repository.owner}/${repository.name}`, status, message ?? String(error));
  }

  prepare(project: Project, _goal: Pick<Goal, 'id'>): Promise<PreparedRepository> {
    return this.mirrors.prepare(project.id, this.remote(project), project.repo.defaultBranch);
  }

  publishBranch(project: Project, goal: Pick<Goal, 'id' | 'branch'>): Promise<PublishedBranch> {
    return this.mirrors.publish(project.id, this.remote(project), goal.branch);
  }

  supportsPullRequests(): boolean {
    return true;
  }

  async openOrUpdatePullRequest(project: Project, content: PullRequestContent): Promise<PullRequestRef> {
    const repository = this.repository(project);
    const { owner, name: repo } = repository;
    const findOpen = () =>
      this.call(repository, 'list pull requests', (octokit) =>
        octokit.rest.pulls.list({ owner, repo, head: `${owner}:${content.head}`, state: 'open', per_page: 1 }),
      ).then(({ data }) => data[0]);
    const update = async (number: number): Promise<PullRequestRef> => {
      const { data } = await this.call(repository, `update pull request #${number}`, (octokit) =>
        octokit.rest.pulls.update({ owner, repo, pull_number: number, title: content.title, body: content.body }),
      );
      return { number: data.number, url: data.html_url, created: false };
    };

    const open = await findOpen();
    if (open) return update(open.number);
    try {
      const { data } = await (await this.octokit(repository)).rest.pulls.create({
        owner,
        repo,
        title: content.title,
        body: content.body,
        head: content.head,
        base: content.base,
      });
      return { number: data.number, url: data.html_url, created: true };
    } catch (error) {
      // Another worker opened it between our look and our create: update that one instead.
      if ((error as { status?: number }).status === 422) {
        const raced = await findOpen();
        if (raced) return update(raced.number);
      }
      throw this.describe(error, repository, 'open a pull request');
    }
  }

  async commentOnIssue(project: Project, issueNumber: number, body: string): Promise<{ url: string }> {
    const repository = this.repository(project);
    const { data } = await this.call(repository, `comment on #${issueNumber}`, (octokit) =>
      octokit.rest.issues.createComment({ owner: repository.owner, repo: repository.name, issue_number: issueNumber, body }),
    );
    return { url: data.html_url };
  }

  async listOpenIssues(project: Project, label: string): Promise<OpenIssueListing> {
    const repository = this.repository(project);
    return this.call(repository, `list open issues labelled ${label}`, async (octokit) => {
      const issues: OpenIssue[] = [];
      let truncated = false;
      const pages = octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
        owner: repository.owner,
        repo: repository.name,
        state: 'open',
        labels: label,
        sort: 'updated',
        direction: 'desc',
        per_page: ISSUES_PER_PAGE,
      });
      let read = 0;
      for await (const page of pages) {
        read += 1;
        for (const item of page.data) {
          // The issues API lists pull requests too; they are not issues to work on.
          if (item.pull_request) continue;
          issues.push({
            number: item.number,
            title: item.title,
            body: item.body ?? '',
            url: item.html_url,
            labels: item.labels.map((labelled) => (typeof labelled === 'string' ? labelled : (labelled.name ?? ''))).filter((name) => name !== ''),
            createdAt: item.created_at,
            updatedAt: item.updated_at,
          });
        }
        if (read === MAX_ISSUE_PAGES) {
          truncated = /rel="next"/.test(page.headers.link ?? '');
          break;
        }
      }
      return { supported: true, repository: `${repository.owner}/${repository.name}`, issues, truncated };
    });
  }

  async hasWriteAccess(project: Project, login: string): Promise<boolean> {
    const repository = this.repository(project);
    const octokit = await this.octokit(repository);
    try {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: repository.owner, repo: repository.name, username: login });
      return WRITE_PERMISSIONS.has(data.permission) || WRITE_PERMISSIONS.has(data.role_name);
    } catch (error) {
      // Not a collaborator at all (or no such user).
      if ((error as { status?: number }).status === 404) return false;
      throw this.describe(error, repository, `read the permission of ${login}`);
    }
  }

  async checkAccess(project: Project): Promise<RepositoryAccess> {
    const remote = this.remote(project);
    const access = await checkRemoteAccess(remote, project.repo.defaultBranch);
    if (!access.ok) return access;
    const repository = this.repository(project);
    try {
      const { data } = await (await this.octokit(repository)).rest.repos.get({ owner: repository.owner, repo: repository.name });
      if (data.permissions && !data.permissions.push) {
        return { ok: false, reason: 'auth-failed', message: `the GitHub credentials may not push to ${repository.owner}/${repository.name}` };
      }
    } catch (caught) {
      const error = this.describe(caught, repository, 'read the repository');
      if (error instanceof RepositoryAuthError) return { ok: false, reason: 'auth-failed', message: error.message };
      if (error instanceof GitHubApiError) {
        return { ok: false, reason: error.status === 403 ? 'auth-failed' : 'unreachable', message: error.message };
      }
      throw error;
    }
    return access;
  }
}
