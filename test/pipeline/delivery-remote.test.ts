// Delivery to a remote repository on the local runtime, over real wire traffic on loopback: the
// project's repository is served by `git http-backend` (basic auth) and its pull requests by a
// fake of GitHub's REST API. A goal is planned, worked, reviewed and delivered as a pull request;
// delivering it again after more work updates the same pull request; a goal branch someone else
// pushed to fails the goal with a named error and pushes nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mirrorDir } from '../../lib/ports/repository/index';
import { deliverGoal } from '../../lib/pipeline/delivery';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server';
import { createTempRepo, runGit, type TempRepo } from '../support/temp-repo';
import { EXAMPLE_FILES, forTask, planTurns, qaTurns, reviewTurns, startHarness, writeAndFinish, type Harness } from './harness';

// The logger takes its level when it is created (and each handler invocation goes back to it):
// everything it can say is said here, so the test below can check none of it is the token.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

const TOKEN = 'ghp_deliveryTestToken0123456789abcdefABCD';
const logs = captureLogs();
beforeAll(() => logs.start());
afterAll(() => logs.stop());
const GOAL = 'Add a subtract function';

/**
 * A project whose repository is on the loopback git server and whose host is the fake GitHub, with
 * a developer that adds subtract. The local secrets port reads github/token from GITHUB_TOKEN, as
 * `cahoots run` does.
 */
async function startRemoteProject(replayName: string): Promise<{ git: GitHttpServer; github: FakeGitHub; source: TempRepo; h: Harness }> {
  process.env.GITHUB_TOKEN = TOKEN;
  const git = await startGitHttpServer({ password: TOKEN });
  const github = await startFakeGitHub({ tokens: [TOKEN], repositories: [{ owner: 'acme', name: 'shop' }] });
  const source = createTempRepo(EXAMPLE_FILES);
  const url = git.addRepository('acme', 'shop', source.dir);
  const h = await startHarness({
    project: { repo: { url, apiUrl: github.apiUrl, defaultBranch: 'main' } },
    models: (replay) => ({
      all: [
        replay(replayName, [
          { name: 'plan', match: { role: 'planner' }, turns: planTurns([{ id: 'sub', title: 'Create subtract' }]) },
          { name: 'sub', match: forTask('developer', 'Create subtract'), turns: writeAndFinish('src/subtract.js', 'export const subtract = (a, b) => a - b;\n', 'subtract added') },
          { name: 'review', match: { role: 'reviewer' }, turns: reviewTurns('approved') },
          { name: 'qa', match: { role: 'qa' }, turns: qaTurns() },
        ]),
      ],
    }),
  });
  return { git, github, source, h };
}

