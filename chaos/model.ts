// The chaos run's model: an OpenAI-compatible server (test/support/fake-openai.ts) that answers
// every agent from the goal's plan, the way a model would read its request — the role from the
// system prompt, the goal or task from the first user message, the turn from the assistant
// messages so far — and injects faults on the way: 429, 500, a reply that never comes (the
// runtime's model timeout fires) and a 200 whose body is cut off.
import { openaiError, openaiToolCalls, startFakeOpenAI, type FakeOpenAI, type FakeOpenAIReply, type RecordedOpenAIRequest } from '../test/support/fake-openai';
import { randomStream } from './random';
import { LEDGER_END, type ChaosGoal } from './scenario';

export const FAULT_KINDS = ['throttled', 'server-error', 'timeout', 'truncated'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosModelOptions {
  seed: string;
  /** Chance that one model call is answered with a fault instead of its reply. */
  faultRate: number;
  /** The runtime's model timeout (MODEL_TIMEOUT_SECONDS); a timeout fault holds the reply longer. */
  modelTimeoutMs: number;
  /** Called for every chat request of a known goal, after its reply is chosen (the kill trigger). */
  onCall?: (goalKey: string) => void;
}

export interface ChaosModel {
  readonly baseUrl: string;
  /** Model calls answered, by goal key. */
  readonly calls: Map<string, number>;
  readonly faults: Record<FaultKind, number>;
  /** Requests the script could not place (a role or goal it does not know); each is a harness bug. */
  readonly unscripted: string[];
  add(goal: ChaosGoal): void;
  close(): Promise<void>;
}

/**
 * A call is never faulted more than this many times in a row, so the gateway's three attempts
 * always reach a real reply: a goal that fails under chaos is then the product's failure, not bad luck.
 */
const MAX_FAULTS_IN_A_ROW = 2;

interface ChatMessage {
  role: string;
  content: string | null;
  tool_calls?: unknown[];
}

const ROLES: Array<[string, string]> = [['planner', 'planner'], ['developer', 'developer'], ['reviewer', 'reviewer'], ['QA', 'qa']];

function roleOf(system: string | null | undefined): string | undefined {
  const who = /^You are the (.+?) of Cahoots/.exec(system ?? '')?.[1] ?? '';
  return ROLES.find(([word]) => who.includes(word))?.[1];
}

const call = (name: string, args: Record<string, unknown>): FakeOpenAIReply => openaiToolCalls([{ name, arguments: args }], { prompt_tokens: 800, completion_tokens: 60 });

export async function startChaosModel(options: ChaosModelOptions): Promise<ChaosModel> {
  const goals = new Map<string, ChaosGoal>();
  const calls = new Map<string, number>();
  const faults: Record<FaultKind, number> = { throttled: 0, 'server-error': 0, timeout: 0, truncated: 0 };
  const unscripted: string[] = [];
  /** How often each call (goal, role or task, turn) was asked, and how many of the last asks were faulted. */
  const asked = new Map<string, { times: number; faultsInARow: number }>();
  const fake: FakeOpenAI = await startFakeOpenAI();

  function scripted(request: RecordedOpenAIRequest): { goal: ChaosGoal; callKey: string; reply: FakeOpenAIReply } | { problem: string } {
    const messages = (request.body?.messages ?? []) as ChatMessage[];
    const role = roleOf(messages[0]?.content);
    const prompt = messages.find((m) => m.role === 'user')?.content ?? '';
    const turn = messages.filter((m) => m.role === 'assistant').length;
    const goalKey = /Chaos goal (g\d+)/.exec(prompt)?.[1];
    const goal = goalKey ? goals.get(goalKey) : undefined;
    if (!role || !goal) return { problem: `role ${String(role)}, goal ${String(goalKey)}: ${prompt.slice(0, 120)}` };
    switch (role) {
      case 'planner':
        return {
          goal,
          callKey: `${goal.key}/planner/${turn}`,
          reply: call('finish', {
            summary: `Write the notes of ${goal.key}`,
            risk: 'low',
            tasks: goal.tasks.map((t) => ({
              id: t.id,
              role: 'developer',
              kind: 'feature',
              title: t.title,
              spec: `Write ${t.files.map((f) => f.path).join(', ')} and add one line to ${t.ledger.path}.`,
              acceptanceCriteria: ['every file is written', 'the ledger has exactly one new line'],
              dependsOn: t.dependsOn,
            })),
          }),
        };
      case 'developer': {
        const taskKey = /# Task: Write the notes of (g\d+\.t\d+)/.exec(prompt)?.[1];
        const task = goal.tasks.find((t) => t.key === taskKey);
        if (!task) return { problem: `developer of ${goal.key} without a known task: ${prompt.slice(0, 160)}` };
        const steps: FakeOpenAIReply[] = [
          ...task.files.map((f) => call('write_file', { path: f.path, content: f.content })),
          call('edit_file', { path: task.ledger.path, oldString: LEDGER_END, newString: `${task.ledger.line}\n${LEDGER_END}` }),
          call('finish', { summary: `Wrote the notes of ${task.key}.`, filesChanged: [...task.files.map((f) => f.path), task.ledger.path] }),
        ];
        return { goal, callKey: `${task.key}/${turn}`, reply: steps[Math.min(turn, steps.length - 1)]! };
      }
      case 'reviewer':
        return { goal, callKey: `${goal.key}/reviewer/${turn}`, reply: call('finish', { verdict: 'approved', summary: 'The notes and ledgers are as planned.', comments: [] }) };
      case 'qa': {
        if (turn === 0) return { goal, callKey: `${goal.key}/qa/0`, reply: call('run_command', { argv: ['node', '--test'] }) };
        const output = [...messages].reverse().find((m) => m.role === 'tool')?.content ?? '';
        const count = (name: string) => Number(new RegExp(`# ${name} (\\d+)`).exec(output)?.[1] ?? -1);
        const [passed, failed, skipped] = [count('pass'), count('fail'), count('skipped')];
        const ok = passed > 0 && failed === 0;
        return {
          goal,
          callKey: `${goal.key}/qa/${turn}`,
          reply: call('finish', {
            summary: `node --test: ${passed} passed, ${failed} failed`,
            testResults: { command: 'node --test', passed: Math.max(0, passed), failed: Math.max(0, failed), skipped: Math.max(0, skipped) },
            passed: ok,
            ...(ok ? {} : { failures: [{ test: 'node --test', message: output.slice(0, 500) || 'no test output' }] }),
          }),
        };
      }
      default:
        return { problem: `unexpected role ${role}` };
    }
  }

  /** Decides, from the seed and the call's identity alone, whether this ask of the call is faulted. */
  function faultFor(callKey: string): FaultKind | undefined {
    const state = asked.get(callKey) ?? { times: 0, faultsInARow: 0 };
    state.times++;
    asked.set(callKey, state);
    const random = randomStream(options.seed, `fault:${callKey}#${state.times}`);
    const faulted = state.faultsInARow < MAX_FAULTS_IN_A_ROW && random.next() < options.faultRate;
    state.faultsInARow = faulted ? state.faultsInARow + 1 : 0;
    return faulted ? random.pick(FAULT_KINDS) : undefined;
  }

  function inject(kind: FaultKind, reply: FakeOpenAIReply): FakeOpenAIReply {
    switch (kind) {
      case 'throttled':
        return openaiError(429, 'chaos: rate limit reached', { 'retry-after': '0' });
      case 'server-error':
        return openaiError(500, 'chaos: internal error');
      case 'timeout':
        // Longer than the runtime waits: its timeout fires and it asks again.
        return { ...reply, delayMs: options.modelTimeoutMs + 2_000 };
      case 'truncated': {
        const body = JSON.stringify({ id: 'chatcmpl-chaos', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [] }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 800, completion_tokens: 60 } });
        return { type: 'raw', status: 200, body: body.slice(0, Math.floor(body.length / 2)) };
      }
    }
  }

  fake.onRequest((request) => {
    const answer = scripted(request);
    if ('problem' in answer) {
      unscripted.push(answer.problem);
      return openaiError(400, `chaos: no scripted reply (${answer.problem})`);
    }
    calls.set(answer.goal.key, (calls.get(answer.goal.key) ?? 0) + 1);
    const kind = faultFor(answer.callKey);
    if (kind) faults[kind]++;
    options.onCall?.(answer.goal.key);
    return kind ? inject(kind, answer.reply) : answer.reply;
  });

  return {
    baseUrl: fake.baseUrl,
    calls,
    faults,
    unscripted,
    add: (goal) => void goals.set(goal.key, goal),
    close: () => fake.close(),
  };
}
