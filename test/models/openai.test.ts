// The OpenAI-compatible provider and the gateway over real HTTP against a Chat Completions fake.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../lib/powertools';
import {
  ModelProviderError,
  ModelUnavailableError,
  ModelCallAbortedError,
  type ConverseRequest,
} from '../../lib/models/index';
import { openaiError, openaiText, openaiToolCalls, startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { recordingGateway, type RecordingGatewayOptions } from '../support/recording-gateway';

let fake: FakeOpenAI;
let local: string;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  local = `openai:llama3.1:8b@${fake.baseUrl}`;
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const searchTool = {
  name: 'search',
  description: 'Search the worktree',
  inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};

function request(extra: Partial<ConverseRequest> = {}): ConverseRequest {
  return {
    system: 'You are the QA engineer.',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Check the login tests.' }] }],
    maxTokens: 512,
    tags: { role: 'qa' },
    ...extra,
  };
}

function gateway(policy: string[], extra: Omit<RecordingGatewayOptions, 'policy' | 'random'> = {}) {
  return recordingGateway({ policy, random: 0.25, retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5_000 }, ...extra });
}

describe('openai provider over Chat Completions', () => {
  it('runs a tool-call round trip in the Chat Completions wire shape', async () => {
    fake.reply(
      openaiToolCalls([{ id: 'call_abc', name: 'search', arguments: { query: 'login' } }], { prompt_tokens: 120, completion_tokens: 20 }),
      openaiText('All 12 login tests pass.', { prompt_tokens: 180, completion_tokens: 9 }),
    );
    const { gw } = gateway([local]);
    const first = await gw.converse(request({ tools: [searchTool] }));
    expect(first.stopReason).toBe('tool_use');
    expect(first.content).toEqual([{ type: 'toolUse', id: 'call_abc', name: 'search', input: { query: 'login' } }]);

    const second = await gw.converse(
      request({
        tools: [searchTool],
        messages: [
          ...request().messages,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [
              { type: 'toolResult', toolUseId: 'call_abc', content: 'test/login.test.ts' },
              { type: 'text', text: 'Keep going.' },
            ],
          },
        ],
      }),
    );
    expect(second).toMatchObject({ stopReason: 'end_turn', content: [{ type: 'text', text: 'All 12 login tests pass.' }] });

    expect(fake.requests[0]!.path).toBe('/v1/chat/completions');
    expect(fake.requests[0]!.body).toEqual({
      model: 'llama3.1:8b',
      messages: [
        { role: 'system', content: 'You are the QA engineer.' },
        { role: 'user', content: 'Check the login tests.' },
      ],
      max_tokens: 512,
      tools: [{ type: 'function', function: { name: 'search', description: 'Search the worktree', parameters: searchTool.inputSchema } }],
    });
    expect(fake.requests[1]!.body.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'search', arguments: '{"query":"login"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_abc', content: 'test/login.test.ts' },
      { role: 'user', content: 'Keep going.' },
    ]);
  });

  it('tells the model in words that a tool failed', async () => {
    fake.reply(openaiText('ok'));
    await gateway([local]).gw.converse(
      request({
        messages: [
          ...request().messages,
          { role: 'assistant', content: [{ type: 'toolUse', id: 'c1', name: 'search', input: {} }] },
          { role: 'user', content: [{ type: 'toolResult', toolUseId: 'c1', content: 'no such file', isError: true }] },
        ],
      }),
    );
    expect(fake.requests[0]!.body.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'c1', content: 'ERROR: no such file' });
  });

  it('counts cached prompt tokens as cache reads, not input, and prices a remote model', async () => {
    fake.reply(openaiText('cached', { prompt_tokens: 3000, completion_tokens: 100, cached_tokens: 2048 }));
    // The fake listens on 127.0.0.1, which is free by rule; a configured price (a spec prefix)
    // outranks that rule, as it would for a hosted API.
    const { gw, events } = gateway([`openai:my-model@${fake.baseUrl}`], {
      prices: { 'openai:my-model@': { input: 2, output: 8, cacheRead: 0.5 } },
    });
    const result = await gw.converse(request());
    expect(result.usage).toEqual({ inputTokens: 952, outputTokens: 100, cacheReadTokens: 2048, cacheWriteTokens: 0 });
    // 952×2 + 100×8 + 2048×0.5 = 3 728 µ$
    expect(result.costUsd).toBe(0.003728);
    expect(result.priceKnown).toBe(true);
    expect(events[0]).toMatchObject({ type: 'Model.Called', data: { provider: 'openai', cacheReadTokens: 2048, inputTokens: 952 } });
  });

  it('prices a local server at zero', async () => {
    fake.reply(openaiText('free', { prompt_tokens: 5000, completion_tokens: 1000 }));
    const result = await gateway([local]).gw.converse(request());
    expect(result).toMatchObject({ costUsd: 0, priceKnown: true });
  });

  it('sends OPENAI_API_KEY as a Bearer token, or the configured key instead', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-from-env');
    fake.reply(openaiText('a'), openaiText('b'));
    await gateway([local]).gw.converse(request());
    await gateway([local], { providers: { openai: { apiKey: 'sk-configured' } } }).gw.converse(request());
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-from-env', 'Bearer sk-configured']);
  });

  it('asks a key function before every call, so a rotated secret is picked up, and never falls back to OPENAI_API_KEY', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-from-env');
    const keys = ['sk-secret-1', 'sk-secret-2'];
    fake.reply(openaiText('a'), openaiText('b'));
    const { gw } = gateway([local], { providers: { openai: { apiKey: async () => keys.shift()! } } });
    await gw.converse(request());
    await gw.converse(request());
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-secret-1', 'Bearer sk-secret-2']);
  });

  it('fails at once, without calling the server, when the key cannot be read', async () => {
    const { gw } = gateway([local], {
      providers: { openai: { apiKey: () => Promise.reject(new Error('the secret "openai/api-key" does not exist or is empty')) } },
    });
    await expect(gw.converse(request())).rejects.toThrow(/after 1 attempt: could not read the API key for openai:.*"openai\/api-key" does not exist/);
    expect(fake.requests).toHaveLength(0);
  });

  it('retries a 429, honouring Retry-After up to the cap, then succeeds', async () => {
    fake.reply(openaiError(429, 'Rate limit reached', { 'retry-after': '2' }), openaiText('ok'));
    const { gw, sleeps, events } = gateway([local]);
    const result = await gw.converse(request());
    expect(result.record.attempts).toBe(2);
    // jitter would give 0.25 × 200 = 50 ms; the server asked for 2 s
    expect(sleeps).toEqual([2000]);
    expect(events[0]).toMatchObject({ type: 'Model.Retrying', data: { kind: 'throttled', delayMs: 2000 } });
  });

  it('falls back to the second model after repeated 500s', async () => {
    const second = `openai:qwen2.5-coder@${fake.baseUrl}`;
    fake.replyFor('llama3.1:8b', openaiError(500, 'CUDA out of memory'), openaiError(502, 'bad gateway'), openaiError(503, 'loading model'));
    fake.replyFor('qwen2.5-coder', openaiText('from qwen'));
    const { gw, events, sleeps } = gateway([local, second]);
    const result = await gw.converse(request());
    expect(result.spec).toBe(second);
    expect(sleeps).toEqual([50, 100]);
    expect(events.filter((e) => e.type === 'Model.Fallback')).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ from: local, to: second, kind: 'unavailable', reason: expect.stringContaining('loading model') }),
      }),
    ]);
  });

  it('times out through AbortSignal and reports every model when nothing answers', async () => {
    fake.reply({ ...openaiText('late'), delayMs: 5_000 }, { ...openaiText('late'), delayMs: 5_000 });
    const { gw } = gateway([local], { timeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = (await gw.converse(request()).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect(error.failures[0]).toMatchObject({ spec: local, attempts: 2 });
    expect((error.failures[0]!.error as ModelProviderError).kind).toBe('timeout');
    expect(error.message).toContain('did not answer within 150 ms');
  });

  it('stops at once when the caller aborts, without retrying or falling back', async () => {
    fake.reply({ ...openaiText('late'), delayMs: 5_000 });
    const controller = new AbortController();
    const { gw, events } = gateway([local, `openai:other@${fake.baseUrl}`]);
    setTimeout(() => controller.abort(), 50);
    await expect(gw.converse(request({ signal: controller.signal }))).rejects.toBeInstanceOf(ModelCallAbortedError);
    expect(fake.requests).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('retries a reply cut off mid-body like a 5xx, and succeeds', async () => {
    const whole = JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'the whole answer' }, finish_reason: 'stop' }] });
    fake.reply({ type: 'raw', status: 200, body: whole.slice(0, 40) }, openaiText('the whole answer'));
    const { gw, events } = gateway([local]);
    const result = await gw.converse(request());
    expect(result.content).toEqual([{ type: 'text', text: 'the whole answer' }]);
    expect(fake.requests).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: 'Model.Retrying', data: { kind: 'malformed_reply', attempt: 1 } });
  });

  it('reports a reply that stays unreadable with the raw text, after the retries', async () => {
    const garbage = { type: 'raw' as const, status: 200, body: 'Internal proxy says: upstream exploded' };
    fake.reply(garbage, garbage, garbage);
    const error = (await gateway([local]).gw.converse(request()).catch((e: unknown) => e)) as ModelUnavailableError;
    const cause = error.failures[0]!.error as ModelProviderError;
    expect(cause.kind).toBe('malformed_reply');
    expect(cause.message).toContain('not JSON (cut off?): Internal proxy says: upstream exploded');
    expect(error.failures[0]!.attempts).toBe(3);
    expect(fake.requests).toHaveLength(3);
  });

  it('retries cut-off tool-call arguments, then reports them with the raw text instead of crashing', async () => {
    const cut = openaiToolCalls([{ id: 'c9', name: 'search', arguments: '{"query": "login' }]);
    fake.reply(cut, cut, cut);
    const error = (await gateway([local]).gw.converse(request({ tools: [searchTool] })).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error).toBeInstanceOf(ModelUnavailableError);
    const cause = error.failures[0]!.error as ModelProviderError;
    expect(cause).toBeInstanceOf(ModelProviderError);
    expect(cause.kind).toBe('malformed_reply');
    expect(cause.message).toContain('called tool search with arguments that are not JSON: {"query": "login');
    expect(fake.requests).toHaveLength(3);
  });

  it('accepts the quirks of compatible servers: empty arguments, missing ids, "stop" with tool calls, no usage', async () => {
    fake.reply({
      type: 'message',
      content: 'Listing.',
      toolCalls: [{ id: '', name: 'list_files', arguments: '' }],
      finishReason: 'stop',
      usage: null,
    });
    const result = await gateway([local]).gw.converse(request());
    expect(result.stopReason).toBe('tool_use');
    expect(result.content).toEqual([
      { type: 'text', text: 'Listing.' },
      { type: 'toolUse', id: 'call_0', name: 'list_files', input: {} },
    ]);
    // No usage block: estimated, never zero.
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('keeps the server\'s message for a 400 and does not retry it', async () => {
    fake.reply(openaiError(400, "This model's maximum context length is 8192 tokens"));
    const { gw, sleeps } = gateway([local]);
    const error = (await gw.converse(request()).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error.message).toContain("HTTP 400: This model's maximum context length is 8192 tokens");
    expect(sleeps).toEqual([]);
  });

  it('retries when the server cannot be reached at all', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const { gw, sleeps } = gateway(['openai:x@http://127.0.0.1:9/v1']);
    const error = (await gw.converse(request()).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error.failures[0]!.error as ModelProviderError).kind).toBe('unavailable');
    expect(error.failures[0]!.attempts).toBe(3);
    expect(sleeps).toHaveLength(2);
  });
});
