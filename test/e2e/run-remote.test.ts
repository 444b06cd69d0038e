// `cahoots run --repo <url>` as a person runs it against a GitHub repository: the repository is
// served over smart HTTP by `git http-backend` behind basic auth, GitHub's REST API by a fake that
// speaks its paths, and the model by an OpenAI-compatible fake — all on 127.0.0.1. The run clones
// into the data directory, pushes the goal branch and opens a pull request; the token it was given
// (a canary) must never reach the model, the output, the event log or any file of the data directory.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github';
import { openaiToolCalls, startFakeOpenAI, type FakeOpenAI, type FakeOpenAIReply, type RecordedOpenAIRequest } from '../support/fake-openai';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server';
import type { TempRepo } from '../support/temp-repo';
import { cliEnv, exampleRepo, runCli, type CliResult } from './support';

const CANARY = 'ghp_CANARY7f3a9c1e5b2d8f4a6c0e9b7d5f3a1c8e';
const GOAL = 'Export the version';

const call = (name: string, args: Record<string, unknown>): FakeOpenAIReply => openaiToolCalls([{ name, arguments: args }]);

/** The scripted model: the role from the system prompt, the turn from the assistant messages so far. */
function answer(request: RecordedOpenAIRequest): FakeOpenAIReply {
  const messages = (request.body?.messages ?? []) as Array<{ role: string; content: string | null }>;
  const who = /^You are the (.+?) of Cahoots/.exec(messages[0]?.content ?? '')?.[1] ?? '';
  const turn = messages.filter((m) => m.role === 'assistant').length;
  if (who.includes('planner')) {
    return call('finish', {
      summary: 'Export the package version from src/version.js',
      risk: 'low',
      tasks: [{ id: 'v1', role: 'developer', kind: 'feature', title: 'Add a VERSION constant', spec: 'Create src/version.js exporting VERSION.', acceptanceCriteria: ['VERSION is exported'], dependsOn: [] }],
    });
  }
  if (who.includes('developer')) {
    return [
      call('write_file', { path: 'src/version.js', content: "export const VERSION = '1.1.0';\n" }),
      call('finish', { summary: 'Added src/version.js.', filesChanged: ['src/version.js'] }),
    ][Math.min(turn, 1)]!;
  }
  if (who.includes('reviewer')) return call('finish', { verdict: 'approved', summary: 'Small and clear.', comments: [] });
  if (who.includes('QA')) {
    if (turn === 0) return call('run_command', { argv: ['node', '--test'] });
    return call('finish', { summary: 'The tests pass.', testResults: { command: 'node --test', passed: 6, failed: 0, skipped: 0 }, passed: true });
  }
  return { type: 'error', status: 400, message: `no answer for ${who}` };
}

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  const found: Array<{ path: string; bytes: Buffer }> = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) found.push({ path, bytes: readFileSync(path) });
    }
  };
  walk(dir);
  return found;
}

