// The CI-sized slice of `npm run chaos` (chaos/harness.ts): a goal on a spawned `cahoots dev`
// whose model answers with 429s, 500s, timeouts and cut-off replies while the process is killed
// with SIGKILL and started again on the same data directory. The goal must end SUCCEEDED with an
// event log numbered without gap or duplicate and a branch holding exactly the planned files.
// The checks themselves are shown to catch what they look for on a real repository and log.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventLogProblems, formatReport, runChaos, treeProblems, type ChaosReport } from '../../chaos/harness';
import { FAULT_KINDS } from '../../chaos/model';
import { randomStream } from '../../chaos/random';
import { baseFiles, expectedTree, planGoal } from '../../chaos/scenario';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

describe('chaos slice: faults and kill-and-restart cycles on cahoots dev', () => {
  let report: ChaosReport;

  it('ends every goal SUCCEEDED with an intact event log and exactly the planned files', async () => {
    // This seed plans one small task and faults the first ask of five of its model calls, one of
    // each kind (faults are drawn per call, so the first asks do not depend on timing).
    report = await runChaos({ seed: 'ci-slice-98', cycles: 1, faultRate: 0.3 });
    expect(report.violations, formatReport(report)).toEqual([]);
    expect(report.kills).toBe(1);
    expect(report.goals).toBeGreaterThanOrEqual(1);
    expect(report.goalsByStatus).toEqual({ SUCCEEDED: report.goals });
    for (const kind of FAULT_KINDS) expect(report.faults[kind], kind).toBeGreaterThanOrEqual(1);
    expect(report.eventsChecked).toBeGreaterThan(0);
    expect(formatReport(report)).toMatch(/integrity violations {2}0/);
  });
});

describe('chaos checks', () => {
  let repo: TempRepo;
  afterAll(() => repo?.cleanup());

  it('finds an extra file, a missing file and a ledger line written twice on a delivered branch', () => {
    const plan = planGoal(1, randomStream('checks', 'goal:1'));
    const expected = expectedTree(plan);
    repo = createTempRepo(baseFiles());
    repo.git('checkout', '--quiet', '-b', 'cahoots/delivered');
    const [task] = plan.tasks;
    const files: Record<string, string> = { ...expected, 'notes/leftover.md': 'from a killed attempt\n' };
    delete files[task!.files[0]!.path];
    // What an attempt that inherits a killed attempt's edit produces: the line twice.
    files[task!.ledger.path] = expected[task!.ledger.path]!.replace(task!.ledger.line, `${task!.ledger.line}\n${task!.ledger.line}`);
    for (const path of Object.keys(expected)) rmSync(join(repo.dir, path), { force: true });
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(repo.dir, path)), { recursive: true });
      writeFileSync(join(repo.dir, path), content);
    }
    repo.git('add', '--all');
    repo.git('commit', '--quiet', '-m', 'delivered');

    const problems = treeProblems(repo.dir, 'cahoots/delivered', expected);
    expect(problems).toContain('cahoots/delivered holds notes/leftover.md, which no task wrote');
    expect(problems).toContain(`cahoots/delivered lacks ${task!.files[0]!.path}`);
    expect(problems.some((p) => p.startsWith(`cahoots/delivered:${task!.ledger.path} differs from the plan`))).toBe(true);
    expect(treeProblems(repo.dir, 'main', baseFiles())).toEqual([]);
  });

  it('finds a gap, a duplicate event, a second ending and a task that succeeded twice', () => {
    const e = (seq: number, type: string, eventId = `evt_${seq}`, taskId?: string) => ({ seq, type, eventId, ...(taskId ? { taskId } : {}) });
    const intact = [e(1, 'Goal.Created'), e(2, 'Task.Created', 'evt_2', 'task_a'), e(3, 'Task.Succeeded', 'evt_3', 'task_a'), e(4, 'Goal.Completed')];
    expect(eventLogProblems(intact, 'SUCCEEDED')).toEqual([]);
    expect(eventLogProblems([intact[0]!, intact[1]!, intact[3]!], 'SUCCEEDED')).toContain('event 3 has seq 4 (Goal.Completed): a gap or a duplicate');
    expect(eventLogProblems([...intact.slice(0, 3), e(4, 'Task.Succeeded', 'evt_3', 'task_a'), e(5, 'Goal.Completed')], 'SUCCEEDED')).toEqual([
      'eventId evt_3 appears 2 times',
      'Task.Succeeded of task_a appears 2 times',
    ]);
    expect(eventLogProblems([...intact, e(5, 'Goal.Failed')], 'SUCCEEDED')).toEqual(['the goal is SUCCEEDED but its log ends it with [Goal.Completed, Goal.Failed]']);
  });
});
