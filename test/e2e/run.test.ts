// `cahoots run --json` on a copy of examples/todo-app with its recorded replay: the goal succeeds,
// the branch holds the agents' commits, the example's own tests pass on it, and the JSON document
// adds up — its token counts are exactly the script's, and dollars by model and by role sum to the
// total (prices are set through CAHOOTS_PRICES so replay is not free).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TempRepo } from '../support/temp-repo';
import { cliEnv, EXAMPLE_GOAL, EXAMPLE_REPLAY, exampleRepo, runCli, testsOnBranch, type CliResult } from './support';

const PRICE = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
const KINDS = ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens'] as const;

interface CostLine {
  usd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  calls: number;
}

/** What the replay script says every turn used, summed: the run must report exactly this. */
function scriptedUsage(): Record<(typeof KINDS)[number], number> & { turns: number } {
  const script = JSON.parse(readFileSync(EXAMPLE_REPLAY, 'utf8')) as { conversations: Array<{ turns: Array<{ usage: Record<string, number> }> }> };
  const sum = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, turns: 0 };
  for (const conversation of script.conversations) {
    for (const turn of conversation.turns) {
      for (const kind of KINDS) sum[kind] += turn.usage[kind] ?? 0;
      sum.turns++;
    }
  }
  return sum;
}

describe('cahoots run --json on the example', () => {
  let repo: TempRepo;
  let result: CliResult;
  let doc: {
    goalId: string;
    status: string;
    branch: string;
    tasks: Array<{ id: string; role: string; status: string; attempts: number; model: string | null }>;
    cost: CostLine & { byModel: Record<string, CostLine>; byRole: Record<string, CostLine> };
    durationMs: number;
    eventCount: number;
  };

  beforeAll(async () => {
    repo = exampleRepo();
    result = await runCli(
      ['run', '--repo', repo.dir, '--goal', EXAMPLE_GOAL, '--model', `replay:${EXAMPLE_REPLAY}`, '--approve', 'auto', '--allow', 'node --test', '--json'],
      { env: cliEnv({ CAHOOTS_PRICES: JSON.stringify({ 'replay:': PRICE }), CAHOOTS_WORKSPACE_ROOT: repo.scratch }) },
    );
    doc = JSON.parse(result.stdout);
  });

  afterAll(() => repo?.cleanup());

  it('exits 0 with one JSON document on stdout and the progress on stderr', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(doc.status).toBe('SUCCEEDED');
    expect(result.stderr).toMatch(/Plan: .*\(risk low, 3 task\(s\)\)/);
    expect(result.stderr).toMatch(/t2 {2}developer {2}Add openCount\(\) to the todo list {2}\(after t1\)/);
    expect(result.stderr).toMatch(/▶ t1 developer "Add remove\(id\) to the todo list" · attempt 1 · replay:/);
    expect(result.stderr).toMatch(/✔ plan approved by .*--approve auto/);
    expect(result.stderr).toContain('QA (round 1): 10 passed, 0 failed, 0 skipped');
    expect(result.stderr).toMatch(/Cost by role/);
    expect(result.stderr).toMatch(/Infrastructure \$\d[\d.]*.*Lambda [\d.]+ GB-s in \d+ invocation\(s\).* state transitions/);
  });

  it('has every field, one entry per task', () => {
    expect(doc.goalId).toMatch(/^goal_[0-9A-Z]{26}$/);
    expect(doc.branch).toBe(`cahoots/${doc.goalId}`);
    expect(doc.durationMs).toBeGreaterThan(0);
    expect(doc.eventCount).toBeGreaterThan(20);
    expect(doc.tasks.map((t) => t.role).sort()).toEqual(['developer', 'developer', 'developer', 'planner', 'qa', 'reviewer']);
    for (const task of doc.tasks) {
      expect(task).toMatchObject({ status: 'SUCCEEDED', attempts: 1, model: `replay:${EXAMPLE_REPLAY}` });
      expect(task.id).toMatch(/^task_/);
    }
  });

  it('reports exactly the tokens the script used, and dollars that add up', () => {
    const usage = scriptedUsage();
    const { cost } = doc;
    for (const kind of KINDS) expect(cost[kind], kind).toBe(usage[kind]);
    expect(cost.calls).toBe(usage.turns);
    const expectedUsd = (usage.inputTokens * PRICE.input + usage.outputTokens * PRICE.output + usage.cacheReadTokens * PRICE.cacheRead + usage.cacheWriteTokens * PRICE.cacheWrite) / 1e6;
    expect(cost.usd).toBeCloseTo(expectedUsd, 6);
    expect(cost.usd).toBeGreaterThan(0);
    for (const group of [cost.byModel, cost.byRole]) {
      const lines = Object.values(group);
      expect(lines.reduce((sum, line) => sum + line.usd, 0)).toBeCloseTo(cost.usd, 9);
      expect(lines.reduce((sum, line) => sum + line.calls, 0)).toBe(cost.calls);
      for (const kind of KINDS) expect(lines.reduce((sum, line) => sum + line[kind], 0), kind).toBe(cost[kind]);
    }
    expect(Object.keys(cost.byModel)).toEqual([`replay:${EXAMPLE_REPLAY}`]);
    expect(Object.keys(cost.byRole).sort()).toEqual(['developer', 'planner', 'qa', 'reviewer']);
    expect(cost.byRole.developer!.calls).toBe(13);
  });

  it('leaves the agents’ commits on the branch and the base branch untouched', () => {
    const authors = repo.git('log', '--format=%an|%s', `main..${doc.branch}`).split('\n');
    expect(authors).toEqual([
      'Cahoots developer|Document remove and openCount in the README',
      'Cahoots developer|Add openCount() to the todo list',
      'Cahoots developer|Add remove(id) to the todo list',
    ]);
    expect(repo.git('diff', '--name-only', `main...${doc.branch}`).split('\n').sort()).toEqual(['README.md', 'src/todos.js', 'test/remove.test.js', 'test/todos.test.js']);
    expect(repo.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(repo.git('status', '--porcelain')).toBe('');
  });

  it("passes the example's own tests on the result branch", async () => {
    const tests = await testsOnBranch(repo.dir, doc.branch);
    expect(tests, tests.output).toMatchObject({ passed: 10, failed: 0 });
  });
});