describe('delivering a goal to GitHub', () => {
  let git: GitHttpServer;
  let github: FakeGitHub;
  let source: TempRepo;
  let h: Harness;
  let goalId: string;
  let outcome: Awaited<ReturnType<Harness['wait']>>;
  const savedToken = process.env.GITHUB_TOKEN;

  beforeAll(async () => {
    ({ git, github, source, h } = await startRemoteProject('remote'));
    // The goal came from a GitHub issue, so its pull request is announced there.
    const started = await h.startGoal(GOAL, {
      description: 'Callers need a - b. Ping @octocat and fixes #1 <b>now</b>.',
      source: 'webhook',
      sourceRef: 'https://github.com/acme/shop/issues/7#issuecomment-42',
    });
    goalId = started.goal.id;
    outcome = await h.wait(started.executionId);
  });

  afterAll(async () => {
    await h?.stop();
    await git?.close();
    await github?.close();
    source?.cleanup();
    if (savedToken === undefined) delete process.env.GITHUB_TOKEN;
    else process.env.GITHUB_TOKEN = savedToken;
  });

  it('pushes the goal branch to the remote and opens one pull request against the default branch', async () => {
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'SUCCEEDED' });
    const branch = `cahoots/${goalId}`;
    expect(git.git('acme', 'shop', 'show', `${branch}:src/subtract.js`)).toContain('a - b');
    // The remote's default branch is untouched: the work waits in the pull request.
    expect(git.git('acme', 'shop', 'rev-parse', 'main')).toBe(source.git('rev-parse', 'main'));
    expect(github.pulls).toHaveLength(1);
    expect(github.pulls[0]).toMatchObject({ number: 1, state: 'open', head: branch, base: 'main', owner: 'acme', repo: 'shop', title: GOAL });
  });

  it('writes a body that tells the goal, the tasks, the changes, the tests, the verdict, the cost and the way back', async () => {
    const body = github.pulls[0]!.body;
    expect(body).toContain(`<!-- cahoots:goal=${goalId} -->`);
    expect(body).toContain(`**${GOAL}**`);
    expect(body).toMatch(/\| Create subtract \| developer \| feature \| ✅ succeeded \| 1 \|/);
    expect(body).toContain('- added `src/subtract.js`');
    expect(body).toContain('✅ 1 passed · 0 failed · 0 skipped running `node --test`');
    expect(body).toContain('Verdict: **approved** (round 1)');
    expect(body).toMatch(/## Cost\n\nTotal \*\*\$\d/);
    expect(body).toContain(`\`cahoots events ${goalId}\``);
    // The description a person typed cannot mention anyone, close an issue or inject HTML.
    expect(body).toContain('Ping @&#8203;octocat and fixes #&#8203;1 \\<b\\>now\\</b\\>.');
  });

  it('records the delivery on the goal and in its event log', async () => {
    const goal = await h.local.store.goals.get(goalId);
    const sha = git.git('acme', 'shop', 'rev-parse', `cahoots/${goalId}`);
    expect(goal.delivery).toMatchObject({ kind: 'pull-request', branch: `cahoots/${goalId}`, sha, number: 1, url: 'https://github.example.test/acme/shop/pull/1' });
    const delivered = (await h.events(goalId)).filter((e) => e.type === 'Delivery.Created');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.data).toMatchObject({ kind: 'pull-request', url: goal.delivery!.url, number: 1, sha, pullRequestCreated: true, pushed: true });
  });

  it('tells the issue the goal came from where its pull request is, once', async () => {
    const goal = await h.local.store.goals.get(goalId);
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]).toMatchObject({ owner: 'acme', repo: 'shop', issueNumber: 7 });
    expect(github.comments[0]!.body).toContain(goal.delivery!.url!);
  });

  it('updates the same pull request when the goal is delivered again after more work', async () => {
    const project = h.project;
    const mirror = mirrorDir(h.repo.scratch, project.id);
    const before = git.git('acme', 'shop', 'rev-parse', `cahoots/${goalId}`);
    commitOnBranch(mirror, `cahoots/${goalId}`, 'src/subtract.js', 'export const subtract = (a, b) => a - b; // reworked\n', 'Rework subtract');

    const again = await deliverGoal(h.local.runtime, { goalId, projectId: project.id });
    const after = git.git('acme', 'shop', 'rev-parse', `cahoots/${goalId}`);
    expect(after).not.toBe(before);
    expect(again).toMatchObject({ kind: 'pull-request', number: 1, sha: after });
    expect(github.pulls).toHaveLength(1);
    expect(github.pulls[0]!.body).toContain('Rework subtract');
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'))).toHaveLength(1);
    expect(github.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/pulls/1'))).toHaveLength(1);
    const delivered = (await h.events(goalId)).filter((e) => e.type === 'Delivery.Created');
    expect(delivered.map((e) => e.data.pullRequestCreated)).toEqual([true, false]);
    expect((await h.local.store.goals.get(goalId)).delivery?.sha).toBe(after);

    // The same delivery once more (a retried step) records nothing new.
    await deliverGoal(h.local.runtime, { goalId, projectId: project.id });
    expect((await h.events(goalId)).filter((e) => e.type === 'Delivery.Created')).toHaveLength(2);
    // Rework updates the pull request without announcing it on the issue again.
    expect(github.comments).toHaveLength(1);
  });

  it('pushes the branch only when the project delivers branches', async () => {
    const project = await h.local.store.projects.updateSettings(h.project.id, { delivery: 'branch' });
    const branch = `cahoots/${goalId}`;
    commitOnBranch(mirrorDir(h.repo.scratch, project.id), branch, 'src/subtract.js', 'export const subtract = (a, b) => a - b; // branch only\n', 'Branch-only change');
    const requestsBefore = github.requests.length;
    const delivered = await deliverGoal(h.local.runtime, { goalId, projectId: project.id });
    expect(delivered).toMatchObject({ kind: 'branch', branch, sha: git.git('acme', 'shop', 'rev-parse', branch) });
    expect(delivered).not.toHaveProperty('url');
    expect(github.requests.length).toBe(requestsBefore);
    expect((await h.local.store.goals.get(goalId)).delivery).toMatchObject({ kind: 'branch', sha: delivered.sha });
    await h.local.store.projects.updateSettings(h.project.id, { delivery: 'pull-request' });
  });

  it('refuses to overwrite a goal branch someone else pushed to, and names the error', async () => {
    const branch = `cahoots/${goalId}`;
    const theirs = foreignCommitOn(git, branch);
    const mirror = mirrorDir(h.repo.scratch, h.project.id);
    commitOnBranch(mirror, branch, 'src/subtract.js', 'export const subtract = (a, b) => a - b; // ours\n', 'Our second rework');
    await expect(deliverGoal(h.local.runtime, { goalId, projectId: h.project.id })).rejects.toMatchObject({ stepFunctionsError: 'Repository.RemoteBranchMoved' });
    expect(git.git('acme', 'shop', 'rev-parse', branch)).toBe(theirs);
  });
});

