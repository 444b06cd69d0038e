// A scripted 20-turn developer task, run through the real agent loop, gateway and Bedrock
// provider against the fake Converse server with Bedrock's prompt-cache billing. The project and
// the model's replies are generated deterministically: reading, searching, editing and writing
// files of realistic size, then finish. Used by the prompt-cache tests and `npm run bench`.
import { runAgent, type CachePolicy } from '../../lib/agents/index';
import { createModelGateway, resetBedrockClients, type ModelCallRecord } from '../../lib/models/index';
import { BedrockPromptCache, fakeTokens, type CacheAccount } from './bedrock-prompt-cache';
import { bedrockToolUse, startFakeBedrock, type RecordedBedrockRequest } from './fake-bedrock';
import { createTempRepo } from './temp-repo';

export const DEVELOPER_LOOP_MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
/** Seconds of model time and tool time a turn takes, on the simulated clock the cache expires by. */
const TURN_SECONDS = 30;

export interface DeveloperLoopOptions {
  cachePolicy: CachePolicy;
  /** Turns before finish (the run makes this many model calls). */
  turns?: number;
  modelId?: string;
  /** Minimum tokens of a cached segment in the fake (Bedrock's figure for the model). */
  minCacheTokens?: number;
  /** The loop's elision threshold; the default keeps the whole conversation. */
  maxContextTokens?: number;
}

export interface DeveloperLoopResult {
  accounts: CacheAccount[];
  requests: RecordedBedrockRequest[];
  calls: ModelCallRecord[];
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  /** Cache reads over all input tokens (plain, read and written). */
  readShare: number;
  costUsd: number;
}

// ---- the project ----------------------------------------------------------------------------

const MODULES = ['orders/service', 'orders/repository', 'orders/types', 'shared/errors', 'shared/money', 'shared/clock', 'customers/service', 'customers/repository'];

/** A source file of `functions` small documented functions; names are unique per module. */
function sourceFile(module: string, functions: number): string {
  const name = module.replace('/', '_');
  const lines = [`// ${module}: part of the order-handling service.`, `import { fail } from '../shared/errors';`, ''];
  for (let i = 0; i < functions; i++) {
    lines.push(
      `/** Computes step ${i} of ${module} for one order; rejects inputs outside the accepted range. */`,
      `export function ${name}_step${i}(order: { id: string; quantity: number; unitPriceCents: number }): number {`,
      `  if (order.quantity <= 0) return fail('quantity of ' + order.id + ' must be positive (step ${i})');`,
      `  const subtotal = order.quantity * order.unitPriceCents;`,
      `  return Math.round(subtotal * ${(1 + i / 100).toFixed(2)});`,
      '}',
      '',
    );
  }
  return lines.join('\n');
}

function agentsMd(): string {
  const rules = Array.from({ length: 40 }, (_, i) =>
    `- Rule ${i + 1}: keep modules small and typed; validate inputs at the boundary, return errors as values, and test each branch (convention ${i + 1}).`,
  );
  return ['# Order service', '', 'How we work in this repository.', '', ...rules, ''].join('\n');
}

function projectFiles(): Record<string, string> {
  const files: Record<string, string> = { 'AGENTS.md': agentsMd(), 'package.json': '{\n  "name": "orders",\n  "type": "module"\n}\n' };
  MODULES.forEach((module, i) => (files[`src/${module}.ts`] = sourceFile(module, 24 + (i % 4) * 8)));
  files['test/orders/service.test.ts'] = sourceFile('orders/service_test', 12);
  return files;
}

// ---- the model's side ----------------------------------------------------------------------

type Call = { name: string; input: Record<string, unknown> };

function validationModule(size: number): string {
  return sourceFile('orders/validate', size);
}

