// Credentials for git hosts, read through the secrets port and kept in memory only: they reach git
// through isomorphic-git's onAuth callback and the REST API through Octokit, never a URL, a file,
// an environment variable or a log line. GitHub App installation tokens are minted with
// @octokit/auth-app and reused until shortly before they expire.
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import * as z from 'zod';
import type { Secrets } from '../index';
import { InvalidCredentialsSecretError, RepositoryAuthError } from './errors';

/** Secret names the repository adapters read (documented in docs/workspace.md). */
export const REPOSITORY_SECRETS = {
  /** GitHub App: JSON `{ "appId", "privateKey", "installationId" }`. Preferred over a token when both exist. */
  githubApp: 'github/app',
  /** GitHub fine-grained personal access token (or classic token). */
  githubToken: 'github/token',
  /** Password or access token for plain HTTPS git hosts. */
  gitToken: 'git/token',
  /** User name sent with `git/token`; optional. */
  gitUsername: 'git/username',
} as const;

/** What git's HTTP basic auth sends. */
export interface GitCredential {
  username: string;
  password: string;
}

/** Where the credentials for a remote come from; the adapters hand this to the git transport. */
export interface CredentialSource {
  /** The credential to answer a 401 with; throws RepositoryAuthError when none is configured. */
  gitCredential(): Promise<GitCredential>;
  /** Secret names to mention when the host refuses the credential. */
  readonly secretNames: readonly string[];
}

/** Username for `git/token` when `git/username` is unset; most hosts ignore it for token auth. */
export const DEFAULT_GIT_USERNAME = 'x-access-token';

/** Plain HTTPS git: `git/token` with an optional `git/username`. */
export class GitTokenCredentials implements CredentialSource {
  readonly secretNames = [REPOSITORY_SECRETS.gitToken, REPOSITORY_SECRETS.gitUsername];

  constructor(private readonly secrets: Secrets) {}

  async gitCredential(): Promise<GitCredential> {
    const password = await this.secrets.get(REPOSITORY_SECRETS.gitToken);
    if (!password) {
      throw new RepositoryAuthError(`the git host asks for credentials and none are configured: store the access token as the secret ${REPOSITORY_SECRETS.gitToken}`);
    }
    const username = (await this.secrets.get(REPOSITORY_SECRETS.gitUsername)) || DEFAULT_GIT_USERNAME;
    return { username, password };
  }
}

const GitHubAppSecretSchema = z.object({
  appId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]),
  privateKey: z.string().includes('PRIVATE KEY', { message: 'must be the PEM private key of the app' }),
  installationId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]),
});
export type GitHubAppSecret = z.input<typeof GitHubAppSecretSchema>;

/** Installation tokens live an hour; one is replaced this long before it expires. */
export const INSTALLATION_TOKEN_REFRESH_MS = 5 * 60_000;

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is not used any more. */
  renewAt: number;
}

/**
 * GitHub credentials for one API base URL: a GitHub App installation token (`github/app`) or a
 * token (`github/token`). Git over HTTPS takes either as the password of `x-access-token`.
 */
export class GitHubCredentials implements CredentialSource {
  readonly secretNames = [REPOSITORY_SECRETS.githubApp, REPOSITORY_SECRETS.githubToken];
  private installationToken: CachedToken | undefined;
  private minting: Promise<CachedToken> | undefined;
  private appAuth: { secretText: string; auth: ReturnType<typeof createAppAuth> } | undefined;

  constructor(
    private readonly secrets: Secrets,
    private readonly apiUrl: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token for the REST API and git. */
  async token(): Promise<string> {
    const appText = await this.secrets.get(REPOSITORY_SECRETS.githubApp);
    if (appText) return this.installationTokenFor(appText);
    const token = await this.secrets.get(REPOSITORY_SECRETS.githubToken);
    if (token) return token;
    throw new RepositoryAuthError(
      `no GitHub credentials are configured: store a GitHub App as the secret ${REPOSITORY_SECRETS.githubApp} ` +
        `({"appId", "privateKey", "installationId"}) or a fine-grained token as ${REPOSITORY_SECRETS.githubToken}`,
    );
  }

  async gitCredential(): Promise<GitCredential> {
    return { username: 'x-access-token', password: await this.token() };
  }

  /** Forgets a cached installation token, e.g. after the host refused it. */
  forget(): void {
    this.installationToken = undefined;
  }

  private async installationTokenFor(secretText: string): Promise<string> {
    const cached = this.installationToken;
    if (cached && this.now() < cached.renewAt && this.appAuth?.secretText === secretText) return cached.token;
    this.minting ??= this.mint(secretText).finally(() => {
      this.minting = undefined;
    });
    this.installationToken = await this.minting;
    return this.installationToken.token;
  }

  private async mint(secretText: string): Promise<CachedToken> {
    if (this.appAuth?.secretText !== secretText) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(secretText);
      } catch {
        throw new InvalidCredentialsSecretError(REPOSITORY_SECRETS.githubApp, 'is not JSON; it must be {"appId", "privateKey", "installationId"}');
      }
      const result = GitHubAppSecretSchema.safeParse(parsed);
      if (!result.success) {
        const fields = result.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
        throw new InvalidCredentialsSecretError(REPOSITORY_SECRETS.githubApp, `is not a valid GitHub App credential: ${fields}`);
      }
      const { appId, privateKey, installationId } = result.data;
      const auth = createAppAuth({
        appId,
        privateKey,
        installationId,
        // The same base URL as the REST calls, so GitHub Enterprise Server mints its own tokens.
        request: new Octokit({ baseUrl: this.apiUrl, log: quietLog }).request,
      });
      this.appAuth = { secretText, auth };
    }
    try {
      // `refresh`: our own expiry rule decides, not auth-app's cache.
      const minted = await this.appAuth.auth({ type: 'installation', refresh: true });
      const expiresAt = Date.parse(minted.expiresAt);
      return { token: minted.token, renewAt: (Number.isNaN(expiresAt) ? this.now() + 3_600_000 : expiresAt) - INSTALLATION_TOKEN_REFRESH_MS };
    } catch (error) {
      const status = (error as { status?: number }).status;
      throw new RepositoryAuthError(
        `GitHub refused to issue an installation token for the app in ${REPOSITORY_SECRETS.githubApp}` +
          `${status ? ` (HTTP ${status})` : ''}: check appId, privateKey and installationId, and that the app is installed on the repository`,
        { cause: error },
      );
    }
  }
}

/** Octokit's logger, minus the console output Lambda would otherwise collect unstructured. */
export const quietLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
