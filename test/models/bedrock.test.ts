// The Bedrock provider and the gateway, driven through the real AWS SDK against a local fake of
// the Converse protocol (AWS_ENDPOINT_URL_BEDROCK_RUNTIME), so wire shapes are what AWS gets.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { toProviderError } from '../../lib/models/providers/bedrock';
import { logger } from '../../lib/powertools';
import {
  ModelProviderError,
  ModelUnavailableError,
  resetBedrockClients,
  type ConverseRequest,
} from '../../lib/models/index';
import {
  accessDenied,
  bedrockError,
  bedrockText,
  bedrockToolUse,
  internalServerError,
  startFakeBedrock,
  throttling,
  validationError,
  type FakeBedrock,
} from '../support/fake-bedrock';
import { recordingGateway, type RecordingGatewayOptions } from '../support/recording-gateway';

const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const SONNET = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
const LLAMA = 'meta.llama3-3-70b-instruct-v1:0';

let fake: FakeBedrock;

beforeAll(async () => {
  fake = await startFakeBedrock();
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = fake.url;
  resetBedrockClients();
});

afterAll(async () => {
  resetBedrockClients();
  delete process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  await fake.close();
});

beforeEach(() => fake.reset());

const readFileTool = {
  name: 'read_file',
  description: 'Read a file of the worktree',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

function request(text = 'Add rate limiting to the login endpoint.', extra: Partial<ConverseRequest> = {}): ConverseRequest {
  return {
    system: 'You are the developer of a software team.',
    messages: [{ role: 'user', content: [{ type: 'text', text }] }],
    maxTokens: 1024,
    tags: { role: 'developer', taskId: 'T1' },
    ...extra,
  };
}

function gateway(policy: string[], extra: Omit<RecordingGatewayOptions, 'policy' | 'random'> = {}) {
  return recordingGateway({ policy, random: 0.5, retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 }, ...extra });
}

