// Named errors of the repository port. `stepFunctionsError` (`Repository.<code>`) is what Step
// Functions sees as the error type, so a state's Catch can match it; messages name the repository,
// branch or secret a person must fix and never contain a credential.
import { CahootsError } from '../../domain/errors';

/**
 * Base class: every failure of a RepositoryHost adapter. Not permanent unless a class says so: a
 * push the host refused or an unreachable host may work on a later try.
 */
export class RepositoryHostError extends CahootsError {
  readonly code: string = 'Failed';
  readonly permanent: boolean = false;

  get stepFunctionsError(): string {
    return `Repository.${this.code}`;
  }
}

/** A repository URL or setting no adapter can work with (ssh://, plain http:// to a remote host …). */
export class UnsupportedRepositoryError extends RepositoryHostError {
  override readonly code = 'NotSupported';
  override readonly permanent = true;
}

/** The host refused the credentials, or none are configured. */
export class RepositoryAuthError extends RepositoryHostError {
  override readonly code = 'AuthFailed';
  override readonly permanent = true;
}

/** The host did not answer as a git server (network, DNS, TLS, HTTP errors other than auth). */
export class RepositoryUnreachableError extends RepositoryHostError {
  override readonly code = 'Unreachable';
}

/** A credential secret exists but does not have the documented shape. */
export class InvalidCredentialsSecretError extends RepositoryHostError {
  override readonly code = 'InvalidCredentials';
  override readonly permanent = true;
  constructor(
    readonly secretName: string,
    reason: string,
  ) {
    super(`The secret ${secretName} ${reason}`);
  }
}

/** The project's default branch does not exist on the remote. */
export class DefaultBranchMissingError extends RepositoryHostError {
  override readonly code = 'DefaultBranchMissing';
  override readonly permanent = true;
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
  override readonly code = 'RemoteBranchMoved';
  override readonly permanent = true;
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
  override readonly code = 'BranchNotFound';
  override readonly permanent = true;
  constructor(readonly branch: string) {
    super(`the branch ${branch} does not exist in the workspace; nothing to publish`);
  }
}

/** Pull requests and issue comments need a host with an API (GitHub); plain git and local paths have none. */
export class PullRequestsNotSupportedError extends RepositoryHostError {
  override readonly code = 'PullRequestsNotSupported';
  override readonly permanent = true;
  constructor(where: string) {
    super(`${where} is not hosted on GitHub, so no pull request or comment can be made there; deliver the branch instead`);
  }
}

/** The GitHub REST API answered a call with an error. */
export class GitHubApiError extends RepositoryHostError {
  override readonly code = 'GitHubApiFailed';
  override readonly permanent: boolean;
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    detail: string,
  ) {
    super(`GitHub API: ${operation} failed${status ? ` with HTTP ${status}` : ''}: ${detail}`);
    // A 4xx other than a conflict (409) or throttling (429) fails again unchanged.
    this.permanent = status !== undefined && status >= 400 && status < 500 && status !== 409 && status !== 429;
  }

}
