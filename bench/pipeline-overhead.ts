// Local orchestration overhead per task: goals of 1, 10 and 50 independent developer tasks run on
// the local runtime with an instant replay model, and the wall time minus the time spent inside
// model calls is divided by the task count. Everything else is real: state machine, dynalite,
// queues, git working copies, commits and merges.
import type { DynaliteTransport } from '../lib/local/dynalite';
import { forTask, planTurns, reviewTurns, startHarness, type ReplayConversation } from '../test/pipeline/harness';

export interface OverheadSample {
  tasks: number;
  wallMs: number;
  modelMs: number;
  overheadMs: number;
  perTaskMs: number;
  /** CPU time of this process (user + system) per work unit: steadier than wall time on a loaded machine. */
  cpuPerTaskMs: number;
}

export interface OverheadOptions {
  /** How the local store reaches dynalite (the runtime's default when absent). */
  dynamoTransport?: DynaliteTransport;
}

const finishOnly = (summary: string) => [{ content: [{ type: 'toolUse', name: 'finish', input: { summary } }] }];
const qaFinish = [
  { content: [{ type: 'toolUse', name: 'finish', input: { summary: 'No tests to run.', testResults: { passed: 0, failed: 0, skipped: 0 }, passed: true } }] },
];

function script(taskCount: number): ReplayConversation[] {
  const tasks = Array.from({ length: taskCount }, (_, i) => ({ id: `t${i + 1}`, title: `Bench task ${i + 1}` }));
  return [
    { name: 'plan', match: { role: 'planner' }, turns: planTurns(tasks) },
    ...tasks.map((t) => ({ name: t.id, match: forTask('developer', t.title), turns: finishOnly(`${t.title} done`) })),
    { name: 'review', match: { role: 'reviewer' }, turns: reviewTurns('approved') },
    { name: 'qa', match: { role: 'qa' }, turns: qaFinish },
  ];
}

export async function measureOverhead(taskCount: number, parallel: number, options: OverheadOptions = {}): Promise<OverheadSample> {
  const h = await startHarness({
    models: (replay) => ({ all: [replay(`bench-${taskCount}`, script(taskCount))] }),
    project: { maxParallelTasks: parallel, team: { planner: 1, developer: parallel, qa: 1, reviewer: 1 } },
    runtime: { agentConcurrency: { developer: parallel }, ...(options.dynamoTransport ? { dynamoTransport: options.dynamoTransport } : {}) },
  });
  try {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const { goal, executionId } = await h.startGoal(`Bench goal of ${taskCount} tasks`);
    const outcome = await h.wait(executionId);
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    if (outcome.status !== 'SUCCEEDED') throw new Error(`bench goal ended ${outcome.status}: ${JSON.stringify(outcome)}`);
    const events = await h.events(goal.id);
    const modelMs = events.filter((e) => e.type === 'Model.Called').reduce((sum, e) => sum + Number(e.data.latencyMs ?? 0), 0);
    // Work units: the planned tasks plus the planning and the two quality-gate tasks.
    const units = taskCount + 3;
    const overheadMs = wallMs - modelMs;
    return { tasks: taskCount, wallMs, modelMs, overheadMs, perTaskMs: overheadMs / units, cpuPerTaskMs: (cpu.user + cpu.system) / 1000 / units };
  } finally {
    await h.stop();
  }
}