/** What the model calls on turn `turn` (1-based) of `turns`. */
function callFor(turn: number, turns: number): Call {
  if (turn >= turns) {
    return { name: 'finish', input: { summary: 'Added order validation with tests.', filesChanged: ['src/orders/validate.ts', 'src/orders/service.ts'] } };
  }
  const module = MODULES[turn % MODULES.length]!;
  const name = module.replace('/', '_');
  switch (turn % 5) {
    case 1:
      return { name: 'read_file', input: { path: `src/${module}.ts` } };
    case 2:
      return { name: 'search_files', input: { query: `step${turn % 7}(` } };
    case 3:
      return {
        name: 'edit_file',
        input: { path: `src/${module}.ts`, oldString: `export function ${name}_step1(`, newString: `export function ${name}_step1_checked${turn}(` },
      };
    case 4:
      return { name: 'write_file', input: { path: `src/orders/validate_${turn}.ts`, content: validationModule(6) } };
    default:
      return { name: 'list_files', input: { path: `src/${module.split('/')[0]}` } };
  }
}

function reply(request: RecordedBedrockRequest, turns: number) {
  const messages = (request.body?.messages ?? []) as { role: string }[];
  const turn = messages.filter((m) => m.role === 'assistant').length + 1;
  const call = callFor(turn, turns);
  const thought = `Turn ${turn}: ${call.name} next, to see how the order code handles this before changing it.`;
  const outputTokens = fakeTokens(thought) + fakeTokens(JSON.stringify(call.input)) + 20;
  return bedrockToolUse([{ toolUseId: `tooluse_${turn}`, name: call.name, input: call.input }], { outputTokens }, thought);
}

// ---- the run --------------------------------------------------------------------------------

export async function runDeveloperLoop(options: DeveloperLoopOptions): Promise<DeveloperLoopResult> {
  const turns = options.turns ?? 20;
  const modelId = options.modelId ?? DEVELOPER_LOOP_MODEL;
  let clockMs = 0;
  const cache = new BedrockPromptCache({ minTokens: () => options.minCacheTokens ?? 1_024, now: () => clockMs });
  const fake = await startFakeBedrock({ promptCache: cache });
  fake.onRequest((request) => {
    clockMs += TURN_SECONDS * 1000;
    return reply(request, turns);
  });
  const repo = createTempRepo(projectFiles());
  // The fake on loopback, signed with throwaway credentials: never a real account's.
  const env = { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined };
  const previousEnv = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  setEnv(env);
  resetBedrockClients();
  const calls: ModelCallRecord[] = [];
  try {
    const gateway = createModelGateway({
      policy: [`bedrock:${modelId}`],
      retry: { maxAttempts: 1 },
      onEvent: (event) => {
        if (event.type === 'Model.Called') calls.push(event.data);
      },
    });
    const ids = { projectId: 'project_cachebench', goalId: 'goal_cachebench', taskId: 'task_cachebench' };
    await runAgent({
      role: 'developer',
      task: {
        id: ids.taskId,
        goalId: ids.goalId,
        projectId: ids.projectId,
        kind: 'feature',
        title: 'Validate orders before they are stored',
        spec: 'createOrder in src/orders/service.ts stores orders without checking them. Add validation (src/orders/validate.ts) and tests.',
        acceptanceCriteria: ['invalid orders are rejected with a clear error', 'the tests cover every rule'],
        files: ['src/orders/service.ts', 'src/orders/types.ts'],
      },
      settings: { workingDir: repo.dir },
      model: { gateway, cachePolicy: options.cachePolicy },
      limits: { maxTurns: turns + 5, ...(options.maxContextTokens ? { maxContextTokens: options.maxContextTokens } : {}) },
      hooks: { now: () => 1_700_000_000_000 + clockMs },
    });
    const sum = (pick: (c: ModelCallRecord) => number) => calls.reduce((n, c) => n + pick(c), 0);
    const inputTokens = sum((c) => c.inputTokens);
    const cacheReadTokens = sum((c) => c.cacheReadTokens);
    const cacheWriteTokens = sum((c) => c.cacheWriteTokens);
    const allInput = inputTokens + cacheReadTokens + cacheWriteTokens;
    return {
      accounts: [...cache.accounts],
      requests: [...fake.requests],
      calls,
      inputTokens,
      cacheReadTokens,
      cacheWriteTokens,
      outputTokens: sum((c) => c.outputTokens),
      readShare: allInput === 0 ? 0 : cacheReadTokens / allInput,
      costUsd: Math.round(sum((c) => c.costUsd) * 1e9) / 1e9,
    };
  } finally {
    resetBedrockClients();
    setEnv(previousEnv);
    await fake.close();
    repo.cleanup();
  }
}


function setEnv(values: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}
