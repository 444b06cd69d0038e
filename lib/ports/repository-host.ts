// Where a project's repository lives: a local path, any HTTPS git remote, or GitHub. The pipeline
// and the agent workers ask this port for a checkout and hand it the finished goal branch; they
// never look at `repo.path` or `repo.url` themselves. Adapters: local path, HTTPS git with a
// token, GitHub (the same git transport plus the REST API).
import type { Goal } from '../domain/goal';
import type { Project } from '../domain/project';

/**
 * The project's git repository as the workspace sees it: a directory holding `.git` (a checkout)
 * or a bare repository under the workspace root, whose default branch is current for this goal.
 */
export interface PreparedRepository {
  /** Directory GitWorkspace.open takes as `repoDir`. */
  repoDir: string;
  /** Commit the default branch pointed at when the checkout was prepared. */
  defaultBranchSha: string;
}

/** What publishing a goal branch did. */
export interface PublishedBranch {
  /** `cahoots/<goalId>` */
  branch: string;
  sha: string;
  /** Whether the remote already had this exact commit (nothing was pushed). */
  unchanged: boolean;
}

/** The pull request that carries a goal's work, opened or found. */
export interface PullRequestRef {
  number: number;
  url: string;
  /** Whether this call opened it (false: an open PR for the branch already existed and was updated). */
  created: boolean;
}

export interface PullRequestContent {
  title: string;
  /** Markdown. */
  body: string;
  /** The goal branch. */
  head: string;
  /** The project's default branch. */
  base: string;
}

/**
 * Whether the project's repository can be reached with the configured credentials (what
 * `git ls-remote` would tell), for validating a project before it is stored.
 */
export type RepositoryAccess =
  | { ok: true; defaultBranchSha: string }
  | {
      ok: false;
      /**
       * `unreachable`: no answer from the host (DNS, network, TLS, not a git server);
       * `auth-failed`: the host refused the credentials, or there are none;
       * `default-branch-missing`: reachable, but the default branch does not exist;
       * `not-supported`: a URL or setting no adapter can work with (the message says why).
       */
      reason: 'unreachable' | 'auth-failed' | 'default-branch-missing' | 'not-supported';
      message: string;
    };

/** An open issue as the host reports it (pull requests are not issues here). */
export interface OpenIssue {
  number: number;
  title: string;
  /** Markdown, possibly empty. */
  body: string;
  url: string;
  labels: string[];
  /** ISO timestamps. */
  createdAt: string;
  updatedAt: string;
}

/**
 * The open issues carrying a label, or why this host has none to give: a local path or a plain
 * HTTPS git remote has no issue tracker, which is not an error.
 */
export type OpenIssueListing =
  | {
      supported: true;
      /** `owner/name` on the host: what identifies an issue together with its number. */
      repository: string;
      issues: OpenIssue[];
      /** More matched than one listing reads (MAX_LISTED_ISSUES, pull requests included); the most recently updated come first. */
      truncated: boolean;
    }
  | { supported: false; reason: string };

/** The most items (issues and the pull requests the API lists with them) one listing reads: 10 pages of 100, a bounded backlog. */
export const MAX_LISTED_ISSUES = 1000;

export interface RepositoryHost {
  /**
   * Makes the project's repository available under the workspace root with its default branch
   * fetched (a per-project mirror is kept and fetched, not cloned again). Safe to call from every
   * step and worker of a goal; concurrent callers share one fetch.
   */
  prepare(project: Project, goal: Pick<Goal, 'id'>): Promise<PreparedRepository>;
  /**
   * Pushes the goal branch. Compare-and-swap: a remote branch that moved to a commit the local
   * branch does not contain fails with a clear error; never a force push.
   */
  publishBranch(project: Project, goal: Pick<Goal, 'id' | 'branch'>): Promise<PublishedBranch>;
  /** Whether the project's host can open pull requests (GitHub) or only receive branches (plain git, local). */
  supportsPullRequests(project: Project): boolean;
  /** Opens a pull request for the goal branch, or updates the open one with the new title and body. */
  openOrUpdatePullRequest(project: Project, content: PullRequestContent): Promise<PullRequestRef>;
  /** Comments on an issue or pull request of the project's repository. */
  commentOnIssue(project: Project, issueNumber: number, body: string): Promise<{ url: string }>;
  /** The open issues of the project's repository that carry `label`, most recently updated first. */
  listOpenIssues(project: Project, label: string): Promise<OpenIssueListing>;
  /** Whether a user of the host may push to the project's repository (false where the host has no users). */
  hasWriteAccess(project: Project, login: string): Promise<boolean>;
  /** Reaches the repository with the configured credentials without changing anything. */
  checkAccess(project: Project): Promise<RepositoryAccess>;
}
