// The git side of remote repositories, over isomorphic-git's HTTP transport (no git binary in
// Lambda): a bare mirror per project under the workspace root, fetched for every goal; publishing
// a goal branch with a compare-and-swap push; and a read-only access check (`git ls-remote`).
//
// Layout: `<root>/mirrors/<projectId>.git` is a bare repository whose `origin` is the project URL
// (never with credentials in it). `refs/heads/<default branch>` follows the remote's default branch;
// goal and task branches are written by GitWorkspace into the same repository, so its task working
// copies share the mirror's object store. `<root>/mirrors/<projectId>.git.lock` serialises clone and
// fetch across processes (Lambda environments on one EFS file system).
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import git, { Errors } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { ProjectIdSchema } from '../../domain/ids';
import { logger } from '../../powertools';
import { withLock } from '../../workspace/file-lock';
import { gitFs } from '../../workspace/git-fs';
import { readRef, updateRef } from '../../workspace/refs';
import type { PreparedRepository, PublishedBranch, RepositoryAccess } from '../repository-host';
import type { CredentialSource } from './credentials';
import {
  BranchNotFoundError,
  DefaultBranchMissingError,
  RemoteBranchMovedError,
  RepositoryAuthError,
  RepositoryHostError,
  RepositoryUnreachableError,
} from './errors';

/** A remote repository and where its credentials come from. */
export interface GitRemote {
  /** https:// (or loopback http://) URL without credentials. */
  url: string;
  credentials: CredentialSource;
}

/** Folder of the mirrors under the workspace root. */
export const MIRRORS_DIR = 'mirrors';
/** A clone or fetch touches its lock at least this often; an untouched lock is taken over after this. */
export const MIRROR_LOCK_STALE_MS = 60_000;
/** How long a prepare waits for another process's clone or fetch of the same mirror. */
export const MIRROR_LOCK_TIMEOUT_MS = 10 * 60_000;

const ZERO_SHA = '0000000000000000000000000000000000000000';

export function mirrorDir(root: string, projectId: string): string {
  return join(root, MIRRORS_DIR, `${ProjectIdSchema.parse(projectId)}.git`);
}

/**
 * isomorphic-git answers a 401 by calling onAuth once and, if that is refused too, onAuthFailure;
 * returning nothing from the latter ends the attempt with HttpError 401, which describeGitError
 * turns into RepositoryAuthError.
 */
function authCallbacks(remote: GitRemote) {
  return {
    onAuth: async () => remote.credentials.gitCredential(),
    onAuthFailure: () => undefined,
  };
}

