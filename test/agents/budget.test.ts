import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BudgetExceededError, createFixedBudget, runAgent, type AgentEvent } from '../../lib/agents/index';
import { createModelGateway } from '../../lib/models/index';
import { openaiToolCalls, startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { createTempRepo, type TempRepo } from '../support/temp-repo';
import { makeTask, newIds } from './support';

describe('createFixedBudget', () => {
  it('refuses a worst case that would overrun what is left, and charges actual costs', async () => {
    const budget = createFixedBudget(1);
    await budget.check(1);
    await budget.charge(0.75);
    expect(budget.remainingUsd()).toBe(0.25);
    await budget.check(0.25);
    const error = await budget.check(0.250001).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({ stepFunctionsError: 'Budget.Exceeded', remainingUsd: 0.25, limitUsd: 1, worstCaseUsd: 0.250001 });
    expect((error as Error).message).toMatch(/could cost up to \$0\.250001 but the fixed budget has \$0\.250000 left of \$1\.000000/);
  });

  it('does not drift over many small charges', async () => {
    const budget = createFixedBudget(0.3);
    for (let i = 0; i < 3; i++) await budget.charge(0.1);
    expect(budget.spentUsd()).toBe(0.3);
    await expect(budget.check(0)).resolves.toBeUndefined();
  });

  it('rejects nonsense limits and charges', async () => {
    expect(() => createFixedBudget(-1)).toThrow(RangeError);
    expect(() => createFixedBudget(Number.NaN)).toThrow(RangeError);
    await expect(createFixedBudget(1).charge(-0.1)).rejects.toThrow(RangeError);
  });
});

describe('runAgent with a budget (OpenAI-compatible fake over HTTP)', () => {
  let fake: FakeOpenAI;
  let repo: TempRepo;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    fake.reset();
    repo?.cleanup();
  });

  // Local servers are free by rule; a configured price makes this one cost $10 per 1M tokens.
  const pricedGateway = () =>
    createModelGateway({ policy: [`openai:priced-model@${fake.baseUrl}`], prices: { 'openai:priced-model': { input: 10, output: 10 } } });

  it('stops before the call that could exceed the budget; the provider never receives it', async () => {
    repo = createTempRepo();
    // The first call reports 100k prompt tokens: $1.0005 spent against a $0.50 budget.
    fake.reply(openaiToolCalls([{ name: 'read_file', arguments: { path: 'README.md' } }], { prompt_tokens: 100_000, completion_tokens: 50 }));
    fake.reply(openaiToolCalls([{ name: 'finish', arguments: { summary: 'never reached' } }]));
    const events: AgentEvent[] = [];
    const budget = createFixedBudget(0.5);
    const error = await runAgent({
      role: 'developer',
      task: makeTask(newIds()),
      settings: { workingDir: repo.dir },
      model: { gateway: pricedGateway() },
      limits: { budget, maxOutputTokens: 1_000 },
      hooks: { onEvent: (e) => void events.push(e) },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(fake.requests).toHaveLength(1);
    expect(fake.pending()).toBe(1);
    const exceeded = error as BudgetExceededError;
    expect(exceeded.run).toMatchObject({ outcome: 'budget-exceeded', costUsd: 1.0005, modelCallCount: 1, error: { code: 'Budget.Exceeded' } });
    expect(budget.spentUsd()).toBe(1.0005);
    expect(events.find((e) => e.type === 'Budget.Exceeded')?.data).toMatchObject({ limitUsd: 0.5, remainingUsd: -0.5005 });
  });

  it('prices the worst case of the whole request: input at the dearest input rate plus every output token', async () => {
    repo = createTempRepo();
    fake.reply(openaiToolCalls([{ name: 'finish', arguments: { summary: 'x' } }]));
    const checks: number[] = [];
    const error = await runAgent({
      role: 'developer',
      task: makeTask(newIds()),
      settings: { workingDir: repo.dir },
      model: { gateway: pricedGateway() },
      limits: {
        // Just under the output allowance alone: 1000 tokens × $10 / 1M = $0.01.
  budget: {
          async check(usd) {
            checks.push(usd);
            return createFixedBudget(0.01).check(usd);
          },
          async charge() {},
        },
        maxOutputTokens: 1_000,
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(fake.requests).toHaveLength(0);
    expect(checks[0]).toBeGreaterThan(0.01);
  });

  it('prices a bare converse function at the dearest default price, so an unknown model cannot slip past', async () => {
    repo = createTempRepo();
    fake.reply(openaiToolCalls([{ name: 'finish', arguments: { summary: 'x' } }]));
    const gateway = pricedGateway();
    const error = await runAgent({
      role: 'developer',
      task: makeTask(newIds()),
      settings: { workingDir: repo.dir },
      model: { gateway: (request, options) => gateway.converse(request, options) },
      limits: {
        // $0.10 would cover this model at $10 per 1M, not 1000 output tokens at the default $75 per 1M plus the input.
  budget: createFixedBudget(0.1),
        maxOutputTokens: 1_000,
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(fake.requests).toHaveLength(0);
  });
});
