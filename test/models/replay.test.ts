// The replay provider: scripted turns selected by matching the request, deterministic for
// agents pulling turns concurrently, with clear errors when the script has no answer.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRole } from '../../lib/domain/settings';
import {
  ModelUnavailableError,
  ReplayExhaustedError,
  ReplayMismatchError,
  ReplayNoMatchError,
  ReplayScriptError,
  createModelGateway,
  type ConverseRequest,
  type Message,
  type ModelGatewayEvent,
  type ReplayScript,
} from '../../lib/models/index';

type ScriptInput = { conversations: unknown[]; version?: 1; description?: string };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cahoots-replay-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let counter = 0;
async function scriptFile(script: ScriptInput | string): Promise<string> {
  const path = join(dir, `script-${++counter}.json`);
  await writeFile(path, typeof script === 'string' ? script : JSON.stringify(script, null, 2));
  return `replay:${path}`;
}

const TEAM_SCRIPT: ScriptInput = {
  description: 'Rate limiting the login endpoint',
  conversations: [
    {
      name: 'plan',
      match: { role: 'planner' },
      turns: [
        {
          content: [{ type: 'toolUse', name: 'finish', input: { tasks: ['T1 middleware', 'T2 tests'] } }],
          usage: { inputTokens: 900, outputTokens: 120, cacheWriteTokens: 2000 },
        },
      ],
    },
    {
      name: 'T1 middleware',
      match: { role: 'developer', promptIncludes: 'Task T1' },
      turns: [
        { content: [{ type: 'toolUse', name: 'read_file', input: { path: 'src/login.ts' } }], delayMs: 15 },
        {
          content: [
            { type: 'text', text: 'Adding the limiter.' },
            { type: 'toolUse', name: 'write_file', input: { path: 'src/rate-limit.ts' } },
          ],
          expect: { lastMessageIncludes: 'login.ts contents' },
        },
        { content: 'T1 done: limiter added.' },
      ],
    },
    {
      name: 'T2 tests',
      match: { role: 'developer', promptIncludes: ['Task T2'] },
      turns: [
        { content: [{ type: 'toolUse', name: 'run_command', input: { cmd: 'npm test' } }], delayMs: 5 },
        { content: 'T2 done: tests added.', delayMs: 10 },
      ],
    },
    {
      name: 'review',
      match: { role: 'reviewer', tags: { goalId: 'G1' } },
      turns: [{ content: 'Approved.' }],
    },
  ],
};

function opening(role: AgentRole, task: string, goalId = 'G1'): ConverseRequest {
  return {
    system: `You are the ${role}.`,
    messages: [{ role: 'user', content: [{ type: 'text', text: `Goal G1. ${task}` }] }],
    maxTokens: 2048,
    tags: { role, goalId },
  };
}

/** A minimal agent loop: answer each tool call with a result that names it, until the model stops or calls finish. */
async function runAgent(
  converse: (r: ConverseRequest) => Promise<{ content: ConverseRequest['messages'][number]['content']; stopReason: string }>,
  first: ConverseRequest,
  jitter: () => Promise<void> = async () => undefined,
): Promise<string[]> {
  const transcript: string[] = [];
  const messages: Message[] = [...first.messages];
  for (let i = 0; i < 10; i++) {
    await jitter();
    const reply = await converse({ ...first, messages });
    transcript.push(JSON.stringify(reply.content));
    messages.push({ role: 'assistant', content: reply.content });
    const calls = reply.content.filter((b) => b.type === 'toolUse');
    if (calls.length === 0 || calls.some((c) => c.name === 'finish')) return transcript;
    messages.push({
      role: 'user',
      content: calls.map((c) => ({
        type: 'toolResult' as const,
        toolUseId: c.id,
        content: c.name === 'read_file' ? `${String(c.input.path).split('/').pop()} contents` : `${c.name} ok`,
      })),
    });
  }
  throw new Error('agent did not finish');
}

