// The EMF metrics a goal's agent runs emit, captured from standard output as CloudWatch would read
// them: every run outcome (AgentRunSucceeded, AgentRunFailed, BudgetExceeded) is one datapoint
// per run, carrying the run's role — never a second, role-less copy — and every model call's token
// and cost metrics carry the dimensions the dashboards read.
import { afterEach, describe, expect, it, vi } from 'vitest';

// Metrics are off for the test suite; this file turns them on before any module creates the
// shared Metrics instance or the handlers' middleware.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

const { forTask, planTurns, qaTurns, reviewTurns, startHarness, writeAndFinish } = await import('./harness');
type Harness = Awaited<ReturnType<typeof startHarness>>;
type ReplayConversation = import('./harness').ReplayConversation;

interface EmfDatapoint {
  metric: string;
  value: number;
  dimensions: Record<string, string>;
}

/** Captures the EMF documents written to standard output and flattens them into datapoints. */
function captureEmf(): { datapoints: () => EmfDatapoint[]; restore: () => void } {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('"_aws"')) {
      lines.push(...text.split('\n').filter((line) => line.trim().startsWith('{')));
      return true;
    }
    return original(chunk, ...(rest as []));
  });
  return {
    restore: () => spy.mockRestore(),
    datapoints: () =>
      lines.flatMap((line) => {
        const doc = JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
        // CloudWatch records one datapoint per metric and dimension set.
        return doc._aws.CloudWatchMetrics.flatMap((directive) =>
          directive.Metrics.flatMap((m) =>
            directive.Dimensions.map((names) => {
              const values = doc[m.Name];
              return {
                metric: m.Name,
                // Powertools writes an array when a metric was added more than once in one document.
                value: Array.isArray(values) ? values.reduce((a: number, b: number) => a + b, 0) : Number(values),
                dimensions: Object.fromEntries(names.map((n) => [n, String(doc[n])])),
              };
            }),
          ),
        );
      }),
  };
}

const OUTCOMES = ['AgentRunSucceeded', 'AgentRunFailed', 'BudgetExceeded'];

/** Outcome datapoints, each as `metric/role`, in a stable order. */
function outcomes(datapoints: EmfDatapoint[]): string[] {
  return datapoints
    .filter((d) => OUTCOMES.includes(d.metric))
    .flatMap((d) => Array.from({ length: d.value }, () => `${d.metric}/${d.dimensions.role ?? '(no role)'}`))
    .sort();
}

const gate: ReplayConversation[] = [
  { name: 'review', match: { role: 'reviewer' }, turns: reviewTurns('approved') },
  { name: 'qa', match: { role: 'qa' }, turns: qaTurns() },
];
const oneTask = (): ReplayConversation[] => [
  { name: 'plan', match: { role: 'planner' }, turns: planTurns([{ id: 'a', title: 'Create module alpha' }]) },
  { name: 'a', match: forTask('developer', 'Create module alpha'), turns: writeAndFinish('src/alpha.js', 'export const alpha = 1;\n', 'alpha added') },
  ...gate,
];

let h: Harness | undefined;
let capture: ReturnType<typeof captureEmf> | undefined;
afterEach(async () => {
  capture?.restore();
  capture = undefined;
  await h?.stop();
  h = undefined;
});

describe('agent run outcome metrics', () => {
  it('counts each run once, with its role, including a failed attempt that a stronger model retries', async () => {
    h = await startHarness({
      models: (replay) => ({
        all: [
          replay('weak', [
            ...oneTask().filter((c) => c.name !== 'a'),
            {
              name: 'a',
              match: forTask('developer', 'Create module alpha'),
              turns: [
                { content: [{ type: 'toolUse', name: 'finish', input: { notes: 'forgot the summary' } }] },
                { content: [{ type: 'toolUse', name: 'finish', input: { notes: 'still no summary' } }] },
              ],
            },
          ]),
          replay('strong', oneTask()),
        ],
      }),
    });
    capture = captureEmf();
    const { goal, executionId } = await h.startGoal('Add alpha');
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const datapoints = capture.datapoints();
    expect(outcomes(datapoints)).toEqual([
      'AgentRunFailed/developer',
      'AgentRunSucceeded/developer',
      'AgentRunSucceeded/planner',
      'AgentRunSucceeded/qa',
      'AgentRunSucceeded/reviewer',
    ]);

    // Every model call: each token metric once by model/role/project and once by role alone; cost once.
    const calls = (await h.events(goal.id)).filter((e) => e.type === 'Model.Called');
    expect(calls.length).toBeGreaterThan(4);
    const shapes = (metric: string) => datapoints.filter((d) => d.metric === metric).map((d) => Object.keys(d.dimensions).sort().join(','));
    for (const metric of ['TokensIn', 'TokensOut', 'TokensCacheRead', 'TokensCacheWrite']) {
      expect(shapes(metric).filter((shape) => shape === 'model,projectId,role,service'), metric).toHaveLength(calls.length);
      expect(shapes(metric).filter((shape) => shape === 'role,service'), metric).toHaveLength(calls.length);
      expect(shapes(metric), metric).toHaveLength(2 * calls.length);
    }
    expect(shapes('CostUsd')).toEqual(calls.map(() => 'model,projectId,role,service'));

    // The ended goal's cost, once per kind, for the "infrastructure vs tokens" graph.
    const goalCost = datapoints.filter((d) => d.metric === 'GoalCostUsd');
    expect(goalCost.map((d) => `${Object.keys(d.dimensions).sort().join(',')}=${d.dimensions.kind}`).sort()).toEqual([
      'kind,service=infrastructure',
      'kind,service=tokens',
    ]);
    expect(goalCost.find((d) => d.dimensions.kind === 'infrastructure')!.value).toBeGreaterThan(0);
  });

  it('counts a run stopped by the budget once, as BudgetExceeded and not also as a failure', async () => {
    let developerModel = '';
    h = await startHarness({
      models: (replay) => {
        developerModel = replay('priced', oneTask());
        return { all: [replay('free', oneTask())], byRole: { developer: [developerModel] } };
      },
      project: { budgets: { perGoalUsd: 1 } },
    });
    // The developer's model is so dear that its first call's worst case exceeds the goal's budget.
    h.local.runtime.config.prices = { [developerModel]: { input: 1000, output: 1000, cacheRead: 1000, cacheWrite: 1000 } };
    capture = captureEmf();
    const { goal } = await h.startGoal('Add alpha');
    const deadline = Date.now() + 30_000;
    while ((await h.local.store.goals.get(goal.id)).status !== 'AWAITING_APPROVAL') {
      if (Date.now() > deadline) throw new Error('the goal never stopped at the budget');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(outcomes(capture.datapoints())).toEqual(['AgentRunSucceeded/planner', 'BudgetExceeded/developer']);
  });
});
