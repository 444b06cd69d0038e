// The GitHub adapter against a fake GitHub REST API (Octokit pointed at it through repo.apiUrl)
// and a real `git http-backend` for the git side: pull request opened then updated, comments,
// collaborator permissions, GitHub App installation tokens minted and reused, wrong tokens.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Project } from '../../lib/domain/project';
import { createRepositoryHost, INSTALLATION_TOKEN_REFRESH_MS, InvalidCredentialsSecretError, RepositoryAuthError } from '../../lib/ports/repository/index';
import { cahootsIdentity, GitWorkspace, goalBranchName } from '../../lib/workspace/index';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server';
import { filesContaining, secretsWith, storedProject } from '../support/repository-fixtures';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

const TOKEN = 'github_pat_11CANARY0token0never0on0disk0Zq8';
const PROJECT_ID = 'prj_01JDQ7ZKX3M5W8R2T4V6Y9B0CE';
const GOAL_ID = 'goal_01JDQ7ZKX3M5W8R2T4V6Y9B0CF';
const GOAL = { id: GOAL_ID, branch: goalBranchName(GOAL_ID) };

function project(repo: Project['repo']): Project {
  return storedProject(PROJECT_ID, repo);
}

describe('GitHub repositories', () => {
  let git: GitHttpServer;
  let github: FakeGitHub;
  let source: TempRepo;
  let shop: Project;
  let root: string;

  beforeEach(async () => {
    source = createTempRepo();
    root = join(source.scratch, 'workspace');
    git = await startGitHttpServer({ password: TOKEN });
    const url = git.addRepository('acme', 'shop', source.dir);
    github = await startFakeGitHub({
      tokens: [TOKEN],
      repositories: [{ owner: 'acme', name: 'shop' }],
      collaborators: { maintainer: 'maintain', writer: 'write', reader: 'read', triager: 'triage' },
    });
    shop = project({ url, apiUrl: github.apiUrl, defaultBranch: 'main' });
  });

  afterEach(async () => {
    await Promise.all([git.close(), github.close()]);
    source.cleanup();
  });

  it('delivers a goal: push, pull request opened, then the same one updated; comments on the issue', async () => {
    const host = createRepositoryHost({ secrets: secretsWith({ 'github/token': TOKEN }), workspaceRoot: root });
    expect(host.supportsPullRequests(shop)).toBe(true);
    expect(await host.checkAccess(shop)).toEqual({ ok: true, defaultBranchSha: source.git('rev-parse', 'main') });

    const { repoDir } = await host.prepare(shop, GOAL);
    const workspace = await GitWorkspace.open({ repoDir, root });
    await workspace.createGoalBranch(GOAL_ID, 'main');
    const copy = await workspace.createTaskWorkingCopy(GOAL_ID, 'task_1');
    execFileSync('sh', ['-c', 'echo "limit" > LIMIT.md'], { cwd: copy.dir });
    await workspace.commitAll(copy, { message: 'Add a limit', author: cahootsIdentity('developer') });
    const merged = await workspace.mergeTask(GOAL_ID, 'task_1');
    expect(await host.publishBranch(shop, GOAL)).toMatchObject({ sha: merged.sha, unchanged: false });
    expect(git.git('acme', 'shop', 'rev-parse', GOAL.branch)).toBe(merged.sha);

    const opened = await host.openOrUpdatePullRequest(shop, { title: 'Rate limiting', body: 'First body', head: GOAL.branch, base: 'main' });
    expect(opened).toEqual({ number: 1, url: 'https://github.example.test/acme/shop/pull/1', created: true });
    const updated = await host.openOrUpdatePullRequest(shop, { title: 'Rate limiting (rework)', body: 'Second body', head: GOAL.branch, base: 'main' });
    expect(updated).toEqual({ number: 1, url: opened.url, created: false });
    expect(github.pulls).toEqual([expect.objectContaining({ number: 1, title: 'Rate limiting (rework)', body: 'Second body', head: GOAL.branch, base: 'main', state: 'open' })]);
    // GitHub's own shapes: the head filter is owner:branch, the update is a PATCH of that number.
    expect(github.requests.filter((r) => r.path.startsWith('/repos/acme/shop/pulls')).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/acme/shop/pulls',
      'POST /repos/acme/shop/pulls',
      'GET /repos/acme/shop/pulls',
      'PATCH /repos/acme/shop/pulls/1',
    ]);
    expect(github.requests.find((r) => r.method === 'GET' && r.path === '/repos/acme/shop/pulls')?.query).toMatchObject({ head: `acme:${GOAL.branch}`, state: 'open' });

    // A closed pull request does not count: the next delivery opens a new one.
    github.pulls[0]!.state = 'closed';
    expect(await host.openOrUpdatePullRequest(shop, { title: 'Again', body: 'b', head: GOAL.branch, base: 'main' })).toMatchObject({ number: 2, created: true });

    const comment = await host.commentOnIssue(shop, 7, 'Working on it: goal ' + GOAL_ID);
    expect(comment.url).toMatch(/^https:\/\/github\.example\.test\/acme\/shop\/issues\/7#issuecomment-\d+$/);
    expect(github.comments).toEqual([expect.objectContaining({ issueNumber: 7, body: `Working on it: goal ${GOAL_ID}` })]);

    expect(await host.hasWriteAccess(shop, 'writer')).toBe(true);
    expect(await host.hasWriteAccess(shop, 'maintainer')).toBe(true);
    expect(await host.hasWriteAccess(shop, 'reader')).toBe(false);
    expect(await host.hasWriteAccess(shop, 'triager')).toBe(false);
    expect(await host.hasWriteAccess(shop, 'stranger')).toBe(false);

    expect(github.requests.every((r) => r.credential === TOKEN)).toBe(true);
    expect(filesContaining(root, TOKEN)).toEqual([]);
  });

  it('fails clearly when GitHub refuses the token', async () => {
    const host = createRepositoryHost({ secrets: secretsWith({ 'github/token': 'github_pat_wrong' }), workspaceRoot: root });
    const failure = await host.openOrUpdatePullRequest(shop, { title: 't', body: 'b', head: GOAL.branch, base: 'main' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RepositoryAuthError);
    expect((failure as Error).message).toMatch(/refused the credentials.*HTTP 401.*github\/app or github\/token/);
    expect((failure as Error).message).not.toContain('github_pat_wrong');
    expect(await host.checkAccess(shop)).toMatchObject({ ok: false, reason: 'auth-failed' });
    await expect(host.prepare(shop, GOAL)).rejects.toBeInstanceOf(RepositoryAuthError);

    const none = createRepositoryHost({ secrets: secretsWith({}), workspaceRoot: root });
    await expect(none.commentOnIssue(shop, 1, 'x')).rejects.toThrow(/no GitHub credentials are configured.*github\/app.*github\/token/);
  });

  it('refuses a token that may read but not push', async () => {
    await github.close();
    github = await startFakeGitHub({ tokens: [TOKEN], repositories: [{ owner: 'acme', name: 'shop', push: false }] });
    shop = project({ ...shop.repo, apiUrl: github.apiUrl });
    const host = createRepositoryHost({ secrets: secretsWith({ 'github/token': TOKEN }), workspaceRoot: root });
    expect(await host.checkAccess(shop)).toMatchObject({ ok: false, reason: 'auth-failed', message: expect.stringContaining('may not push') });
  });
});

describe('GitHub App credentials', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    // GitHub hands out PKCS#1 PEM files.
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const appSecret = JSON.stringify({ appId: 4242, privateKey, installationId: 77 });
  let git: GitHttpServer;
  let github: FakeGitHub;
  let source: TempRepo;
  let shop: Project;
  let root: string;
  let now: number;

  beforeEach(async () => {
    now = Date.now();
    source = createTempRepo();
    root = join(source.scratch, 'workspace');
    git = await startGitHttpServer({ password: 'ghs_installation_1' });
    const url = git.addRepository('acme', 'shop', source.dir);
    github = await startFakeGitHub({
      tokens: [],
      repositories: [{ owner: 'acme', name: 'shop' }],
      app: { appId: 4242, publicKey, installationId: 77, tokenFor: (n) => `ghs_installation_${n}`, now: () => now },
    });
    shop = project({ url, apiUrl: github.apiUrl, defaultBranch: 'main' });
  });

  afterEach(async () => {
    await Promise.all([git.close(), github.close()]);
    source.cleanup();
  });

  it('mints an installation token with the app key, reuses it, and renews it shortly before it expires', async () => {
    const host = createRepositoryHost({ secrets: secretsWith({ 'github/app': appSecret, 'github/token': 'ignored-when-an-app-is-set' }), workspaceRoot: root, now: () => now });

    const { defaultBranchSha } = await host.prepare(shop, GOAL);
    expect(defaultBranchSha).toBe(source.git('rev-parse', 'main'));
    await host.commentOnIssue(shop, 3, 'one');
    await host.commentOnIssue(shop, 3, 'two');
    expect(github.mintedTokens).toEqual(['ghs_installation_1']);
    expect(git.requests.filter((r) => r.password !== undefined).every((r) => r.username === 'x-access-token' && r.password === 'ghs_installation_1')).toBe(true);
    expect(github.requests.filter((r) => r.path.endsWith('/comments')).every((r) => r.credential === 'ghs_installation_1')).toBe(true);

    // Five minutes before the hour is up the token is replaced, for git and the API alike.
    now += 3_600_000 - INSTALLATION_TOKEN_REFRESH_MS + 1_000;
    git.setPassword('ghs_installation_2');
    await host.prepare(shop, GOAL);
    await host.commentOnIssue(shop, 3, 'three');
    expect(github.mintedTokens).toEqual(['ghs_installation_1', 'ghs_installation_2']);
    expect(github.requests.at(-1)?.credential).toBe('ghs_installation_2');
    const mint = github.requests.find((r) => r.path === '/app/installations/77/access_tokens');
    expect(mint?.method).toBe('POST');

    expect(filesContaining(root, 'ghs_installation_')).toEqual([]);
    expect(filesContaining(root, 'PRIVATE KEY')).toEqual([]);
  });

  it('names the secret when the app credential is malformed or refused', async () => {
    const broken = createRepositoryHost({ secrets: secretsWith({ 'github/app': '{"appId": 4242}' }), workspaceRoot: root });
    const failure = await broken.commentOnIssue(shop, 1, 'x').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InvalidCredentialsSecretError);
    expect((failure as Error).message).toMatch(/github\/app is not a valid GitHub App credential: privateKey/);

    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const wrongKey = createRepositoryHost({
      secrets: secretsWith({ 'github/app': JSON.stringify({ appId: 4242, privateKey: other.privateKey, installationId: 77 }) }),
      workspaceRoot: root,
    });
    await expect(wrongKey.commentOnIssue(shop, 1, 'x')).rejects.toThrow(/refused to issue an installation token.*HTTP 401/);
    expect(github.mintedTokens).toEqual([]);
  });
});