describe('bedrock provider over the Converse protocol', () => {
  it('signs requests with SigV4 and sends the inference-profile id in the path', async () => {
    fake.reply(bedrockText('hello'));
    const { gw } = gateway([`bedrock:${HAIKU}`]);
    const result = await gw.converse(request());
    expect(result.content).toEqual([{ type: 'text', text: 'hello' }]);
    const [sent] = fake.requests;
    expect(sent!.path).toBe(`/model/${encodeURIComponent(HAIKU)}/converse`);
    expect(sent!.modelId).toBe(HAIKU);
    expect(sent!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
  });

  it('passes an inference-profile ARN through, URL-encoded, and uses its region', async () => {
    const arn = 'arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0';
    fake.reply(bedrockText('ok'));
    const { gw } = gateway([`bedrock:${arn}`]);
    const result = await gw.converse(request());
    expect(result.priceKnown).toBe(true);
    const [sent] = fake.requests;
    expect(sent!.modelId).toBe(arn);
    expect(sent!.path).toBe(`/model/${encodeURIComponent(arn)}/converse`);
    expect(sent!.headers.authorization).toContain('/eu-central-1/bedrock/aws4_request');
  });

  it('runs a tool-call round trip in Converse wire shape', async () => {
    fake.reply(
      bedrockToolUse([{ toolUseId: 'tooluse_1', name: 'read_file', input: { path: 'src/login.ts' } }], {}, 'Let me look.'),
      bedrockText('Done: the endpoint now returns 429 after 5 attempts.'),
    );
    const { gw } = gateway([`bedrock:${SONNET}`]);
    const first = await gw.converse(request(undefined, { tools: [readFileTool], temperature: 0.2 }));
    expect(first.stopReason).toBe('tool_use');
    expect(first.content).toEqual([
      { type: 'text', text: 'Let me look.' },
      { type: 'toolUse', id: 'tooluse_1', name: 'read_file', input: { path: 'src/login.ts' } },
    ]);

    const second = await gw.converse(
      request(undefined, {
        tools: [readFileTool],
        messages: [
          ...request().messages,
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'toolResult', toolUseId: 'tooluse_1', content: 'export function login() {}' }] },
        ],
      }),
    );
    expect(second.stopReason).toBe('end_turn');
    expect(second.content).toEqual([{ type: 'text', text: 'Done: the endpoint now returns 429 after 5 attempts.' }]);

    expect(fake.requests[0]!.body).toEqual({
      system: [{ text: 'You are the developer of a software team.' }],
      messages: [{ role: 'user', content: [{ text: 'Add rate limiting to the login endpoint.' }] }],
      inferenceConfig: { maxTokens: 1024, temperature: 0.2 },
      toolConfig: {
        tools: [{ toolSpec: { name: 'read_file', description: 'Read a file of the worktree', inputSchema: { json: readFileTool.inputSchema } } }],
      },
    });
    expect(fake.requests[1]!.body.messages).toEqual([
      { role: 'user', content: [{ text: 'Add rate limiting to the login endpoint.' }] },
      {
        role: 'assistant',
        content: [{ text: 'Let me look.' }, { toolUse: { toolUseId: 'tooluse_1', name: 'read_file', input: { path: 'src/login.ts' } } }],
      },
      {
        role: 'user',
        content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'export function login() {}' }], status: 'success' } }],
      },
    ]);
  });

  it('puts cache points after the system prompt and the context block for models that support them', async () => {
    fake.reply(bedrockText('a'), bedrockText('b'));
    // Claude Haiku 4.5 caches segments of 4,096 tokens or more: both segments are well above.
    const system = `You are the developer of a software team. ${'Follow the working rules of the project. '.repeat(500)}`;
    const context = `<project-context>${'AGENTS.md: keep modules small and typed. '.repeat(500)}</project-context>`;
    const cached = request(undefined, {
      system,
      cacheSystem: true,
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: context }, { type: 'cachePoint' }, { type: 'text', text: 'Task: add rate limiting.' }],
        },
      ],
    });
    await gateway([`bedrock:${HAIKU}`]).gw.converse(cached);
    expect(fake.requests[0]!.body.system).toEqual([{ text: system }, { cachePoint: { type: 'default' } }]);
    expect(fake.requests[0]!.body.messages[0].content).toEqual([
      { text: context },
      { cachePoint: { type: 'default' } },
      { text: 'Task: add rate limiting.' },
    ]);
    // Llama rejects cache points, so they are left out rather than failing the call.
    await gateway([`bedrock:${LLAMA}`]).gw.converse(cached);
    expect(fake.requests[1]!.body.system).toEqual([{ text: system }]);
    expect(fake.requests[1]!.body.messages[0].content).toHaveLength(2);
  });

  it('leaves out a cache point that would close a segment below the model\'s minimum', async () => {
    fake.reply(bedrockText('a'));
    const short = request(undefined, {
      cacheSystem: true,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'A short context.' }, { type: 'cachePoint' }, { type: 'text', text: 'Task.' }] }],
    });
    await gateway([`bedrock:${HAIKU}`]).gw.converse(short);
    expect(fake.requests[0]!.rawBody).not.toContain('cachePoint');
  });

  it('records tokens including cache reads and writes and prices them from the table', async () => {
    fake.reply(bedrockText('ok', { inputTokens: 1000, outputTokens: 500, cacheReadInputTokens: 2000, cacheWriteInputTokens: 4000 }));
    let clock = 1000;
    const { gw, events } = gateway([`bedrock:${SONNET}`], { now: () => (clock += 250) });
    const result = await gw.converse(request());
    expect(result.usage).toEqual({ inputTokens: 1000, outputTokens: 500, cacheReadTokens: 2000, cacheWriteTokens: 4000 });
    // global Sonnet 4.5: 1000×3 + 500×15 + 2000×0.30 + 4000×3.75 = 26 100 µ$
    expect(result.costUsd).toBe(0.0261);
    expect(result.latencyMs).toBe(250);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Model.Called',
      data: {
        spec: `bedrock:${SONNET}`,
        provider: 'bedrock',
        tier: 0,
        attempts: 1,
        stopReason: 'end_turn',
        inputTokens: 1000,
        outputTokens: 500,
        cacheReadTokens: 2000,
        cacheWriteTokens: 4000,
        latencyMs: 250,
        costUsd: 0.0261,
        priceKnown: true,
        tags: { role: 'developer', taskId: 'T1' },
      },
    });
  });

  it('retries a throttled call with full-jitter backoff and then succeeds', async () => {
    fake.reply(throttling(), throttling(), bedrockText('finally'));
    const { gw, events, sleeps } = gateway([`bedrock:${HAIKU}`]);
    const result = await gw.converse(request());
    expect(result.content).toEqual([{ type: 'text', text: 'finally' }]);
    expect(result.record.attempts).toBe(3);
    expect(fake.requests).toHaveLength(3);
    // random() = 0.5 of a ceiling that doubles from 100 ms
    expect(sleeps).toEqual([50, 100]);
    expect(events.map((e) => e.type)).toEqual(['Model.Retrying', 'Model.Retrying', 'Model.Called']);
    expect(events[0]).toMatchObject({ data: { kind: 'throttled', attempt: 1, delayMs: 50 } });
  });

  it('falls back to the next model after repeated 500s and says so', async () => {
    fake.replyFor(HAIKU, internalServerError(), internalServerError(), internalServerError());
    fake.replyFor(SONNET, bedrockText('from sonnet'));
    const { gw, events } = gateway([`bedrock:${HAIKU}`, `bedrock:${SONNET}`]);
    const result = await gw.converse(request());
    expect(result.spec).toBe(`bedrock:${SONNET}`);
    expect(result.record).toMatchObject({ tier: 1, attempts: 4 });
    expect(fake.requests.map((r) => r.modelId)).toEqual([HAIKU, HAIKU, HAIKU, SONNET]);
    const fallback = events.find((e) => e.type === 'Model.Fallback');
    expect(fallback).toMatchObject({
      data: { from: `bedrock:${HAIKU}`, to: `bedrock:${SONNET}`, kind: 'unavailable', attempts: 3 },
    });
    expect(fallback!.data).toHaveProperty('reason', expect.stringContaining('InternalServerException'));
  });

  it('does not retry a ValidationException, keeps its message, and falls back', async () => {
    fake.replyFor(HAIKU, validationError('The model returned the following errors: prompt is too long: 250000 tokens > 200000 maximum'));
    fake.replyFor(SONNET, bedrockText('fits'));
    const { gw, events } = gateway([`bedrock:${HAIKU}`, `bedrock:${SONNET}`]);
    const result = await gw.converse(request());
    expect(result.spec).toBe(`bedrock:${SONNET}`);
    expect(fake.requests.filter((r) => r.modelId === HAIKU)).toHaveLength(1);
    expect(events.find((e) => e.type === 'Model.Fallback')!.data).toMatchObject({
      kind: 'invalid_request',
      reason: expect.stringContaining('prompt is too long: 250000 tokens > 200000 maximum'),
    });
  });

  it.each([
    ['access denied', () => accessDenied(), /Bedrock refused access to amazon\.nova-lite-v1:0 \(AccessDeniedException: You don't have access .*\)\. Enable access to this model in the Bedrock console/],
    ['an unknown model id', () => validationError('The provided model identifier is invalid.'), /Bedrock does not know the model amazon\.nova-lite-v1:0 in this region .*Check the model id/],
    ['a model that needs an inference profile', () => validationError("Invocation of model ID amazon.nova-lite-v1:0 with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model."), /Use its inference profile instead, e\.g\. --model bedrock:us\.amazon\.nova-lite-v1:0/],
    ['expired credentials', () => bedrockError(403, 'ExpiredTokenException', 'The security token included in the request is expired'), /the AWS credentials in use have expired .*Sign in again/],
  ])('explains %s as what happened and what to do', async (_name, reply, message) => {
    fake.reply(reply());
    const error = (await gateway(['bedrock:amazon.nova-lite-v1:0']).gw.converse(request()).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect(error.message).toMatch(message);
    expect(error.failures[0]!.attempts).toBe(1);
  });

  it('throws ModelUnavailableError naming every model and its last error when all fail', async () => {
    fake.replyFor(HAIKU, accessDenied());
    fake.replyFor(SONNET, throttling('Rate exceeded'), throttling('Rate exceeded'), throttling('Rate exceeded'));
    const { gw } = gateway([`bedrock:${HAIKU}`, `bedrock:${SONNET}`]);
    const error = await gw.converse(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    const unavailable = error as ModelUnavailableError;
    expect(unavailable.failures.map((f) => [f.spec, f.attempts, (f.error as ModelProviderError).kind])).toEqual([
      [`bedrock:${HAIKU}`, 1, 'access_denied'],
      [`bedrock:${SONNET}`, 3, 'throttled'],
    ]);
    expect(unavailable.message).toContain('AccessDeniedException');
    expect(unavailable.message).toContain('Rate exceeded');
  });

  it('times out a slow call, retries it, and succeeds', async () => {
    fake.reply({ ...bedrockText('too late'), delayMs: 5_000 }, bedrockText('in time'));
    const { gw, events } = gateway([`bedrock:${HAIKU}`], { timeoutMs: 300 });
    const result = await gw.converse(request());
    expect(result.content).toEqual([{ type: 'text', text: 'in time' }]);
    expect(events[0]).toMatchObject({ type: 'Model.Retrying', data: { kind: 'timeout' } });
  });

  it('retries a reply cut off mid-body like a 5xx, and succeeds', async () => {
    fake.reply({ type: 'raw', status: 200, body: '{"output": {"message": {"role": "assistant", "content": [{"text": "hal' }, bedrockText('whole'));
    const { gw, events } = gateway([`bedrock:${HAIKU}`]);
    const result = await gw.converse(request());
    expect(result.content).toEqual([{ type: 'text', text: 'whole' }]);
    expect(fake.requests).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: 'Model.Retrying', data: { kind: 'malformed_reply', attempt: 1 } });
  });

  it('reports a reply that stays unreadable as a provider error with what the SDK could read', async () => {
    const broken = { type: 'raw' as const, status: 200, body: '{"output": {"message": oops' };
    fake.reply(broken, broken, broken);
    const { gw } = gateway([`bedrock:${HAIKU}`]);
    const error = (await gw.converse(request()).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error).toBeInstanceOf(ModelUnavailableError);
    const cause = error.failures[0]!.error as ModelProviderError;
    expect(cause).toBeInstanceOf(ModelProviderError);
    expect(cause.kind).toBe('malformed_reply');
    expect(cause.message).toMatch(/could not be read \(cut off\?\): .*JSON/);
    expect(fake.requests).toHaveLength(3);
  });

  it('reports a well-formed reply of the wrong shape with the zod issue', async () => {
    fake.reply({ type: 'raw', status: 200, body: JSON.stringify({ output: { message: { content: [] } }, stopReason: 'end_turn' }) });
    const error = (await gateway([`bedrock:${HAIKU}`]).gw.converse(request()).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error.failures[0]!.error.message).toMatch(/wrong shape[\s\S]*usage/);
  });

  it('prices an unknown model at the default, flags the record and warns', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    fake.reply(bedrockText('hi', { inputTokens: 1_000_000, outputTokens: 0 }));
    const { gw, events } = gateway(['bedrock:cohere.command-r-plus-v1:0'], { defaultPrice: { input: 7, output: 21 } });
    const result = await gw.converse(request());
    expect(result.priceKnown).toBe(false);
    expect(result.costUsd).toBe(7);
    expect(events[0]).toMatchObject({ type: 'Model.Called', data: { priceKnown: false, costUsd: 7 } });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('No price known'), expect.objectContaining({ spec: 'bedrock:cohere.command-r-plus-v1:0' }));
    warn.mockRestore();
  });
});

