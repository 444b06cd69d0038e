// Registry access for dependency installs in cells without egress: a short-lived, read-only
// CodeArtifact authorization token for the cell's npm repository, fetched by the agent worker
// (which holds codeartifact:GetAuthorizationToken and sts:GetServiceBearerToken on the one domain)
// and handed to the setup function in the install request, so that function needs no AWS
// credentials of its own. One signed REST call (GetAuthorizationToken) with the SDK's credential
// chain; the endpoint follows AWS_ENDPOINT_URL_CODEARTIFACT like an SDK client's would.
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import * as z from 'zod';
import type { RegistryAccess } from '../command-runner';
import { PortError } from '../errors';

/** CodeArtifact's shortest token life (15 minutes): an install that outlives it needs no new downloads. */
export const TOKEN_DURATION_SECONDS = 900;
/** A cached token is fetched again once less than this is left of it. */
const RENEW_BEFORE_MS = 5 * 60_000;

/** CodeArtifact refused or failed the token request; transient unless it was a permissions problem. */
export class RegistryTokenError extends PortError {
  readonly code = 'RegistryToken';
  constructor(
    message: string,
    override readonly permanent: boolean,
  ) {
    super(message);
  }
}

const TokenResponseSchema = z.object({
  authorizationToken: z.string().min(1),
  /** Epoch seconds. */
  expiration: z.number(),
});

export interface CodeArtifactRegistryOptions {
  domain: string;
  /** The account that owns the domain (the cell's). */
  domainOwner: string;
  /** The repository's npm endpoint, ending in "/", e.g. https://<domain>-<owner>.d.codeartifact.<region>.amazonaws.com/npm/<repo>/ */
  registryUrl: string;
  region: string;
  credentials?: AwsCredentialIdentityProvider;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  now?: () => number;
}

export class CodeArtifactRegistry {
  private cached: { access: RegistryAccess; expiresAt: number } | undefined;
  private readonly signer: SignatureV4;
  private readonly endpoint: URL;

  constructor(private readonly options: CodeArtifactRegistryOptions) {
    this.signer = new SignatureV4({
      service: 'codeartifact',
      region: options.region,
      credentials: options.credentials ?? fromNodeProviderChain(),
      sha256: Sha256,
    });
    const env = options.env ?? process.env;
    this.endpoint = new URL(env.AWS_ENDPOINT_URL_CODEARTIFACT || env.AWS_ENDPOINT_URL || `https://codeartifact.${options.region}.amazonaws.com`);
  }

  /** The repository URL and a token that stays valid for at least a few minutes. */
  async access(): Promise<RegistryAccess> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && this.cached.expiresAt - now > RENEW_BEFORE_MS) return this.cached.access;
    const query = { domain: this.options.domain, 'domain-owner': this.options.domainOwner, duration: String(TOKEN_DURATION_SECONDS) };
    const path = `${this.endpoint.pathname.replace(/\/$/, '')}/v1/authorization-token`;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.endpoint.protocol,
      hostname: this.endpoint.hostname,
      ...(this.endpoint.port ? { port: Number(this.endpoint.port) } : {}),
      path,
      query,
      headers: { host: this.endpoint.host, 'content-type': 'application/json' },
      body: '',
    });
    const url = new URL(path, this.endpoint);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, { method: 'POST', headers: signed.headers as Record<string, string>, body: '' });
    } catch (error) {
      throw new RegistryTokenError(`CodeArtifact could not be reached for a registry token: ${(error as Error).message}`, false);
    }
    const text = await response.text();
    if (!response.ok) {
      // 401/403: the worker's role lacks the token permissions, which no retry fixes.
      const permanent = response.status === 401 || response.status === 403;
      throw new RegistryTokenError(`CodeArtifact refused a registry token for domain ${this.options.domain} (HTTP ${response.status}): ${text.slice(0, 300)}`, permanent);
    }
    let parsed: z.infer<typeof TokenResponseSchema>;
    try {
      parsed = TokenResponseSchema.parse(JSON.parse(text));
    } catch {
      throw new RegistryTokenError(`CodeArtifact answered the token request with something unexpected: ${text.slice(0, 200)}`, false);
    }
    const access: RegistryAccess = { url: this.options.registryUrl, token: parsed.authorizationToken };
    this.cached = { access, expiresAt: parsed.expiration * 1000 };
    return access;
  }
}
