// The plain HTTPS git adapter (and the dispatcher) against a real `git http-backend` behind basic
// auth on 127.0.0.1: mirror clone and fetch per goal, compare-and-swap pushes, wrong or missing
// tokens, the access check, and no token on disk.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Project } from '../../lib/domain/project';
import {
  createRepositoryHost,
  DispatchingRepositoryHost,
  GitHubRepositoryHost,
  HttpsGitRepositoryHost,
  LocalPathRepositoryHost,
  mirrorDir,
  PullRequestsNotSupportedError,
  RemoteBranchMovedError,
  RepositoryAuthError,
  UnsupportedRepositoryError,
} from '../../lib/ports/repository/index';
import type { RepositoryHost } from '../../lib/ports/repository-host';
import { cahootsIdentity, GitWorkspace, goalBranchName } from '../../lib/workspace/index';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server';
import { filesContaining, secretsWith, storedProject } from '../support/repository-fixtures';
import { createTempRepo, runGit, type TempRepo } from '../support/temp-repo';

const TOKEN = 'glpat-CanaryToken-7f3e9a1c5b2d4e6f8a0b';
const PROJECT_ID = 'prj_01JDQ7ZKX3M5W8R2T4V6Y9B0CE';
const GOAL = { id: 'goal_01JDQ7ZKX3M5W8R2T4V6Y9B0CF', branch: goalBranchName('goal_01JDQ7ZKX3M5W8R2T4V6Y9B0CF') };

function project(repo: Project['repo'], id = PROJECT_ID): Project {
  return storedProject(id, repo);
}

