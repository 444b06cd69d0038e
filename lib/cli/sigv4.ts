// Signs requests to a deployed Cahoots API (API Gateway with AWS_IAM on every route) with SigV4,
// service `execute-api`, using the default AWS credential chain — the same identity the AWS CLI
// would use (environment, SSO, profiles, instance roles).
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { RequestSigner } from './api-client';
import { UsageError } from './errors';

/** `https://<id>.execute-api.<region>.amazonaws.com[.cn]/<stage>` names its region; a custom domain does not. */
export function regionOfEndpoint(url: URL, env: NodeJS.ProcessEnv = process.env): string {
  const fromHost = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
  const region = fromHost ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new UsageError(`--endpoint ${url.origin} does not name an AWS region; set AWS_REGION to the region the API is deployed in`, '--endpoint');
  }
  return region;
}

export function parseEndpoint(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--endpoint must be the API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1; got ${JSON.stringify(value)}`, '--endpoint');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--endpoint must be an http(s) URL; got ${JSON.stringify(value)}`, '--endpoint');
  }
  return url;
}

export function createSigV4Signer(options: { region: string; credentials?: AwsCredentialIdentityProvider }): RequestSigner {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials ?? fromNodeProviderChain(),
    sha256: Sha256,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = value;
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      // `host` must be signed; fetch sends the same value.
      headers: { ...headers, host: url.host },
      ...(body !== undefined ? { body } : {}),
    });
    const out: Record<string, string> = {};
    // fetch sets Host itself and refuses to be told.
    for (const [name, value] of Object.entries(signed.headers)) if (name.toLowerCase() !== 'host') out[name] = String(value);
    return out;
  };
}
