// Infrastructure cost per goal: request units as the table reports them, the per-step state
// transition estimate against the definition, and one goal run end to end on the local runtime —
// what it consumed is recorded, priced, overridable, and shown by GET /goals/{id} and GET /costs.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getCosts } from '../../lib/api/costs';
import { apiDependencies } from '../../lib/api/dependencies';
import { getGoalDetail } from '../../lib/api/goals';
import { dayOf } from '../../lib/domain/common';
import { AGENT_WORKER_SIZING } from '../../infra/constructs/agent-worker';
import { SANDBOX_SIZING } from '../../infra/constructs/sandbox-function';
import { DEFAULT_INFRASTRUCTURE_PRICES, FUNCTION_MEMORY_MB, infrastructurePrices, priceInfrastructure } from '../../lib/domain/infrastructure-cost';
import { PriceOverridesSchema } from '../../lib/domain/prices';
import { GOAL_PIPELINE_DEFINITION_PATH, PIPELINE_STEPS, type PipelineStepName } from '../../lib/pipeline/definition';
import { STATE_TRANSITIONS_PER_STEP } from '../../lib/pipeline/infrastructure-usage';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { meterInvocationUsage, newInvocationMeter } from '../../lib/store/index';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { forTask, planTurns, qaTurns, reviewTurns, startHarness, writeAndFinish, type Harness, type ReplayConversation } from './harness';

describe('DynamoDB request units', () => {
  let db: LocalDynamo;
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());

  it('are counted inside a metered scope, as the table reports them, and not outside it', async () => {
    const { client, tableName } = db.store;
    const meter = newInvocationMeter();
    await meterInvocationUsage(meter, async () => {
      // 2.5 KB rounds up to 3 write units; a strongly consistent read of it is 1 read unit.
      await client.send(new PutCommand({ TableName: tableName, Item: { PK: 'METER', SK: 'A', body: 'x'.repeat(2_500) } }));
      await client.send(new GetCommand({ TableName: tableName, Key: { PK: 'METER', SK: 'A' }, ConsistentRead: true }));
      await client.send(new GetCommand({ TableName: tableName, Key: { PK: 'METER', SK: 'A' } }));
    });
    expect(meter).toMatchObject({ readUnits: 1.5, writeUnits: 3 });
    await client.send(new GetCommand({ TableName: tableName, Key: { PK: 'METER', SK: 'A' } }));
    expect(meter).toMatchObject({ readUnits: 1.5, writeUnits: 3 });
  });
});

describe('state transitions per step', () => {
  interface State {
    Type: string;
    Resource?: string;
    Parameters?: Record<string, unknown>;
    Next?: string;
    Default?: string;
    Choices?: Array<{ Next: string }>;
    Iterator?: { States: Record<string, State> };
    ItemProcessor?: { States: Record<string, State> };
  }

  /** Control states entered after `name` before the next Task state, on the longest path. */
  function controlStatesAfter(states: Record<string, State>, name: string | undefined): number {
    if (!name) return 0;
    const state = states[name]!;
    switch (state.Type) {
      case 'Task':
        return 0;
      case 'Choice':
        return 1 + Math.max(...[...(state.Choices ?? []).map((c) => c.Next), state.Default].map((next) => controlStatesAfter(states, next)));
      case 'Map':
      case 'Succeed':
      case 'Fail':
        return 1;
      default:
        return 1 + controlStatesAfter(states, state.Next);
    }
  }

  it('match the definition: the step itself plus the control states that follow it', () => {
    const derived: Partial<Record<PipelineStepName, number>> = {};
    const visit = (states: Record<string, State>) => {
      for (const state of Object.values(states)) {
        const text = JSON.stringify({ Resource: state.Resource, Parameters: state.Parameters });
        for (const step of Object.keys(PIPELINE_STEPS) as PipelineStepName[]) {
          if (state.Type === 'Task' && text.includes(`\${${step}FunctionArn}`)) {
            derived[step] = Math.max(derived[step] ?? 0, 1 + controlStatesAfter(states, state.Next));
          }
        }
        const inner = state.Iterator?.States ?? state.ItemProcessor?.States;
        if (inner) visit(inner);
      }
    };
    visit((JSON.parse(readFileSync(GOAL_PIPELINE_DEFINITION_PATH, 'utf8')) as { States: Record<string, State> }).States);
    expect(derived).toEqual(STATE_TRANSITIONS_PER_STEP);
  });
});

describe('function memory', () => {
  it('is priced locally at the sizes the cell gives its functions', () => {
    expect(AGENT_WORKER_SIZING.memorySize).toBe(FUNCTION_MEMORY_MB.agentWorker);
    expect(SANDBOX_SIZING.memorySize).toBe(FUNCTION_MEMORY_MB.sandbox);
  });
});

