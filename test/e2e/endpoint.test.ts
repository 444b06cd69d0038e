// `--endpoint`: the commands talk to a deployed API with SigV4-signed requests. A stand-in for API
// Gateway checks each signature by computing it again from the request it received (service
// execute-api, the region, the caller's keys), strips the stage and hands the request to the real
// route handlers over dynalite — so a request that is not signed exactly right is refused.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetApiDependencies, setApiDependencies } from '../../lib/api/dependencies';
import { routeHttpRequest } from '../../lib/local/api-router';
import { createStore } from '../../lib/store/index';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { cliEnv, runCli } from './support';

const KEYS = { accessKeyId: 'AKIDEXAMPLECAHOOTS01', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const REGION = 'eu-west-1';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The signature this request should carry, computed from what arrived. */
async function expectedAuthorization(req: IncomingMessage, body: string): Promise<string | undefined> {
  const authorization = String(req.headers.authorization ?? '');
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!date) return undefined;
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? '');
  const signer = new SignatureV4({ service: 'execute-api', region: REGION, credentials: KEYS, sha256: Sha256 });
  const signed = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: Object.fromEntries(url.searchParams), headers, ...(body ? { body } : {}) },
    { signingDate: new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!)) },
  );
  return String(signed.headers.authorization);
}

describe('commands against a deployed API (--endpoint)', () => {
  let dynamo: LocalDynamo;
  let server: Server;
  let endpoint: string;
  let projectId: string;
  let goalId: string;
  const seen: Array<{ path: string; authorization: string; verified: boolean }> = [];

  beforeAll(async () => {
    dynamo = await startDynalite();
    const store = createStore(dynamo.store);
    setApiDependencies({ store, pipeline: { startGoal: async () => ({ executionId: 'x' }), stopGoal: async () => {} }, callbacks: { succeed: async () => {}, fail: async () => {}, heartbeat: async () => {} } });
    const project = await store.projects.create({ name: 'shop', repo: { url: 'https://github.com/acme/shop.git' } });
    projectId = project.id;
    goalId = (await store.goals.create({ projectId, title: 'Rate-limit the login endpoint' })).id;

    server = createServer((req, res) => {
      (async () => {
        const body = await readBody(req);
        const authorization = String(req.headers.authorization ?? '');
        const verified = authorization !== '' && authorization === (await expectedAuthorization(req, body));
        const url = new URL(req.url ?? '/', 'http://gateway');
        seen.push({ path: url.pathname, authorization, verified });
        if (!verified) {
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: authorization ? 'INVALID_SIGNATURE' : 'MISSING_AUTHENTICATION_TOKEN', message: 'The request signature we calculated does not match the signature you provided.' } }));
          return;
        }
        const result = await routeHttpRequest({ method: req.method ?? 'GET', path: url.pathname.replace(/^\/v1/, ''), query: Object.fromEntries(url.searchParams), headers: req.headers, ...(body ? { body } : {}), principal: `arn:aws:iam::123456789012:user/${KEYS.accessKeyId}`, stage: 'v1' });
        res.writeHead(result.statusCode, result.headers as Record<string, string>);
        res.end(result.body);
      })().catch((error: unknown) => {
        // The CLI then fails with this text, so the test shows what broke in the gateway.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`test gateway failed: ${String(error)}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });

  afterAll(async () => {
    resetApiDependencies();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await dynamo?.stop();
  });

  const env = (secret = KEYS.secretAccessKey) =>
    cliEnv({ AWS_ACCESS_KEY_ID: KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined, AWS_REGION: REGION });

  it('signs every request so the gateway accepts it, and prints the project', async () => {
    const result = await runCli(['status', '--endpoint', endpoint, '--project', projectId, '--json'], { env: env() });
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { projects: Array<{ id: string; goals: Array<{ id: string; status: string }> }> };
    expect(doc.projects).toMatchObject([{ id: projectId, goals: [{ id: goalId, status: 'PENDING' }] }]);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((s) => s.verified)).toBe(true);
    expect(seen[0]!.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${KEYS.accessKeyId}/\\d{8}/${REGION}/execute-api/aws4_request, SignedHeaders=[^ ]*host`));
  });

  it('signs query strings and bodies too', async () => {
    const events = await runCli(['events', goalId, '--endpoint', endpoint, '--after', '0'], { env: env() });
    expect(events.code, events.stderr).toBe(0);
    const cancelled = await runCli(['cancel', goalId, '--endpoint', endpoint, '--reason', 'superseded by a new plan'], { env: env() });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`Cancelled ${goalId}; it is CANCELLED`);
    expect(seen.every((s) => s.verified)).toBe(true);
  });

  it('reports a refused signature in one line with exit 1', async () => {
    const result = await runCli(['status', '--endpoint', endpoint, '--project', projectId], { env: env('not-the-secret') });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^cahoots: INVALID_SIGNATURE \(403\): The request signature we calculated does not match/);
  });

  it('needs --project with --endpoint, since the deployed API does not list projects', async () => {
    const result = await runCli(['status', '--endpoint', endpoint], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--project is required with --endpoint/);
  });
});