describe('replay provider', () => {
  it('answers each conversation turn by turn, with deterministic tool ids, free of charge', async () => {
    const spec = await scriptFile(TEAM_SCRIPT);
    const events: ModelGatewayEvent[] = [];
    const gw = createModelGateway({ policy: [spec], onEvent: (e) => void events.push(e) });
    const plan = await gw.converse(opening('planner', 'Plan it.'));
    expect(plan.content).toEqual([
      { type: 'toolUse', id: 'replay-plan-0-0', name: 'finish', input: { tasks: ['T1 middleware', 'T2 tests'] } },
    ]);
    expect(plan.stopReason).toBe('tool_use');
    expect(plan.usage).toEqual({ inputTokens: 900, outputTokens: 120, cacheReadTokens: 0, cacheWriteTokens: 2000 });
    expect(plan).toMatchObject({ costUsd: 0, priceKnown: true });
    expect(events[0]).toMatchObject({ type: 'Model.Called', data: { provider: 'replay', tags: { role: 'planner' } } });

    const transcript = await runAgent((r) => gw.converse(r), opening('developer', 'Task T1: add a limiter.'));
    expect(transcript.map((t) => JSON.parse(t))).toEqual([
      [{ type: 'toolUse', id: 'replay-t1-middleware-0-0', name: 'read_file', input: { path: 'src/login.ts' } }],
      [
        { type: 'text', text: 'Adding the limiter.' },
        { type: 'toolUse', id: 'replay-t1-middleware-1-1', name: 'write_file', input: { path: 'src/rate-limit.ts' } },
      ],
      [{ type: 'text', text: 'T1 done: limiter added.' }],
    ]);
  });

  it('gives parallel agents the same answers whatever the interleaving', async () => {
    const spec = await scriptFile(TEAM_SCRIPT);
    const agents: [AgentRole, string][] = [
      ['developer', 'Task T1: add a limiter.'],
      ['developer', 'Task T2: add tests.'],
      ['reviewer', 'Review the branch.'],
      ['planner', 'Plan it.'],
    ];
    // Each run shares one gateway (one provider, one loaded script) across all agents; agent i
    // waits pauses[i] ms before each call, so every run requests turns in a different global order.
    async function run(pauses: number[]) {
      const gw = createModelGateway({ policy: [spec] });
      const order: string[] = [];
      const transcripts = await Promise.all(
        agents.map(([role, task], i) =>
          runAgent(
            async (r) => {
              const result = await gw.converse(r);
              order.push(task);
              return result;
            },
            opening(role, task),
            () => new Promise<void>((resolve) => setTimeout(resolve, pauses[i])),
          ),
        ),
      );
      return { transcripts, order };
    }
    const a = await run([0, 10, 20, 30]);
    const b = await run([30, 20, 10, 0]);
    const c = await run([12, 0, 25, 5]);
    expect(b.transcripts).toEqual(a.transcripts);
    expect(c.transcripts).toEqual(a.transcripts);
    expect(a.transcripts[0]!.at(-1)).toContain('T1 done');
    expect(a.transcripts[1]!.at(-1)).toContain('T2 done');
    expect(a.transcripts[2]).toEqual([JSON.stringify([{ type: 'text', text: 'Approved.' }])]);
    // The runs really did interleave differently, or this test proves nothing.
    expect(new Set([a.order.join('|'), b.order.join('|'), c.order.join('|')]).size).toBeGreaterThan(1);
  });

  it('names what was asked when no conversation matches', async () => {
    const spec = await scriptFile(TEAM_SCRIPT);
    const gw = createModelGateway({ policy: [spec] });
    const error = (await gw.converse(opening('ux', 'Task T9: restyle the login page.')).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error).toBeInstanceOf(ModelUnavailableError);
    const cause = error.failures[0]!.error;
    expect(cause).toBeInstanceOf(ReplayNoMatchError);
    expect(cause.message).toContain('no conversation matches');
    expect(cause.message).toContain('"role":"ux"');
    expect(cause.message).toContain('Task T9: restyle the login page.');
    expect(cause.message).toContain('"T1 middleware" {"role":"developer","promptIncludes":"Task T1"}');
    // a reviewer of another goal does not match the review conversation
    const other = (await gw.converse(opening('reviewer', 'Review.', 'G2')).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(other.failures[0]!.error).toBeInstanceOf(ReplayNoMatchError);
  });

  it('says so when a conversation has run out of turns', async () => {
    const spec = await scriptFile(TEAM_SCRIPT);
    const gw = createModelGateway({ policy: [spec] });
    const request = opening('developer', 'Task T2: add tests.');
    request.messages.push(
      { role: 'assistant', content: [{ type: 'toolUse', id: 'x', name: 'run_command', input: {} }] },
      { role: 'user', content: [{ type: 'toolResult', toolUseId: 'x', content: 'ok' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'T2 done' }] },
      { role: 'user', content: [{ type: 'text', text: 'Your result did not validate; try again.' }] },
    );
    const error = (await gw.converse(request).catch((e: unknown) => e)) as ModelUnavailableError;
    const cause = error.failures[0]!.error;
    expect(cause).toBeInstanceOf(ReplayExhaustedError);
    expect(cause.message).toContain('conversation "T2 tests" has 2 turn(s) but the request asks for turn 3');
    expect(cause.message).toContain('Task T2: add tests.');
  });

  it('fails loudly when the run drifts from what a turn expects', async () => {
    const spec = await scriptFile(TEAM_SCRIPT);
    const gw = createModelGateway({ policy: [spec] });
    const request = opening('developer', 'Task T1: add a limiter.');
    request.messages.push(
      { role: 'assistant', content: [{ type: 'toolUse', id: 'r', name: 'read_file', input: { path: 'src/login.ts' } }] },
      { role: 'user', content: [{ type: 'toolResult', toolUseId: 'r', content: 'ENOENT: no such file', isError: true }] },
    );
    const error = (await gw.converse(request).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error.failures[0]!.error).toBeInstanceOf(ReplayMismatchError);
    expect(error.message).toContain('expects the last message to include ["login.ts contents"]');
    expect(error.message).toContain('ENOENT: no such file');
  });

  it('can script a failing model to exercise retries and fallback', async () => {
    const flaky = await scriptFile({ conversations: [{ turns: [{ error: { message: 'model overloaded', retryable: true } }] }] });
    const steady = await scriptFile({ conversations: [{ turns: [{ content: 'steady answer' }] }] });
    const events: ModelGatewayEvent[] = [];
    const gw = createModelGateway({
      policy: [flaky, steady],
      retry: { maxAttempts: 2 },
      sleep: async () => undefined,
      onEvent: (e) => void events.push(e),
    });
    const result = await gw.converse(opening('qa', 'Run the tests.'));
    expect(result.content).toEqual([{ type: 'text', text: 'steady answer' }]);
    expect(events.map((e) => e.type)).toEqual(['Model.Retrying', 'Model.Fallback', 'Model.Called']);
    expect(events[1]).toMatchObject({ data: { from: flaky, to: steady, reason: expect.stringContaining('model overloaded') } });
  });

  it('estimates usage when the script gives none', async () => {
    const spec = await scriptFile({ conversations: [{ turns: [{ content: 'short' }] }] });
    const result = await createModelGateway({ policy: [spec] }).converse(opening('qa', 'x'.repeat(3000)));
    expect(result.usage.inputTokens).toBeGreaterThan(1000);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('rejects a script that does not validate, naming the field', async () => {
    const bad = await scriptFile({ conversations: [{ match: { role: 'developer', promptContains: 'x' }, turns: [{ content: 'a' }] }] });
    const both = await scriptFile({ conversations: [{ turns: [{ content: 'a', error: { message: 'b' } }] }] });
    const notJson = await scriptFile('{ "conversations": [');
    for (const [spec, words] of [
      [bad, 'promptContains'],
      [both, 'exactly one of "content" or "error"'],
      [notJson, 'is not valid JSON'],
      ['replay:/nonexistent/cahoots/script.json', 'cannot be read'],
    ] as const) {
      const error = (await createModelGateway({ policy: [spec] })
        .converse(opening('qa', 'x'))
        .catch((e: unknown) => e)) as ModelUnavailableError;
      expect(error.failures[0]!.error, spec).toBeInstanceOf(ReplayScriptError);
      expect(error.message, spec).toContain(words);
    }
  });

  it('resolves relative paths against the configured directory and accepts an in-memory script', async () => {
    const spec = await scriptFile({ conversations: [{ turns: [{ content: 'from file' }] }] });
    const name = spec.slice(spec.lastIndexOf('/') + 1);
    const fromDir = createModelGateway({ policy: [`replay:${name}`], providers: { replay: { baseDir: dir } } });
    expect((await fromDir.converse(opening('qa', 'x'))).content).toEqual([{ type: 'text', text: 'from file' }]);

    const script: ReplayScript = { version: 1, conversations: [{ match: {}, turns: [{ content: 'in memory' }] }] };
    const inMemory = createModelGateway({ policy: ['replay:generated'], providers: { replay: { script } } });
    expect((await inMemory.converse(opening('qa', 'x'))).content).toEqual([{ type: 'text', text: 'in memory' }]);
  });
});