/** A commit on the served repository's `branch`, made by someone else through a clone of their own. */
function pushAsSomeoneElse(server: GitHttpServer, source: TempRepo, branch: string, file: string): string {
  const other = join(source.scratch, `other-${Math.random().toString(36).slice(2)}`);
  runGit(source.scratch, ['clone', '--quiet', join(server.projectRoot, 'acme', 'shop.git'), other]);
  runGit(other, ['checkout', '--quiet', '-B', branch, ...(branch === 'main' ? [] : [`origin/${branch}`])].filter((a) => a !== ''));
  runGit(other, ['config', 'user.email', 'person@example.com']);
  runGit(other, ['config', 'user.name', 'Person']);
  execFileSync('sh', ['-c', `echo change > ${file}`], { cwd: other });
  runGit(other, ['add', file]);
  runGit(other, ['commit', '--quiet', '-m', `someone else: ${file}`]);
  runGit(other, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
  return runGit(other, ['rev-parse', 'HEAD']);
}

describe('HTTPS git repositories', () => {
  let server: GitHttpServer;
  let source: TempRepo;
  let url: string;
  let root: string;
  let host: RepositoryHost;

  beforeEach(async () => {
    server = await startGitHttpServer({ password: TOKEN });
    source = createTempRepo();
    url = server.addRepository('acme', 'shop', source.dir);
    root = join(source.scratch, 'workspace');
    host = createRepositoryHost({ secrets: secretsWith({ 'git/token': TOKEN }), workspaceRoot: root });
  });

  afterEach(async () => {
    await server.close();
    source.cleanup();
  });

  it('clones a mirror once, fetches it per goal, and keeps the token off the disk', async () => {
    const shop = project({ url, defaultBranch: 'main' });
    const first = await host.prepare(shop, GOAL);
    expect(first.repoDir).toBe(mirrorDir(root, PROJECT_ID));
    expect(first.defaultBranchSha).toBe(source.git('rev-parse', 'main'));

    const upstream = pushAsSomeoneElse(server, source, 'main', 'UPSTREAM.md');
    const second = await host.prepare(shop, { id: 'goal_01JDQ7ZKX3M5W8R2T4V6Y9B0CG' });
    expect(second.repoDir).toBe(first.repoDir);
    expect(second.defaultBranchSha).toBe(upstream);
    // The mirror's own default branch follows the remote, which is where goal branches start.
    expect(runGit(first.repoDir, ['rev-parse', 'refs/heads/main'])).toBe(upstream);
    // Fetched, not cloned again: one clone's worth of negotiation per prepare.
    expect(server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-upload-pack')).length).toBe(2);

    const config = readFileSync(join(first.repoDir, 'config'), 'utf8');
    expect(config).toContain(`url = ${url}`);
    expect(config).not.toContain(TOKEN);
    expect(filesContaining(root, TOKEN)).toEqual([]);
    runGit(first.repoDir, ['fsck', '--full', '--strict']);
  });

  it('shares one fetch between concurrent prepares of a project', async () => {
    const shop = project({ url, defaultBranch: 'main' });
    const results = await Promise.all([host.prepare(shop, GOAL), host.prepare(shop, GOAL), host.prepare(shop, GOAL)]);
    expect(new Set(results.map((r) => r.defaultBranchSha)).size).toBe(1);
    expect(server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-upload-pack')).length).toBe(1);
  });

  it('pushes the goal branch, compare-and-swap, and refuses to overwrite a branch someone else moved', async () => {
    const shop = project({ url, defaultBranch: 'main' });
    const { repoDir } = await host.prepare(shop, GOAL);
    const workspace = await GitWorkspace.open({ repoDir, root });
    await workspace.createGoalBranch(GOAL.id, 'main');
    const copy = await workspace.createTaskWorkingCopy(GOAL.id, 'task_1');
    execFileSync('sh', ['-c', 'echo "export const rate = 5;" > src/rate.ts'], { cwd: copy.dir });
    await workspace.commitAll(copy, { message: 'Add the rate limit', author: cahootsIdentity('developer') });
    const merged = await workspace.mergeTask(GOAL.id, 'task_1');

    const published = await host.publishBranch(shop, GOAL);
    expect(published).toEqual({ branch: GOAL.branch, sha: merged.sha, unchanged: false });
    expect(server.git('acme', 'shop', 'rev-parse', `refs/heads/${GOAL.branch}`)).toBe(merged.sha);
    expect(server.requests.some((r) => r.path.endsWith('/git-receive-pack') && r.authorized)).toBe(true);

    // Again without changes: nothing to send.
    expect(await host.publishBranch(shop, GOAL)).toEqual({ branch: GOAL.branch, sha: merged.sha, unchanged: true });

    // Rework on top of what was pushed is a fast-forward.
    const rework = await workspace.createTaskWorkingCopy(GOAL.id, 'task_2');
    execFileSync('sh', ['-c', 'echo "export const rate = 10;" > src/rate.ts'], { cwd: rework.dir });
    await workspace.commitAll(rework, { message: 'Raise the limit', author: cahootsIdentity('developer') });
    const reworked = await workspace.mergeTask(GOAL.id, 'task_2');
    expect((await host.publishBranch(shop, GOAL)).sha).toBe(reworked.sha);

    // Someone pushes to the goal branch; our next push must not replace their commit.
    const theirs = pushAsSomeoneElse(server, source, GOAL.branch, 'THEIRS.md');
    const more = await workspace.createTaskWorkingCopy(GOAL.id, 'task_3');
    execFileSync('sh', ['-c', 'echo more > MORE.md'], { cwd: more.dir });
    await workspace.commitAll(more, { message: 'More', author: cahootsIdentity('developer') });
    const ours = await workspace.mergeTask(GOAL.id, 'task_3');
    const failure = await host.publishBranch(shop, GOAL).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RemoteBranchMovedError);
    expect(failure).toMatchObject({ stepFunctionsError: 'Repository.RemoteBranchMoved', branch: GOAL.branch, remoteSha: theirs, localSha: ours.sha });
    expect((failure as Error).message).toContain(theirs);
    expect(server.git('acme', 'shop', 'rev-parse', `refs/heads/${GOAL.branch}`)).toBe(theirs);
    server.git('acme', 'shop', 'fsck', '--full');
    expect(filesContaining(root, TOKEN)).toEqual([]);
  });

  it("relies on the server's own compare-and-swap when the branch moves during the push, and reports a refused push", async () => {
    const shop = project({ url, defaultBranch: 'main' });
    const { repoDir } = await host.prepare(shop, GOAL);
    const workspace = await GitWorkspace.open({ repoDir, root });
    await workspace.createGoalBranch(GOAL.id, 'main');
    const copy = await workspace.createTaskWorkingCopy(GOAL.id, 'task_1');
    execFileSync('sh', ['-c', 'echo x > X.md'], { cwd: copy.dir });
    await workspace.commitAll(copy, { message: 'X', author: cahootsIdentity('developer') });
    const ours = (await workspace.mergeTask(GOAL.id, 'task_1')).sha;
    const main = source.git('rev-parse', 'main');

    // Someone creates the branch after we looked but before git on the server updates it.
    const hooks = join(server.projectRoot, 'acme', 'shop.git', 'hooks');
    const hook = join(hooks, 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\nenv -u GIT_QUARANTINE_PATH git update-ref refs/heads/${GOAL.branch} ${main}\n`, { mode: 0o755 });
    const moved = await host.publishBranch(shop, GOAL).catch((error: unknown) => error);
    expect(moved).toBeInstanceOf(RemoteBranchMovedError);
    expect((moved as Error).message).toContain('created meanwhile');
    expect(server.git('acme', 'shop', 'rev-parse', `refs/heads/${GOAL.branch}`)).toBe(main);
    expect(ours).not.toBe(main);

    // A server that refuses for its own reasons (branch protection, a hook) is quoted, not mistaken for a move.
    server.git('acme', 'shop', 'update-ref', '-d', `refs/heads/${GOAL.branch}`);
    writeFileSync(hook, '#!/bin/sh\necho "protected by policy" >&2\nexit 1\n', { mode: 0o755 });
    const refused = await host.publishBranch(shop, GOAL).catch((error: unknown) => error);
    expect(refused).not.toBeInstanceOf(RemoteBranchMovedError);
    expect((refused as Error).message).toMatch(/refused the push of cahoots\/goal_.*pre-receive hook declined/);
  });

  it('fails clearly on a wrong or missing token, without showing it', async () => {
    const shop = project({ url, defaultBranch: 'main' });
    const wrong = createRepositoryHost({ secrets: secretsWith({ 'git/token': 'not-the-token-0000' }), workspaceRoot: root });
    const failure = await wrong.prepare(shop, GOAL).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RepositoryAuthError);
    expect((failure as Error).message).toMatch(/refused the credentials.*HTTP 401.*git\/token/);
    expect((failure as Error).message).not.toContain('not-the-token-0000');
    expect(await wrong.checkAccess(shop)).toMatchObject({ ok: false, reason: 'auth-failed' });

    const none = createRepositoryHost({ secrets: secretsWith({}), workspaceRoot: root });
    await expect(none.prepare(shop, GOAL)).rejects.toThrow(/none are configured: store the access token as the secret git\/token/);
    // No half-made mirror (nor a lock) is left behind by a failed clone.
    expect(readdirSync(join(root, 'mirrors'))).toEqual([]);
  });

  it('checks access the way ls-remote would', async () => {
    expect(await host.checkAccess(project({ url, defaultBranch: 'main' }))).toEqual({ ok: true, defaultBranchSha: source.git('rev-parse', 'main') });
    expect(await host.checkAccess(project({ url, defaultBranch: 'trunk' }))).toMatchObject({ ok: false, reason: 'default-branch-missing', message: expect.stringContaining('trunk') });
    expect(await host.checkAccess(project({ url: `${server.url}/acme/missing.git`, defaultBranch: 'main' }))).toMatchObject({ ok: false, reason: 'unreachable' });
    const closed = await startGitHttpServer({ password: TOKEN });
    const closedUrl = `${closed.url}/acme/shop.git`;
    await closed.close();
    expect(await host.checkAccess(project({ url: closedUrl, defaultBranch: 'main' }))).toMatchObject({ ok: false, reason: 'unreachable', message: expect.stringMatching(/ECONNREFUSED/) });
    expect(await host.checkAccess(project({ url: 'http://git.example.com/acme/shop.git', defaultBranch: 'main' }))).toMatchObject({
      ok: false,
      reason: 'not-supported',
      message: expect.stringMatching(/plain http:\/\/.*127\.0\.0\.1/),
    });
    expect(await host.checkAccess(project({ url: 'ssh://git@git.example.com/acme/shop.git', defaultBranch: 'main' }))).toMatchObject({ ok: false, reason: 'not-supported' });
  });
});

describe('the dispatching repository host', () => {
  const host = new DispatchingRepositoryHost({ secrets: secretsWith({}), workspaceRoot: '/nonexistent/workspace' });

  it('picks the adapter from the project repo settings', () => {
    expect(host.hostFor(project({ path: '/src/shop', defaultBranch: 'main' }))).toBeInstanceOf(LocalPathRepositoryHost);
    expect(host.hostFor(project({ url: 'https://github.com/acme/shop.git', defaultBranch: 'main' }))).toBeInstanceOf(GitHubRepositoryHost);
    expect(host.hostFor(project({ url: 'https://git.acme.example/acme/shop.git', apiUrl: 'https://git.acme.example/api/v3', defaultBranch: 'main' }))).toBeInstanceOf(GitHubRepositoryHost);
    expect(host.hostFor(project({ url: 'https://gitlab.example.com/acme/shop.git', defaultBranch: 'main' }))).toBeInstanceOf(HttpsGitRepositoryHost);
    expect(host.supportsPullRequests(project({ url: 'https://github.com/acme/shop', defaultBranch: 'main' }))).toBe(true);
    expect(host.supportsPullRequests(project({ url: 'https://gitlab.example.com/acme/shop.git', defaultBranch: 'main' }))).toBe(false);
    expect(() => host.hostFor(project({ url: 'http://github.com/acme/shop.git', defaultBranch: 'main' }))).toThrow(UnsupportedRepositoryError);
    expect(() => host.hostFor(project({ url: 'git@github.com:acme/shop.git', defaultBranch: 'main' }))).toThrow(/use the https:\/\/ URL/);
  });
});

describe('local path repositories', () => {
  let repo: TempRepo;
  beforeEach(() => {
    repo = createTempRepo();
  });
  afterEach(() => repo.cleanup());

  it('works in the checkout itself and has no pull requests', async () => {
    const host = createRepositoryHost({ secrets: secretsWith({}), workspaceRoot: repo.scratch });
    const shop = project({ path: repo.dir, defaultBranch: 'main' });
    expect(await host.prepare(shop, GOAL)).toEqual({ repoDir: repo.dir, defaultBranchSha: repo.git('rev-parse', 'main') });
    expect(await host.checkAccess(shop)).toEqual({ ok: true, defaultBranchSha: repo.git('rev-parse', 'main') });
    expect(await host.checkAccess(project({ path: repo.dir, defaultBranch: 'trunk' }))).toMatchObject({ ok: false, reason: 'default-branch-missing' });
    expect(await host.checkAccess(project({ path: join(repo.scratch, 'nothing'), defaultBranch: 'main' }))).toMatchObject({ ok: false, reason: 'unreachable' });

    await expect(host.publishBranch(shop, GOAL)).rejects.toThrow(/does not exist in the workspace/);
    repo.git('branch', GOAL.branch);
    expect(await host.publishBranch(shop, GOAL)).toEqual({ branch: GOAL.branch, sha: repo.git('rev-parse', 'main'), unchanged: true });
    expect(host.supportsPullRequests(shop)).toBe(false);
    await expect(host.openOrUpdatePullRequest(shop, { title: 't', body: 'b', head: GOAL.branch, base: 'main' })).rejects.toBeInstanceOf(PullRequestsNotSupportedError);
    expect(await host.hasWriteAccess(shop, 'someone')).toBe(false);
  });
});