describe('cahoots run --repo <url> --deliver pr', () => {
  let git: GitHttpServer;
  let github: FakeGitHub;
  let model: FakeOpenAI;
  let source: TempRepo;
  let dataDir: string;
  let repoUrl: string;
  let result: CliResult;
  let doc: { goalId: string; status: string; branch: string; delivery: { kind: string; branch: string; url: string; number: number } | null };

  beforeAll(async () => {
    git = await startGitHttpServer({ password: CANARY });
    github = await startFakeGitHub({ tokens: [CANARY], repositories: [{ owner: 'acme', name: 'shop' }] });
    model = await startFakeOpenAI();
    model.onRequest(answer);
    source = exampleRepo();
    repoUrl = git.addRepository('acme', 'shop', source.dir);
    dataDir = mkdtempSync(join(tmpdir(), 'cahoots-remote-data-'));
    result = await runCli(
      ['run', '--repo', repoUrl, '--github-api-url', github.apiUrl, '--deliver', 'pr', '--goal', GOAL, '--model', `openai:fake-coder@${model.baseUrl}`, '--autonomy', '4', '--allow', 'node --test', '--data-dir', dataDir, '--json'],
      { env: cliEnv({ GITHUB_TOKEN: CANARY, GITHUB_API_URL: undefined }) },
    );
    doc = JSON.parse(result.stdout || '{}');
  });

  afterAll(async () => {
    await Promise.all([git?.close(), github?.close(), model?.close()]);
    source?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('clones, works the goal, pushes the goal branch and opens a pull request it prints', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(doc.status).toBe('SUCCEEDED');
    expect(doc.delivery).toEqual({ kind: 'pull-request', branch: `cahoots/${doc.goalId}`, url: 'https://github.example.test/acme/shop/pull/1', number: 1 });
    expect(result.stderr).toContain(`cahoots run · ${repoUrl} (from main at ${source.git('rev-parse', '--short=7', 'main')}) · delivers a pull request`);
    expect(result.stderr).toContain('Pull request #1: https://github.example.test/acme/shop/pull/1');
    expect(result.stderr).toMatch(/Delivered on branch cahoots\/goal_\w+ · 1 commit\(s\) · 1 file\(s\) · pull request #1 opened: https:\/\/github\.example\.test\/acme\/shop\/pull\/1/);
    expect(git.git('acme', 'shop', 'show', `cahoots/${doc.goalId}:src/version.js`)).toContain("VERSION = '1.1.0'");
    expect(github.pulls).toHaveLength(1);
    expect(github.pulls[0]).toMatchObject({ head: `cahoots/${doc.goalId}`, base: 'main', title: GOAL });
    expect(github.pulls[0]!.body).toContain('✅ 6 passed · 0 failed · 0 skipped');
    // The clone lives in the data directory, as a mirror to fetch next time.
    expect(readdirSync(join(dataDir, 'workspaces', 'mirrors')).some((name) => name.endsWith('.git'))).toBe(true);
  });

  it('sends the token to the git server and GitHub only, and to nothing else', async () => {
    // It did authenticate where it had to…
    expect(git.requests.some((r) => r.authorized && r.password === CANARY)).toBe(true);
    expect(github.requests.some((r) => r.credential === CANARY)).toBe(true);
    // …and the model never saw it, nor did the terminal.
    const modelCalls = model.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(modelCalls.length).toBeGreaterThan(3);
    for (const request of model.requests) expect(request.rawBody).not.toContain(CANARY);
    expect(result.stdout + result.stderr).not.toContain(CANARY);
    // Nor the event log, read back as a person would.
    const events = await runCli(['events', doc.goalId, '--data-dir', dataDir, '--json'], { env: cliEnv() });
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toContain('Delivery.Created');
    expect(events.stdout + events.stderr).not.toContain(CANARY);
    const status = await runCli(['status', '--data-dir', dataDir], { env: cliEnv() });
    expect(status.stdout).toContain(`${repoUrl} (main)`);
    expect(status.stdout).toContain(`⇢ ${doc.goalId} pull request #1: https://github.example.test/acme/shop/pull/1`);
    expect(status.stdout + status.stderr).not.toContain(CANARY);
    // Nor any file in the data directory: the table, artifacts, checkpoints, the mirror and its config.
    const files = filesUnder(dataDir);
    expect(files.some((f) => f.path.endsWith(join('mirrors', `${readdirSync(join(dataDir, 'workspaces', 'mirrors')).find((n) => n.endsWith('.git'))}`, 'config')))).toBe(true);
    const leaks = files.filter((f) => f.bytes.includes(CANARY)).map((f) => f.path);
    expect(leaks).toEqual([]);
  });
});

describe('cahoots run --repo <url>: what is refused before anything starts', () => {
  let git: GitHttpServer;
  let repoUrl: string;
  let source: TempRepo;
  const run = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(['run', '--goal', GOAL, '--model', 'openai:x@http://127.0.0.1:9/v1', ...args], { env: cliEnv({ GITHUB_TOKEN: undefined, GITHUB_API_URL: undefined, ...env }) });

  beforeAll(async () => {
    git = await startGitHttpServer({ password: CANARY });
    source = exampleRepo();
    repoUrl = git.addRepository('acme', 'shop', source.dir);
  });

  afterAll(async () => {
    await git?.close();
    source?.cleanup();
  });

  it.each([
    ['plain http to a remote host', ['--repo', 'http://git.example.com/acme/shop.git'], /--repo: plain http:\/\/ would send the token unencrypted/],
    ['an ssh address', ['--repo', 'git@github.com:acme/shop.git'], /--repo: git@github.com:acme\/shop.git is an ssh address; give the repository's https:\/\/ URL/],
    ['a token in the URL', ['--repo', 'https://x:secret@github.com/acme/shop.git'], /--repo: the URL must not contain credentials/],
    ['an unknown delivery', ['--repo', '.', '--deliver', 'zip'], /--deliver must be "pr" .* or "branch"/],
    ['a bad API URL', ['--repo', 'https://github.com/acme/shop.git', '--github-api-url', 'ftp://x'], /--github-api-url: ftp:\/\/ is not supported/],
  ])('refuses %s with exit 2 naming the flag', async (_name, args, message) => {
    const { code, stderr } = await run(args);
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('refuses a pull request from a local repository', async () => {
    const { code, stderr } = await run(['--repo', source.dir, '--deliver', 'pr']);
    expect(code, stderr).toBe(2);
    expect(stderr).toContain('--deliver pr: no pull request can be opened: a local --repo has no host to open one on');
  });

  it('asks for a token when the host wants one and none is set', async () => {
    const { code, stderr } = await run(['--repo', repoUrl, '--github-api-url', 'http://127.0.0.1:9/api/v3']);
    expect(code, stderr).toBe(2);
    expect(stderr).toContain(`--repo: ${repoUrl} asks for credentials and none are set; set GITHUB_TOKEN`);
  });

  it('refuses a pull request from a git host that is not GitHub', async () => {
    const { code, stderr } = await run(['--repo', repoUrl, '--deliver', 'pr'], { CAHOOTS_SECRET_GIT_TOKEN: CANARY });
    expect(code, stderr).toBe(2);
    expect(stderr).toContain(`--deliver pr: no pull request can be opened: ${repoUrl} is not on GitHub`);
  });

  it('refuses a token the host does not accept, saying which variable to fix, and never prints it', async () => {
    const { code, stderr } = await run(['--repo', repoUrl, '--github-api-url', 'http://127.0.0.1:9/api/v3'], { GITHUB_TOKEN: 'ghp_wrong' });
    expect(code, stderr).toBe(2);
    expect(stderr).toContain(`--repo: ${repoUrl} refused the credentials (HTTP 401); set GITHUB_TOKEN to a token that may read and push to it`);
    expect(stderr).not.toContain('ghp_wrong');
  });
});
