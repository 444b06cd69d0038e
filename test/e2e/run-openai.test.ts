// `cahoots run` with an OpenAI-compatible server as the model: the Chat Completions fake answers
// every agent over real HTTP, choosing its reply from the request the way a model would see it —
// the role in the system prompt, the task in the first user message, the turn from the assistant
// messages so far, and (for QA) the test counts in the command output it was shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiToolCalls, startFakeOpenAI, type FakeOpenAI, type FakeOpenAIReply, type RecordedOpenAIRequest } from '../support/fake-openai';
import type { TempRepo } from '../support/temp-repo';
import { cliEnv, exampleRepo, runCli, testsOnBranch, type CliResult } from './support';

const TASK = 'Add a VERSION constant';
const USAGE = { prompt_tokens: 1200, completion_tokens: 150, cached_tokens: 400 };
const PRICE = { input: 0.5, output: 1.5, cacheRead: 0.05, cacheWrite: 0.5 };

interface ChatMessage {
  role: string;
  content: string | null;
}

/** The agent role, read from the system prompt the way a model sees it ("You are the QA engineer of Cahoots …"). */
function roleOf(system: string | null | undefined): string | undefined {
  const who = /^You are the (.+?) of Cahoots/.exec(system ?? '')?.[1] ?? '';
  return [['planner', 'planner'], ['developer', 'developer'], ['reviewer', 'reviewer'], ['QA', 'qa'], ['UX', 'ux']].find(([word]) => who.includes(word!))?.[1];
}

const call = (name: string, args: Record<string, unknown>): FakeOpenAIReply => openaiToolCalls([{ name, arguments: args }], USAGE);

/** The scripted model: a pure function of the request, like the replay provider. */
function answer(request: RecordedOpenAIRequest): FakeOpenAIReply {
  const messages = (request.body?.messages ?? []) as ChatMessage[];
  const role = roleOf(messages[0]?.content);
  const turn = messages.filter((m) => m.role === 'assistant').length;
  const lastTool = [...messages].reverse().find((m) => m.role === 'tool')?.content ?? '';
  switch (role) {
    case 'planner':
      return call('finish', {
        summary: 'Export the package version from src/version.js',
        risk: 'low',
        tasks: [{ id: 'v1', role: 'developer', kind: 'feature', title: TASK, spec: 'Create src/version.js exporting VERSION = "1.1.0", with a test.', acceptanceCriteria: ['VERSION is exported', 'node --test passes'], dependsOn: [] }],
      });
    case 'developer':
      return [
        call('write_file', { path: 'src/version.js', content: "export const VERSION = '1.1.0';\n" }),
        call('write_file', {
          path: 'test/version.test.js',
          content: "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { VERSION } from '../src/version.js';\n\ntest('VERSION is semver', () => assert.match(VERSION, /^\\d+\\.\\d+\\.\\d+$/));\n",
        }),
        call('run_command', { argv: ['node', '--test'] }),
        call('finish', { summary: 'Added src/version.js and its test.', filesChanged: ['src/version.js', 'test/version.test.js'] }),
      ][turn]!;
    case 'reviewer':
      return call('finish', { verdict: 'approved', summary: 'Small and tested.', comments: [] });
    case 'qa': {
      if (turn === 0) return call('run_command', { argv: ['node', '--test'] });
      const count = (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(lastTool)?.[1] ?? -1);
      return call('finish', {
        summary: `node --test: ${count('pass')} passed`,
        testResults: { command: 'node --test', passed: count('pass'), failed: count('fail'), skipped: count('skipped') },
        passed: count('fail') === 0,
      });
    }
    default:
      return { type: 'error', status: 400, message: `the fake has no answer for role ${String(role)}` };
  }
}

describe('cahoots run against an OpenAI-compatible server', () => {
  let fake: FakeOpenAI;
  let repo: TempRepo;
  let result: CliResult;
  let doc: { goalId: string; status: string; branch: string; cost: { usd: number; inputTokens: number; cacheReadTokens: number; outputTokens: number; calls: number; byModel: Record<string, { usd: number }> } };
  const spec = () => `openai:fake-coder@${fake.baseUrl}`;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.onRequest(answer);
    repo = exampleRepo();
    result = await runCli(['run', '--repo', repo.dir, '--goal', 'Export the version', '--model', spec(), '--autonomy', '4', '--allow', 'node --test', '--json'], {
      env: cliEnv({
        CAHOOTS_PRICES: JSON.stringify({ 'openai:fake-coder': PRICE }),
        CAHOOTS_WORKSPACE_ROOT: repo.scratch,
        // The key comes from the secret the deployment names, as in a cell, not from OPENAI_API_KEY.
        CAHOOTS_OPENAI_API_KEY_SECRET: 'openai/api-key',
        CAHOOTS_SECRET_OPENAI_API_KEY: 'sk-from-the-secret',
        OPENAI_API_KEY: 'sk-from-the-environment',
      }),
    });
    doc = JSON.parse(result.stdout);
  });

  afterAll(async () => {
    await fake?.close();
    repo?.cleanup();
  });

  it('probes the server, then every role talks to it and the goal succeeds', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(doc.status).toBe('SUCCEEDED');
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models' });
    const roles = fake.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => roleOf(r.body.messages[0].content));
    expect(new Set(roles)).toEqual(new Set(['planner', 'developer', 'reviewer', 'qa']));
    expect(fake.requests.every((r) => r.path !== '/v1/chat/completions' || r.body.model === 'fake-coder')).toBe(true);
  });

  it("sends the key from the deployment's secret on every model call", () => {
    const keys = new Set(fake.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.headers.authorization));
    expect(keys).toEqual(new Set(['Bearer sk-from-the-secret']));
  });

  it('reports the counts QA read from the real test run and the cost of every call', () => {
    expect(result.stderr).toContain('QA (round 1): 7 passed, 0 failed, 0 skipped');
    const calls = fake.requests.filter((r) => r.path === '/v1/chat/completions').length;
    expect(doc.cost.calls).toBe(calls);
    expect(doc.cost.inputTokens).toBe(calls * (USAGE.prompt_tokens - USAGE.cached_tokens));
    expect(doc.cost.cacheReadTokens).toBe(calls * USAGE.cached_tokens);
    expect(doc.cost.outputTokens).toBe(calls * USAGE.completion_tokens);
    const perCall = ((USAGE.prompt_tokens - USAGE.cached_tokens) * PRICE.input + USAGE.cached_tokens * PRICE.cacheRead + USAGE.completion_tokens * PRICE.output) / 1e6;
    expect(doc.cost.usd).toBeCloseTo(calls * perCall, 9);
    expect(doc.cost.byModel[spec()]!.usd).toBeCloseTo(doc.cost.usd, 9);
  });

  it('delivers the files on the branch, where the tests pass', async () => {
    expect(repo.git('show', `${doc.branch}:src/version.js`)).toContain("VERSION = '1.1.0'");
    const tests = await testsOnBranch(repo.dir, doc.branch);
    expect(tests, tests.output).toMatchObject({ passed: 7, failed: 0 });
  });
});
