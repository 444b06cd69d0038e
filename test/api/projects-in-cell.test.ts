// POST /projects checks, before storing anything, that the repository can be worked on from where
// the API runs: in a cell no `repo.path` and no host beyond a cell without egress; everywhere, a
// URL the configured credentials reach (a real git smart-HTTP server with basic auth on 127.0.0.1).
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProjectRoute } from '../../lib/api/routes';
import { LocalSecrets } from '../../lib/local/secrets';
import { createRepositoryHost } from '../../lib/ports/repository/index';
import { projectStream } from '../../lib/store/index';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server';
import { createTempRepo, type TempRepo } from '../support/temp-repo';
import { expectError, expectRouteSuccess, request, startApi, type ApiTestContext } from './support';

const TOKEN = 'git-token-for-the-door-check-000000';

let api: ApiTestContext;
let server: GitHttpServer;
let source: TempRepo;
let repoUrl: string;

beforeAll(async () => {
  server = await startGitHttpServer({ password: TOKEN });
  source = createTempRepo();
  repoUrl = server.addRepository('acme', 'shop', source.dir);
});

afterAll(async () => {
  await server.close();
  source.cleanup();
});

beforeEach(async () => {
  api = await startApi();
});

afterEach(() => api.stop());

function withRepositories(token: string | undefined, deployment?: { deployment: 'local' | 'cell'; egress?: 'nat' | 'none' }) {
  const secrets = new LocalSecrets({ env: token === undefined ? {} : { CAHOOTS_SECRET_GIT_TOKEN: token } });
  api.deps.repositories = createRepositoryHost({ secrets, workspaceRoot: source.scratch });
  if (deployment) api.deps.deployment = deployment;
}

async function projectCount(): Promise<number> {
  return (await api.store.projects.list()).items.length;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('in a cell', () => {
  it('refuses repo.path with 422 naming the field, and stores nothing', async () => {
    withRepositories(TOKEN, { deployment: 'cell', egress: 'nat' });
    const response = await request('POST', '/projects', { json: { name: 'shop', repo: { path: source.dir } } });
    expectError(response, 422, 'RepositoryPathNotSupported');
    expect(response.body.error.details).toEqual([expect.objectContaining({ path: 'body.repo.path' })]);
    expect(response.body.error.message).toContain('repo.url');
    expect(await projectCount()).toBe(0);
  });

  it('says a cell without egress cannot reach the host, before asking it', async () => {
    withRepositories(TOKEN, { deployment: 'cell', egress: 'none' });
    const before = server.requests.length;
    const response = await request('POST', '/projects', { json: { name: 'shop', repo: { url: 'https://github.com/acme/shop.git' } } });
    expectError(response, 422, 'RepositoryHostUnreachable');
    expect(response.body.error.message).toContain('egress "none"');
    expect(response.body.error.message).toContain('github.com');
    expect(response.body.error.details).toEqual([expect.objectContaining({ path: 'body.repo.url' })]);
    expect(server.requests.length).toBe(before);
    expect(await projectCount()).toBe(0);
  });

  it('creates a project whose URL the credentials reach, and lists it by repository', async () => {
    withRepositories(TOKEN, { deployment: 'cell', egress: 'nat' });
    const response = await request('POST', '/projects', { json: { name: 'shop', repo: { url: repoUrl } } });
    expectRouteSuccess(createProjectRoute, response);
    expect(response.body.issueLabel).toBe('cahoots');
    expect(server.requests.some((r) => r.authorized)).toBe(true);
    const address = repoUrl.replace(/^http:\/\//, '').replace(/\.git$/, '');
    expect((await api.store.projects.findByRepository(address)).map((p) => p.id)).toEqual([response.body.id]);
  });

  it('refuses a URL the credentials do not open, with the reason', async () => {
    withRepositories('wrong-token', { deployment: 'cell', egress: 'nat' });
    const response = await request('POST', '/projects', { json: { name: 'shop', repo: { url: repoUrl } } });
    expectError(response, 422, 'RepositoryNotAccessible');
    expect(response.body.error.message).toContain('auth-failed');
    expect(response.body.error.details).toEqual([expect.objectContaining({ path: 'body.repo.url' })]);
    expect(response.raw.body).not.toContain('wrong-token');
    expect(await projectCount()).toBe(0);
  });

  it('refuses a URL nothing answers on', async () => {
    withRepositories(TOKEN, { deployment: 'cell', egress: 'nat' });
    const url = `http://127.0.0.1:${await closedPort()}/acme/shop.git`;
    const response = await request('POST', '/projects', { json: { name: 'shop', repo: { url } } });
    expectError(response, 422, 'RepositoryNotAccessible');
    expect(response.body.error.message).toContain('unreachable');
    expect(await projectCount()).toBe(0);
  });
});

describe('locally', () => {
  it('accepts repo.path and a reachable repo.url alike', async () => {
    withRepositories(TOKEN);
    const byPath = await request('POST', '/projects', { json: { name: 'here', repo: { path: source.dir } } });
    expectRouteSuccess(createProjectRoute, byPath);
    const byUrl = await request('POST', '/projects', { json: { name: 'there', repo: { url: repoUrl } } });
    expectRouteSuccess(createProjectRoute, byUrl);
    const { events } = await api.store.events.readEvents(projectStream(byUrl.body.id));
    expect(events.map((e) => e.type)).toEqual(['Project.Created']);
  });

  it('still refuses a URL the configured token does not open', async () => {
    withRepositories(undefined);
    const response = await request('POST', '/projects', { json: { name: 'shop', repo: { url: repoUrl } } });
    expectError(response, 422, 'RepositoryNotAccessible');
    expect(await projectCount()).toBe(0);
  });
});