describe('bedrock error sorting', () => {
  it('treats a refused or reset connection as transient, even when the HTTP/2 handler wraps it', () => {
    const wrapped = new Error('The pending stream has been canceled (caused by: connect ECONNREFUSED 127.0.0.1:9)', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    const error = toProviderError('bedrock:amazon.nova-lite-v1:0', wrapped);
    expect(error).toMatchObject({ retryable: true, kind: 'unavailable', providerCode: 'ECONNREFUSED' });
  });

  it('says what happened and what to do, without the SDK\'s own words for developers', () => {
    const missing = toProviderError('bedrock:x', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    expect(missing).toMatchObject({ kind: 'access_denied', retryable: false });
    expect(missing.message).toMatch(/^bedrock:x: no AWS credentials were found \(CredentialsProviderError: .*\)\. Set AWS_PROFILE, sign in with `aws sso login`/);
    const region = toProviderError('bedrock:x', new Error('Region is missing'));
    expect(region).toMatchObject({ kind: 'invalid_request', retryable: false });
    expect(region.message).toContain('Set AWS_REGION');
    const garbled = toProviderError(
      'bedrock:x',
      Object.assign(new Error('Unexpected token < in JSON at position 0\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), {
        name: 'SyntaxError',
        $metadata: { httpStatusCode: 200 },
      }),
    );
    expect(garbled.message).not.toMatch(/\$response|hidden field/);
    expect(garbled.message).toContain('Unexpected token < in JSON at position 0');
  });

  it('keeps an unknown client-side error final', () => {
    expect(toProviderError('bedrock:x', new Error('something odd'))).toMatchObject({ retryable: false });
  });
});