describe('infrastructure prices', () => {
  it('are overridden through the prices configuration, beside model prices', () => {
    const overrides = PriceOverridesSchema.parse({ infrastructure: { lambdaGbSecond: 0.00002 }, 'bedrock:amazon.nova-lite': { input: 0.06, output: 0.24 } });
    expect(infrastructurePrices(overrides.infrastructure)).toEqual({ ...DEFAULT_INFRASTRUCTURE_PRICES, lambdaGbSecond: 0.00002 });
    expect(() => PriceOverridesSchema.parse({ infrastructure: { lambdaGbSeconds: 1 } })).toThrow(/lambdaGbSeconds/);
    expect(() => PriceOverridesSchema.parse({ infrastructure: { lambdaGbSecond: -1 } })).toThrow();
  });
});

describe('a goal run', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  const oneTask: ReplayConversation[] = [
    { name: 'plan', match: { role: 'planner' }, turns: planTurns([{ id: 'a', title: 'Create module alpha' }]) },
    { name: 'a', match: forTask('developer', 'Create module alpha'), turns: writeAndFinish('src/alpha.js', 'export const alpha = 1;\n', 'alpha added') },
    { name: 'review', match: { role: 'reviewer' }, turns: reviewTurns('approved') },
    { name: 'qa', match: { role: 'qa' }, turns: qaTurns() },
  ];

  it('records what it consumed, priced, in GET /goals/{id} and GET /costs', async () => {
    h = await startHarness({ models: (replay) => ({ all: [replay('m', oneTask)] }) });
    const { goal, executionId } = await h.startGoal('Add alpha');
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const deps = await apiDependencies();
    const { infrastructure } = (await getGoalDetail(deps, goal.id)).cost;

    // Four agent runs (plan, developer, reviewer, QA), each one dispatch: send, receive, delete.
    expect(infrastructure.sqsRequests).toBe(4 * 3);
    // QA's working copy had its dependencies set up (the repository has a lockfile), then QA ran
    // its command: two sandbox invocations.
    expect(infrastructure.sandboxRequests).toBe(2);
    expect(infrastructure.sandboxGbSeconds).toBeGreaterThan(0);
    // Steps: StartGoal, DecidePlanApproval, SelectReadyTasks ×2, OpenQualityGate, EvaluateQualityGate, Deliver, AssessGoal.
    const steps: PipelineStepName[] = ['StartGoal', 'DecidePlanApproval', 'SelectReadyTasks', 'SelectReadyTasks', 'OpenQualityGate', 'EvaluateQualityGate', 'Deliver', 'AssessGoal'];
    expect(infrastructure.lambdaRequests).toBe(steps.length + 4);
    expect(infrastructure.stateTransitions).toBe(steps.reduce((sum, step) => sum + STATE_TRANSITIONS_PER_STEP[step], 0) + 4);
    expect(infrastructure.lambdaGbSeconds).toBeGreaterThan(0);
    expect(infrastructure.dynamoReadUnits).toBeGreaterThan(10);
    expect(infrastructure.dynamoWriteUnits).toBeGreaterThan(20);
    const events = await h.events(goal.id);
    expect(infrastructure.busEvents).toBe(events.length);
    // Each invocation is priced and rounded on its own, so the total agrees to within rounding.
    expect(infrastructure.usd).toBeCloseTo(priceInfrastructure(infrastructure, DEFAULT_INFRASTRUCTURE_PRICES), 7);

    const costs = await getCosts(deps, h.project.id, {});
    const today = costs.infrastructure.byDay.find((d) => d.day === dayOf(new Date()))!;
    expect(costs.infrastructure.total).toEqual(infrastructure);
    expect(today).toEqual({ day: today.day, ...infrastructure });
  });

  it('is priced at the configured infrastructure prices', async () => {
    h = await startHarness({ models: (replay) => ({ all: [replay('m', oneTask)] }) });
    // A price only SQS requests carry, at $1 each: the goal's infrastructure cost is its request count.
    h.local.runtime.config.prices = PriceOverridesSchema.parse({
      infrastructure: { sqsRequest: 1, lambdaGbSecond: 0, lambdaRequest: 0, stateTransition: 0, dynamoReadUnit: 0, dynamoWriteUnit: 0, busEvent: 0 },
    });
    const { goal, executionId } = await h.startGoal('Add alpha');
    expect(await h.wait(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    const { infrastructure } = (await getGoalDetail(await apiDependencies(), goal.id)).cost;
    expect(infrastructure.usd).toBe(12);
  });
});
