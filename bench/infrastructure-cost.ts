// Infrastructure vs token cost of the example goal (examples/todo-app, the goal `npm run demo` runs):
// the goal runs on the local runtime with its recorded model turns, whose recorded token counts are
// priced as Claude Sonnet 4.5 on Bedrock (global profile), and the infrastructure it consumed is
// read back from GET /goals/{id}. A Lambda bills an agent worker while it waits for the model, and
// a replayed model answers at once, so the bench also prices the wait a real model would add
// (time to first token + output tokens at a typical rate) as agent worker GB-seconds.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getGoalDetail } from '../lib/api/goals';
import { apiDependencies } from '../lib/api/dependencies';
import { DEFAULT_INFRASTRUCTURE_PRICES, FUNCTION_MEMORY_MB, gbSeconds, infrastructureCostBreakdown } from '../lib/domain/infrastructure-cost';
import { startLocalRuntime } from '../lib/local/runtime';
import { goalStream } from '../lib/store/index';
import { createTempRepo } from '../test/support/temp-repo';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const GOAL = 'Add a remove(id) function and a count of open todos, with tests';
/** Claude Sonnet 4.5 through Bedrock's global profile, USD per 1M tokens (lib/models/pricing.ts). */
const SONNET = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
/** Typical Bedrock Sonnet latency: time to first token, and output tokens per second after it. */
const FIRST_TOKEN_MS = 800;
const OUTPUT_TOKENS_PER_SECOND = 60;

export interface InfrastructureCostFigures {
  tokenUsd: number;
  infrastructureUsd: number;
  /** Agent worker GB-seconds a real model's answering time adds, priced. */
  modelWaitUsd: number;
  modelCalls: number;
  quantities: Record<string, number>;
}

function filesOf(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return files;
}

export async function measureExampleGoal(): Promise<InfrastructureCostFigures> {
  const repo = createTempRepo(filesOf(join(EXAMPLES, 'todo-app')));
  const model = `replay:${join(EXAMPLES, 'todo-app.replay.json')}`;
  const local = await startLocalRuntime({ config: { workspaceRoot: repo.scratch, defaultModels: [model], prices: { 'replay:': SONNET } } });
  try {
    const project = await local.store.projects.create({
      name: 'todo-app',
      repo: { path: repo.dir, defaultBranch: 'main' },
      autonomyLevel: 4,
      allowedCommands: ['node --test'],
    });
    const goal = await local.store.goals.create({ projectId: project.id, title: GOAL, description: GOAL });
    const { executionId } = await local.runtime.ports.pipeline.startGoal({ goalId: goal.id, projectId: project.id });
    const outcome = await local.runner.waitForExecution(executionId);
    const { cost, goal: done } = await getGoalDetail(await apiDependencies(), goal.id);
    if (outcome.status !== 'SUCCEEDED' || done.status !== 'SUCCEEDED') throw new Error(`the example goal ended ${done.status}: ${JSON.stringify(outcome)}`);
    const calls = [];
    for (let after = 0; ; ) {
      const page = await local.store.events.readEvents(goalStream(goal.id), after, 100);
      calls.push(...page.events.filter((e) => e.type === 'Model.Called'));
      if (!page.hasMore) break;
      after = page.lastSeq;
    }
    const waitMs = calls.reduce((sum, e) => sum + FIRST_TOKEN_MS + (1000 * Number(e.data.outputTokens ?? 0)) / OUTPUT_TOKENS_PER_SECOND, 0);
    const { usd, ...quantities } = cost.infrastructure;
    return {
      tokenUsd: cost.usd,
      infrastructureUsd: usd,
      modelWaitUsd: gbSeconds(FUNCTION_MEMORY_MB.agentWorker, waitMs) * DEFAULT_INFRASTRUCTURE_PRICES.lambdaGbSecond,
      modelCalls: calls.length,
      quantities,
    };
  } finally {
    await local.stop();
    repo.cleanup();
  }
}

/** The bench section: prints the example goal's token and infrastructure cost and their ratio. */
export async function printInfrastructureCost(): Promise<void> {
  const f = await measureExampleGoal();
  const pct = (part: number) => `${((100 * part) / f.tokenUsd).toFixed(2)}%`;
  const usd = (value: number) => `$${value.toFixed(6)}`;
  const withWait = f.infrastructureUsd + f.modelWaitUsd;
  console.log(`\nInfrastructure vs token cost of the example goal (examples/todo-app, ${f.modelCalls} model calls priced as Claude Sonnet 4.5)\n`);
  console.log(`  token cost                                   ${usd(f.tokenUsd)}`);
  console.log(`  infrastructure, as measured locally          ${usd(f.infrastructureUsd)}  = ${pct(f.infrastructureUsd)} of tokens`);
  console.log(`  + agent workers waiting on a real model      ${usd(f.modelWaitUsd)}  (${FIRST_TOKEN_MS} ms + ${OUTPUT_TOKENS_PER_SECOND} output tokens/s per call)`);
  console.log(`  infrastructure in a cell, estimated          ${usd(withWait)}  = ${pct(withWait)} of tokens (goal: ≤ 1%)`);
  const q = f.quantities;
  console.log(
    `  consumed: Lambda ${q.lambdaGbSeconds!.toFixed(2)} GB-s in ${q.lambdaRequests} invocations · sandbox ${q.sandboxGbSeconds!.toFixed(2)} GB-s · ` +
      `${q.stateTransitions} state transitions · ${q.sqsRequests} SQS requests · DynamoDB ${q.dynamoReadUnits!.toFixed(0)} read / ${q.dynamoWriteUnits!.toFixed(0)} write units · ${q.busEvents} bus events`,
  );
  const parts = { ...infrastructureCostBreakdown(q, DEFAULT_INFRASTRUCTURE_PRICES), 'model wait': f.modelWaitUsd };
  console.log(
    '  by resource, % of token cost: ' +
      Object.entries(parts)
        .sort(([, a], [, b]) => b - a)
        .map(([name, value]) => `${name} ${pct(value)}`)
        .join(' · '),
  );
}
