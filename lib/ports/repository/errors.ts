// Named errors of the repository port. `name` is what Step Functions sees as the error type, so a
// state's Catch can match it; messages name the repository, branch or secret a person must fix and
// never contain a credential.

/** Base class: every failure of a RepositoryHost adapter. */
export class RepositoryHostError extends Error {
  override name = 'Repository.Failed';
}

/** A repository URL or setting no adapter can work with (ssh://, plain http:// to a remote host …). */
export class UnsupportedRepositoryError extends RepositoryHostError {
  override name = 'Repository.NotSupported';
}

/** The host refused the credentials, or none are configured. */
export class RepositoryAuthError extends RepositoryHostError {
  override name = 'Repository.AuthFailed';
}

/** The host did not answer as a git server (network, DNS, TLS, HTTP errors other than auth). */
export class RepositoryUnreachableError extends RepositoryHostError {
  override name = 'Repository.Unreachable';
}

/** A credential secret exists but does not have the documented shape. */
export class InvalidCredentialsSecretError extends RepositoryHostError {
  override name = 'Repository.InvalidCredentials';
  constructor(
    readonly secretName: string,
    reason: string,
  ) {
    super(`The secret ${secretName} ${reason}`);
  }
}

/** The project's default branch does not exist on the remote. */
export class DefaultBranchMissingError extends RepositoryHostError {
  override name = 'Repository.DefaultBranchMissing';
  constructor(
    readonly url: string,
    readonly branch: string,
  ) {
    super(`${url} has no branch ${branch}; set the project's repo.defaultBranch to a branch that exists`);
  }
}

/**
 * Publishing found the remote branch at a commit the local branch does not contain: someone pushed
 * to it. Nothing was pushed; a force push would have thrown their work away.
 */
export class RemoteBranchMovedError extends RepositoryHostError {
  override name = 'Repository.RemoteBranchMoved';
  constructor(
    readonly branch: string,
    readonly remoteSha: string,
    readonly localSha: string,
  ) {
    super(
      `the remote branch ${branch} is at ${remoteSha}, which the local ${branch} (${localSha}) does not contain; ` +
        'someone else pushed to it. Nothing was pushed: merge their commits into the goal or delete the remote branch, then publish again',
    );
  }
}

/** The branch to publish does not exist in the workspace. */
export class BranchNotFoundError extends RepositoryHostError {
  override name = 'Repository.BranchNotFound';
  constructor(readonly branch: string) {
    super(`the branch ${branch} does not exist in the workspace; nothing to publish`);
  }
}

/** Pull requests and issue comments need a host with an API (GitHub); plain git and local paths have none. */
export class PullRequestsNotSupportedError extends RepositoryHostError {
  override name = 'Repository.PullRequestsNotSupported';
  constructor(where: string) {
    super(`${where} is not hosted on GitHub, so no pull request or comment can be made there; deliver the branch instead`);
  }
}

/** The GitHub REST API answered a call with an error. */
export class GitHubApiError extends RepositoryHostError {
  override name = 'Repository.GitHubApiFailed';
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    detail: string,
  ) {
    super(`GitHub API: ${operation} failed${status ? ` with HTTP ${status}` : ''}: ${detail}`);
  }
}
