// Approval gates during `cahoots run`: with --approve prompt the person answers on the terminal
// (here: lines on stdin) — plan and delivery at autonomy 1, a new limit at a budget gate, a "no"
// that cancels the goal; with --approve auto a budget gate is never raised.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TempRepo } from '../support/temp-repo';
import { cliEnv, EXAMPLE_GOAL, EXAMPLE_REPLAY, exampleRepo, ROOT, type CliResult } from './support';
import { endChildInput } from '../support/child-input';

// Priced so that the planner's worst case (its prompt plus 4 096 output tokens) is about $0.07.
const PRICES = JSON.stringify({ 'replay:': { input: 3, output: 15 } });

/** Runs `cahoots run` on a fresh copy of the example with `answers` typed ahead on stdin. */
function runWithAnswers(repo: TempRepo, extra: string[], answers: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const args = ['run', '--repo', repo.dir, '--goal', EXAMPLE_GOAL, '--model', `replay:${EXAMPLE_REPLAY}`, '--allow', 'node --test', ...extra];
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'cahoots.js'), ...args], { cwd: ROOT, env: cliEnv({ CAHOOTS_PRICES: PRICES, CAHOOTS_WORKSPACE_ROOT: repo.scratch }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    endChildInput(child.stdin, answers);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('approval gates in cahoots run', () => {
  const repos: TempRepo[] = [];
  const results: Record<string, CliResult> = {};

  beforeAll(async () => {
    const scenarios: Record<string, [string[], string]> = {
      // Autonomy 1 asks for the plan and again before delivery; a stray answer is asked again.
      'plan and delivery': [['--approve', 'prompt', '--autonomy', '1'], 'maybe\ny\nyes\n'],
      'reject the plan': [['--approve', 'prompt', '--autonomy', '2'], 'n\n'],
      'raise the budget': [['--approve', 'prompt', '--autonomy', '4', '--budget-usd', '0.01', '--json'], '5\n'],
      'auto at a budget gate': [['--approve', 'auto', '--autonomy', '4', '--budget-usd', '0.01'], ''],
    };
    const queue = Object.entries(scenarios);
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const repo = exampleRepo();
        repos.push(repo);
        results[next[0]] = await runWithAnswers(repo, ...next[1]);
      }
    };
    await Promise.all([worker(), worker()]);
  });

  afterAll(() => repos.forEach((r) => r.cleanup()));

  it('asks for the plan and for the delivery, and goes on after yes', () => {
    const { code, stdout, stderr } = results['plan and delivery']!;
    expect(code, stdout + stderr).toBe(0);
    const question = 'Approve the plan "Add remove(id) and openCount() to the todo list with tests, then document both"? [y/n]';
    expect(stderr).toContain(`${question} maybe\nPlease answer y or n.\n${question} y\n`);
    expect(stderr).toMatch(/Deliver the result on cahoots\/goal_\w+\? \[y\/n\] yes\n/);
    expect(stdout).toMatch(/✔ plan approved by local:.*: approved at the terminal/);
    expect(stdout).toMatch(/✔ delivery approved by local:.*: approved at the terminal/);
    expect(stdout).toContain('SUCCEEDED');
  });

  it('cancels the goal when the plan is rejected, exit 1', () => {
    const { code, stdout } = results['reject the plan']!;
    expect(code).toBe(1);
    expect(stdout).toMatch(/✖ plan rejected by local:.*: rejected at the terminal/);
    expect(stdout).toMatch(/Summary — goal goal_\w+: CANCELLED/);
    expect(stdout).not.toContain('▶ t1');
  });

  it('asks for a new limit at a budget gate and carries on within it', () => {
    const { code, stdout, stderr } = results['raise the budget']!;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/\$ Budget reached by plan/);
    expect(stderr).toMatch(/The goal has spent \$0\.00 of its \$0\.0100 budget\. New limit in USD \(empty to stop the goal\): 5\n/);
    expect(stderr).toMatch(/✔ budget approved by local:.* · new budget \$5\.0000/);
    const doc = JSON.parse(stdout) as { status: string; cost: { usd: number } };
    expect(doc.status).toBe('SUCCEEDED');
    expect(doc.cost.usd).toBeGreaterThan(0.01);
    expect(doc.cost.usd).toBeLessThan(5);
  });

  it('never raises a budget on its own with --approve auto', () => {
    const { code, stdout } = results['auto at a budget gate']!;
    expect(code).toBe(1);
    expect(stdout).toMatch(/✖ budget rejected by .*--approve auto never raises it/);
    expect(stdout).toMatch(/: CANCELLED/);
  });
});