describe('a goal whose branch moved on the remote', () => {
  let git: GitHttpServer;
  let github: FakeGitHub;
  let source: TempRepo;
  let h: Harness;
  const savedToken = process.env.GITHUB_TOKEN;

  beforeAll(async () => {
    ({ git, github, source, h } = await startRemoteProject('moved'));
  });

  afterAll(async () => {
    await h?.stop();
    await git?.close();
    await github?.close();
    source?.cleanup();
    if (savedToken === undefined) delete process.env.GITHUB_TOKEN;
    else process.env.GITHUB_TOKEN = savedToken;
  });

  it('fails the goal with Repository.RemoteBranchMoved in its failure cause, pushes nothing and opens no pull request', async () => {
    const goal = await h.local.store.goals.create({ projectId: h.project.id, title: GOAL, description: GOAL });
    // Someone pushed to the goal's branch before Cahoots delivered it.
    const theirs = foreignCommitOn(git, goal.branch);
    const { executionId } = await h.local.runtime.ports.pipeline.startGoal({ goalId: goal.id, projectId: h.project.id });
    const outcome = await h.wait(executionId);
    expect(outcome.status).toBe('FAILED');
    const failed = await h.local.store.goals.get(goal.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.failureCause?.code).toBe('Repository.RemoteBranchMoved');
    expect(failed.failureCause?.message).toContain(goal.branch);
    expect(failed.failureCause?.message).not.toMatch(/"trace"|errorType/);
    expect(failed.delivery).toBeUndefined();
    expect(git.git('acme', 'shop', 'rev-parse', goal.branch)).toBe(theirs);
    expect(github.pulls).toHaveLength(0);
  });
});


describe('the logs of both goals', () => {
  it('tell what was done with the repository, at every level, and never the token', () => {
    const text = logs.text();
    expect(text).toContain('repository mirror cloned');
    expect(text).toContain('goal branch pushed');
    expect(text).not.toContain(TOKEN);
  });
});

/**
 * Everything the process writes to stdout and stderr (where the logger writes), kept instead of printed.
 */
function captureLogs() {
  const chunks: string[] = [];
  const original = { out: process.stdout.write, err: process.stderr.write };
  const keep = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  return {
    start() {
      process.stdout.write = keep;
      process.stderr.write = keep;
    },
    stop() {
      process.stdout.write = original.out;
      process.stderr.write = original.err;
    },
    text: () => chunks.join(''),
  };
}

/** Commits one file change on `branch` of a bare repository, through a throwaway clone. */
function commitOnBranch(bare: string, branch: string, path: string, content: string, message: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'cahoots-rework-'));
  try {
    runGit(dir, ['clone', '--quiet', '--branch', branch, bare, 'copy']);
    const copy = join(dir, 'copy');
    writeFileSync(join(copy, path), content);
    runGit(copy, ['commit', '--quiet', '-am', message]);
    runGit(copy, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A commit made by someone else, written straight into the served repository on `branch`. */
function foreignCommitOn(server: GitHttpServer, branch: string): string {
  const base = server.git('acme', 'shop', 'rev-parse', 'main');
  const tree = server.git('acme', 'shop', 'rev-parse', 'main^{tree}');
  const commit = server.git('acme', 'shop', 'commit-tree', tree, '-p', base, '-m', 'Pushed by someone else');
  server.git('acme', 'shop', 'update-ref', `refs/heads/${branch}`, commit);
  return commit;
}