/** A failure of the transport as one of the port's errors, naming the URL and the secrets to check. */
export function describeGitError(error: unknown, remote: GitRemote, doing: string): Error {
  if (error instanceof RepositoryHostError) return error;
  if (error instanceof Errors.HttpError) {
    const status = error.data.statusCode;
    if (status === 401 || status === 403) {
      return new RepositoryAuthError(
        `${remote.url} refused the credentials while ${doing} (HTTP ${status}); check the secret ${remote.credentials.secretNames.join(' or ')} ` +
          'and that it may read and push to this repository',
        { cause: error },
      );
    }
    if (status === 404) {
      return new RepositoryUnreachableError(
        `${remote.url} was not found while ${doing} (HTTP 404): the repository does not exist or the credentials cannot see it`,
        { cause: error },
      );
    }
    return new RepositoryUnreachableError(`${remote.url} answered HTTP ${status} while ${doing}`, { cause: error });
  }
  if (error instanceof Errors.SmartHttpError || error instanceof Errors.ParseError) {
    return new RepositoryUnreachableError(`${remote.url} did not answer as a git server while ${doing}: ${error.message}`, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // Node's socket and TLS errors (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED …); isomorphic-git's own codes are CamelCase.
  if (typeof code === 'string' && /^(E[A-Z]+$|ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code)) {
    return new RepositoryUnreachableError(`${remote.url} could not be reached while ${doing} (${code})`, { cause: error });
  }
  return error instanceof Error ? error : new RepositoryHostError(String(error));
}

/**
 * What `git ls-remote` would tell, with the credentials used for pushing: the push side is asked,
 * because a token that may only read would fail at delivery.
 */
export async function checkRemoteAccess(remote: GitRemote, defaultBranch: string): Promise<RepositoryAccess> {
  try {
    const info = await git.getRemoteInfo({ http, url: remote.url, forPush: true, ...authCallbacks(remote) });
    const heads = (info.refs as { heads?: Record<string, string> } | undefined)?.heads ?? {};
    const sha = heads[defaultBranch];
    if (!sha) {
      return { ok: false, reason: 'default-branch-missing', message: new DefaultBranchMissingError(remote.url, defaultBranch).message };
    }
    return { ok: true, defaultBranchSha: sha };
  } catch (caught) {
    const error = describeGitError(caught, remote, 'checking access');
    if (error instanceof RepositoryAuthError) return { ok: false, reason: 'auth-failed', message: error.message };
    if (error instanceof RepositoryUnreachableError) return { ok: false, reason: 'unreachable', message: error.message };
    throw error;
  }
}

/** The per-project mirrors under one workspace root. */
export class GitMirrors {
  // Concurrent prepares of one mirror in this process share one fetch.
  private readonly inFlight = new Map<string, Promise<PreparedRepository>>();

  constructor(readonly root: string) {}

  /** Clones the mirror once, then fetches the default branch and moves the local one to it. */
  prepare(projectId: string, remote: GitRemote, defaultBranch: string): Promise<PreparedRepository> {
    const dir = mirrorDir(this.root, projectId);
    const running = this.inFlight.get(dir);
    if (running) return running;
    const preparing = fsp
      .mkdir(join(this.root, MIRRORS_DIR), { recursive: true })
      .then(() =>
        withLock(`${dir}.lock`, { staleMs: MIRROR_LOCK_STALE_MS, timeoutMs: MIRROR_LOCK_TIMEOUT_MS }, () => this.cloneOrFetch(dir, remote, defaultBranch)),
      )
      .finally(() => this.inFlight.delete(dir));
    this.inFlight.set(dir, preparing);
    return preparing;
  }

  private async cloneOrFetch(dir: string, remote: GitRemote, defaultBranch: string): Promise<PreparedRepository> {
    const exists = await fsp.stat(join(dir, 'HEAD')).then(
      () => true,
      () => false,
    );
    if (exists) {
      // The URL lives in the mirror's config; keep it the project's (credentials never go there).
      if ((await git.getConfig({ fs: gitFs, gitdir: dir, path: 'remote.origin.url' })) !== remote.url) {
        await git.setConfig({ fs: gitFs, gitdir: dir, path: 'remote.origin.url', value: remote.url });
      }
      const sha = await this.fetchDefaultBranch(dir, remote, defaultBranch);
      logger.info('repository mirror fetched', { mirror: dir, defaultBranch, sha });
      return { repoDir: dir, defaultBranchSha: sha };
    }
    // Built under a temporary name and renamed into place, so a failed clone leaves no half mirror.
    const building = `${dir}.cloning-${randomBytes(6).toString('hex')}`;
    try {
      await git.init({ fs: gitFs, gitdir: building, bare: true, defaultBranch });
      await git.setConfig({ fs: gitFs, gitdir: building, path: 'remote.origin.url', value: remote.url });
      await git.setConfig({ fs: gitFs, gitdir: building, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
      const sha = await this.fetchDefaultBranch(building, remote, defaultBranch);
      await fsp.rename(building, dir);
      logger.info('repository mirror cloned', { mirror: dir, defaultBranch, sha });
      return { repoDir: dir, defaultBranchSha: sha };
    } catch (error) {
      await fsp.rm(building, { recursive: true, force: true });
      throw error;
    }
  }

  private async fetchDefaultBranch(gitdir: string, remote: GitRemote, defaultBranch: string): Promise<string> {
    let fetched: string | null;
    try {
      const result = await git.fetch({
        fs: gitFs,
        http,
        gitdir,
        remote: 'origin',
        ref: defaultBranch,
        singleBranch: true,
        tags: false,
        ...authCallbacks(remote),
      });
      fetched = result.fetchHead;
    } catch (error) {
      if (error instanceof Errors.NotFoundError) throw new DefaultBranchMissingError(remote.url, defaultBranch);
      throw describeGitError(error, remote, `fetching ${defaultBranch}`);
    }
    if (!fetched) throw new DefaultBranchMissingError(remote.url, defaultBranch);
    // Only this mirror lock's holder writes the default branch; GitWorkspace branches goals from it.
    await updateRef(gitdir, { ref: `refs/heads/${defaultBranch}`, value: fetched });
    return fetched;
  }

  /**
   * Pushes `branch` from the mirror to the same name on the remote, compare-and-swap: the push
   * names the remote commit it replaces, the remote commit must be an ancestor of ours, and the
   * server refuses the update if the branch moved after we looked. Never forced.
   */
  async publish(projectId: string, remote: GitRemote, branch: string): Promise<PublishedBranch> {
    const gitdir = mirrorDir(this.root, projectId);
    const ref = `refs/heads/${branch}`;
    const local = await readRef(gitdir, ref).catch(() => null);
    if (!local) throw new BranchNotFoundError(branch);
    let remoteSha = ZERO_SHA;
    try {
      await git.push({
        fs: gitFs,
        http,
        gitdir,
        remote: 'origin',
        ref,
        remoteRef: ref,
        ...authCallbacks(remote),
        onPrePush: ({ remoteRef }) => {
          remoteSha = remoteRef.oid;
          // Already there: nothing to send.
          return remoteSha !== local;
        },
      });
    } catch (error) {
      if (error instanceof Errors.UserCanceledError && remoteSha === local) {
        return { branch, sha: local, unchanged: true };
      }
      if (error instanceof Errors.PushRejectedError) throw new RemoteBranchMovedError(branch, remoteSha, local);
      if (error instanceof Errors.GitPushError) {
        const reason = error.data.result.refs[ref]?.error ?? error.message;
        if (/stale info|fetch first|non-fast-forward|failed to lock|cannot lock|failed to update ref/i.test(reason)) {
          // The server's own compare-and-swap: the branch moved between our look and our push.
          throw new RemoteBranchMovedError(branch, remoteSha === ZERO_SHA ? '(created meanwhile)' : `${remoteSha} or later`, local);
        }
        // Branch protection, a pre-receive hook, a full disk: the server's words say which.
        throw new RepositoryHostError(`${remote.url} refused the push of ${branch}: ${reason}`, { cause: error });
      }
      throw describeGitError(error, remote, `pushing ${branch}`);
    }
    logger.info('goal branch pushed', { branch, sha: local, previous: remoteSha });
    return { branch, sha: local, unchanged: false };
  }
}
