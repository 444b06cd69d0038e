// The cell side of dependency setup: the agent worker fetches a CodeArtifact read token (a signed
// GetAuthorizationToken call, here answered by a loopback fake of CodeArtifact's REST API) and
// invokes the setup function with the registry URL and token in the request; the function's own
// lib code installs on a real directory. Lambda has no local stand-in, so its client is mocked.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAwsPortsConfig } from '../../lib/ports/aws/config';
import { CodeArtifactRegistry, RegistryTokenError } from '../../lib/ports/aws/codeartifact-registry';
import { LambdaCommandRunner, SetupFunctionNotConfiguredError } from '../../lib/ports/aws/lambda-command-runner';
import { SetupRequestSchema } from '../../lib/ports/command-runner';
import { serveSetupRequest } from '../../lib/workspace/dependency-setup';

const lambda = mockClient(LambdaClient);
// Tests share a worker: the next file must meet the real client, not this mock.
afterAll(() => {
  lambda.restore();
});
afterEach(() => lambda.reset());

const base = mkdtempSync(join(tmpdir(), 'cahoots-setup-port-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const PROJECT = 'prj_01J9Z3Q4X8M2N5P7R9T1V3W5Y7';
const NPM_URL = 'https://cahoots-acme-210987654321.d.codeartifact.us-east-1.amazonaws.com/npm/npm/';
const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session' });
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

// A fake of CodeArtifact's GetAuthorizationToken: checks the SigV4 header names the service and
// answers a token with an expiry, or the status the test asks for.
let server: Server;
let endpoint: string;
let answerStatus = 200;
const seen: { method: string; url: string; authorization: string }[] = [];
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: String(req.headers.authorization ?? '') });
    req.resume();
    req.on('end', () => {
      if (answerStatus !== 200) {
        res.writeHead(answerStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'User is not authorized to perform: codeartifact:GetAuthorizationToken' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ authorizationToken: `token-${seen.length}`, expiration: Math.floor(Date.now() / 1000) + 900 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  seen.length = 0;
  answerStatus = 200;
});

const registry = () =>
  new CodeArtifactRegistry({
    domain: 'cahoots-acme',
    domainOwner: '210987654321',
    registryUrl: NPM_URL,
    region: 'us-east-1',
    credentials,
    env: { AWS_ENDPOINT_URL_CODEARTIFACT: endpoint },
  });

describe('CodeArtifactRegistry', () => {
  it('asks for a 15-minute token on the one domain with a SigV4 signature for codeartifact, and reuses it while fresh', async () => {
    const access = registry();
    await expect(access.access()).resolves.toEqual({ url: NPM_URL, token: 'token-1' });
    await expect(access.access()).resolves.toEqual({ url: NPM_URL, token: 'token-1' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    const url = new URL(seen[0]!.url, endpoint);
    expect(url.pathname).toBe('/v1/authorization-token');
    expect(Object.fromEntries(url.searchParams)).toEqual({ domain: 'cahoots-acme', 'domain-owner': '210987654321', duration: '900' });
    expect(seen[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/codeartifact\/aws4_request/);
  });

  it('reports a refusal as a permanent error naming the domain', async () => {
    answerStatus = 403;
    const error = await registry().access().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryTokenError);
    expect(error).toMatchObject({ permanent: true });
    expect((error as Error).message).toMatch(/refused a registry token for domain cahoots-acme \(HTTP 403\)/);
  });
});

describe('LambdaCommandRunner.setup', () => {
  it('invokes the setup function with the registry and a fresh token, and the function installs with them', async () => {
    const agentView = join(base, 'workspace');
    const copy = 'acme/goal_A/task_B';
    mkdirSync(join(agentView, copy), { recursive: true });
    writeFileSync(join(agentView, copy, 'package-lock.json'), '{"lockfileVersion":3}');
    // The install records the ~/.npmrc it was given, as npm would read it.
    writeFileSync(
      join(agentView, copy, 'install.mjs'),
      "import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'; import { homedir } from 'node:os';\n" +
        "mkdirSync('node_modules', { recursive: true }); writeFileSync('../npmrc-seen', readFileSync(homedir() + '/.npmrc', 'utf8'));\n",
    );
    lambda.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => ({
      StatusCode: 200,
      Payload: encode(await serveSetupRequest(JSON.parse(new TextDecoder().decode(input.Payload)), { workspaceRoot: agentView })),
    }));
    const runner = new LambdaCommandRunner({
      functionName: 'cahoots-acme-sandbox',
      setupFunctionName: 'cahoots-acme-dependency-setup',
      registry: registry(),
      workspaceRoot: agentView,
      client: new LambdaClient({ region: 'us-east-1' }),
    });
    const result = await runner.setup({ workingCopy: copy, projectId: PROJECT, commands: [['node', 'install.mjs']], timeoutMs: 30_000 });
    expect(result).toMatchObject({ status: 'installed', cacheKey: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call!.args[0].input).toMatchObject({ FunctionName: 'cahoots-acme-dependency-setup', InvocationType: 'RequestResponse' });
    const sent = SetupRequestSchema.parse(JSON.parse(new TextDecoder().decode(call!.args[0].input.Payload as Uint8Array)));
    expect(sent.registry).toEqual({ url: NPM_URL, token: 'token-1' });
    expect(readFileSync(join(agentView, 'acme/goal_A/npmrc-seen'), 'utf8')).toContain(
      '//cahoots-acme-210987654321.d.codeartifact.us-east-1.amazonaws.com/npm/npm/:_authToken=token-1',
    );
  });

  it('refuses setup in a cell whose environment names no setup function', async () => {
    const runner = new LambdaCommandRunner({ functionName: 'cahoots-acme-sandbox', workspaceRoot: '/mnt/workspace', client: new LambdaClient({ region: 'us-east-1' }) });
    const error = await runner.setup({ workingCopy: 'a/b', projectId: PROJECT, timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupFunctionNotConfiguredError);
    expect((error as Error).message).toContain('SETUP_FUNCTION_NAME');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('the CodeArtifact settings of the AWS ports', () => {
  it('must come all together, naming the missing variables', () => {
    expect(() => parseAwsPortsConfig({ codeArtifactDomain: 'cahoots-acme' })).toThrow(
      /CODEARTIFACT_DOMAIN_OWNER must be set together with CODEARTIFACT_DOMAIN.*CODEARTIFACT_NPM_URL must be set together with CODEARTIFACT_DOMAIN/,
    );
    expect(() => parseAwsPortsConfig({ codeArtifactDomain: 'cahoots-acme', codeArtifactDomainOwner: '210987654321', codeArtifactNpmUrl: 'https://evil.example/' })).toThrow(
      /CODEARTIFACT_NPM_URL must be a CodeArtifact npm endpoint/,
    );
    expect(parseAwsPortsConfig({ codeArtifactDomain: 'cahoots-acme', codeArtifactDomainOwner: '210987654321', codeArtifactNpmUrl: NPM_URL })).toMatchObject({
      codeArtifactNpmUrl: NPM_URL,
    });
  });
});
