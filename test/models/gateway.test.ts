// Gateway behaviour independent of any wire protocol: backoff, tiers, aborts, events. Models are
// in-memory replay scripts, so every answer comes from a real provider.
import { describe, expect, it } from 'vitest';
import {
  InvalidModelSpecError,
  ModelCallAbortedError,
  ModelUnavailableError,
  createModelGateway,
  createReplayProvider,
  type ConverseRequest,
  type ModelGatewayEvent,
  type ModelGatewayOptions,
  type ModelProvider,
  type ParsedModelSpec,
} from '../../lib/models/index';

const SCRIPTS: Record<string, unknown> = {
  flaky: { conversations: [{ turns: [{ error: { message: 'overloaded', retryable: true } }] }] },
  broken: { conversations: [{ turns: [{ error: { message: 'bad request', retryable: false } }] }] },
  cheap: { conversations: [{ turns: [{ content: 'cheap answer' }] }] },
  strong: { conversations: [{ turns: [{ content: 'strong answer' }] }] },
  slow: { conversations: [{ turns: [{ content: 'slow answer', delayMs: 5_000 }] }] },
};

function fromMemory(parsed: ParsedModelSpec): ModelProvider {
  if (parsed.provider !== 'replay') throw new Error(`this test only scripts replay models, not ${parsed.spec}`);
  return createReplayProvider(parsed, { script: SCRIPTS[parsed.path] });
}

function gateway(policy: string[], extra: Partial<ModelGatewayOptions> = {}) {
  const events: ModelGatewayEvent[] = [];
  const sleeps: number[] = [];
  const gw = createModelGateway({
    policy,
    createProvider: fromMemory,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onEvent: (e) => {
      events.push(e);
    },
    ...extra,
  });
  return { gw, events, sleeps };
}

const request = (extra: Partial<ConverseRequest> = {}): ConverseRequest => ({
  system: 'You are the reviewer.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Review T1.' }] }],
  maxTokens: 256,
  tags: { role: 'reviewer', taskId: 'T1' },
  ...extra,
});

describe('model gateway', () => {
  it('backs off exponentially with full jitter, capped', async () => {
    const { gw, sleeps } = gateway(['replay:flaky'], {
      retry: { maxAttempts: 7, baseDelayMs: 100, maxDelayMs: 1_000 },
      random: () => 0.999,
    });
    await expect(gw.converse(request())).rejects.toBeInstanceOf(ModelUnavailableError);
    // ceilings 100, 200, 400, 800, 1000 (cap), 1000; each delay is random × ceiling
    expect(sleeps).toEqual([99, 199, 399, 799, 999, 999]);

    const zero = gateway(['replay:flaky'], { retry: { maxAttempts: 3 }, random: () => 0 });
    await expect(zero.gw.converse(request())).rejects.toThrow('overloaded');
    expect(zero.sleeps).toEqual([0, 0]);
  });

  it('starts at the requested tier and escalates from there, never back down', async () => {
    const { gw, events } = gateway(['replay:cheap', 'replay:flaky', 'replay:strong'], { retry: { maxAttempts: 2 } });
    const result = await gw.converse(request(), { startTier: 1 });
    expect(result).toMatchObject({ spec: 'replay:strong', content: [{ type: 'text', text: 'strong answer' }] });
    expect(result.record).toMatchObject({ tier: 2, attempts: 3 });
    expect(events.filter((e) => e.type === 'Model.Fallback').map((e) => e.data)).toEqual([
      expect.objectContaining({ from: 'replay:flaky', to: 'replay:strong', attempts: 2 }),
    ]);
    // beyond the strongest model, the strongest is used
    expect((await gw.converse(request(), { startTier: 9 })).spec).toBe('replay:strong');
    await expect(gw.converse(request(), { startTier: -1 })).rejects.toBeInstanceOf(RangeError);
  });

  it('lists every model tried, in order, when all fail', async () => {
    const { gw, events } = gateway(['replay:broken', 'replay:flaky'], { retry: { maxAttempts: 2 } });
    const error = (await gw.converse(request()).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect(error.failures.map((f) => [f.spec, f.attempts])).toEqual([
      ['replay:broken', 1],
      ['replay:flaky', 2],
    ]);
    expect(error.message).toMatch(/replay:broken after 1 attempt: .*bad request \| replay:flaky after 2 attempts: .*overloaded/);
    // only one fallback: there is nothing after the last model
    expect(events.filter((e) => e.type === 'Model.Fallback')).toHaveLength(1);
  });

  it('rejects a bad policy when it is created, not at the first fallback', () => {
    expect(() => createModelGateway({ policy: ['replay:cheap', 'gpt-4o'] })).toThrow(InvalidModelSpecError);
    expect(() => createModelGateway({ policy: [] })).toThrow(RangeError);
  });

  it('stops waiting for a backoff when the caller aborts', async () => {
    const controller = new AbortController();
    const gw = createModelGateway({
      policy: ['replay:flaky', 'replay:cheap'],
      createProvider: fromMemory,
      retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      random: () => 1,
    });
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    await expect(gw.converse(request({ signal: controller.signal }))).rejects.toBeInstanceOf(ModelCallAbortedError);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('times out a slow model per attempt and falls back', async () => {
    const { gw, events } = gateway(['replay:slow', 'replay:cheap'], { timeoutMs: 40, retry: { maxAttempts: 1 } });
    const result = await gw.converse(request());
    expect(result.spec).toBe('replay:cheap');
    expect(events[0]).toMatchObject({ type: 'Model.Fallback', data: { kind: 'timeout', reason: expect.stringContaining('40 ms') } });
  });

  it('lets a failure to record usage surface instead of losing it', async () => {
    const { gw } = gateway(['replay:cheap'], {
      onEvent: () => {
        throw new Error('event store down');
      },
    });
    await expect(gw.converse(request())).rejects.toThrow('event store down');
  });

  it('surfaces a provider bug as itself rather than as a model failure', async () => {
    const buggy: ModelProvider = {
      spec: 'replay:cheap',
      converse: async () => {
        throw new TypeError('cannot read properties of undefined');
      },
    };
    const gw = createModelGateway({ policy: ['replay:cheap', 'replay:strong'], createProvider: () => buggy });
    await expect(gw.converse(request())).rejects.toBeInstanceOf(TypeError);
  });
});
