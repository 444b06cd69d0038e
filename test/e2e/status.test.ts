// `cahoots status` as a person runs it, on a data directory: what waits for them (an approval, a
// failed goal with its cause) and each project's detection schedule.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../lib/local/runtime';
import { cliEnv, runCli } from './support';

const dataDir = mkdtempSync(join(tmpdir(), 'cahoots-status-'));
let watched: string;
let failedGoal: string;
let waitingGoal: string;

beforeAll(async () => {
  const local = await startLocalRuntime({ dataDir });
  try {
    const { store } = local;
    const project = await store.projects.create({
      name: 'shop',
      repo: { path: dataDir },
      schedule: { cron: 'cron(0 3 ? * MON-FRI *)', timezone: 'Europe/Berlin', enabled: true },
    });
    watched = project.id;
    await store.projects.create({ name: 'quiet', repo: { path: tmpdir() } });
    const failed = await store.goals.create({ projectId: project.id, title: 'Upgrade the router' });
    await store.goals.transition(failed.id, 'RUNNING');
    await store.goals.transition(failed.id, 'FAILED', { failureCause: { code: 'Budget.Exceeded', message: 'spent 5.02 USD of a 5 USD per-goal budget' } });
    failedGoal = failed.id;
    const waiting = await store.goals.create({ projectId: project.id, title: 'Add rate limiting' });
    await store.goals.transition(waiting.id, 'RUNNING');
    await store.goals.transition(waiting.id, 'AWAITING_APPROVAL', { approval: { state: 'pending', stage: 'plan', taskToken: 'token', requestedAt: new Date().toISOString() } });
    waitingGoal = waiting.id;
  } finally {
    await local.stop();
  }
}, 120_000);

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('cahoots status', () => {
  it('shows what waits for you and each project detection schedule', async () => {
    const result = await runCli(['status', '--data-dir', dataDir], { env: cliEnv(), timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/detection cron\(0 3 \? \* MON-FRI \*\) Europe\/Berlin, next \d{4}-\d\d-\d\d (01|02):00 UTC/);
    expect(out).toContain('detection off (cron(0 3 * * ? *) UTC when enabled)');
    expect(out).toContain(`→ ${waitingGoal} waits for plan approval: cahoots approve ${waitingGoal} --data-dir ${dataDir}  (or reject)`);
    expect(out).toContain(`✖ ${failedGoal} failed (Budget.Exceeded): spent 5.02 USD of a 5 USD per-goal budget  · cahoots events ${failedGoal} --data-dir ${dataDir}`);
    expect(out.trimEnd().split('\n').at(-1)).toBe('Waiting for you: 1 approval(s), 1 failed goal(s).');
    expect(out).toContain(watched);
  }, 180_000);
});
