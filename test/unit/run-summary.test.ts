// The end-of-run summary's token figures: cache-read share per model and per role, from the
// Model.Called events of a goal.
import { describe, expect, it } from 'vitest';
import type { GoalDetail } from '../../lib/api/schemas';
import type { EventEnvelope } from '../../lib/domain/events';
import { emptyInfrastructureUsage } from '../../lib/domain/infrastructure-cost';
import { renderSummary, summarizeRun } from '../../lib/cli/summary';

const goal = { id: 'goal_1', projectId: 'project_1', title: 'Validate orders', status: 'SUCCEEDED', branch: 'cahoots/goal_1', createdAt: '2026-01-01T00:00:00.000Z', completedAt: '2026-01-01T00:10:00.000Z' };
const task = (id: string, role: string) => ({ id, role, planKey: id, kind: 'feature', title: `${role} task`, status: 'SUCCEEDED', attempts: 1, createdAt: '2026-01-01T00:00:00.000Z' });
// Only the fields the summary reads; the rest of a GoalDetail does not change these figures.
const detail = { goal, tasks: [task('task_dev', 'developer'), task('task_qa', 'qa')], cost: { infrastructure: emptyInfrastructureUsage() } } as unknown as GoalDetail;

let seq = 0;
function called(taskId: string, model: string, tokens: { input: number; read: number; write: number }): EventEnvelope {
  return {
    eventId: `evt_${++seq}`,
    type: 'Model.Called',
    at: '2026-01-01T00:01:00.000Z',
    actor: { type: 'system', id: 'agent' },
    correlationId: 'goal_1',
    projectId: 'project_1',
    goalId: 'goal_1',
    taskId,
    seq,
    data: { model, inputTokens: tokens.input, outputTokens: 100, cacheReadTokens: tokens.read, cacheWriteTokens: tokens.write, costUsd: 0.01 },
  } as unknown as EventEnvelope;
}

describe('run summary', () => {
  const sonnet = 'bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0';
  const local = 'openai:qwen2.5-coder@http://127.0.0.1:11434/v1';
  const events = [
    called('task_dev', sonnet, { input: 1_000, read: 0, write: 9_000 }),
    called('task_dev', sonnet, { input: 500, read: 9_000, write: 500 }),
    called('task_qa', local, { input: 2_000, read: 0, write: 0 }),
  ];

  it('gives the share of input read from the cache per model, per role and in total', () => {
    const summary = summarizeRun({ detail, events });
    expect(summary.cost.byModel[sonnet]!.cacheReadShare).toBeCloseTo(9_000 / 20_000);
    expect(summary.cost.byModel[local]!.cacheReadShare).toBe(0);
    expect(summary.cost.byRole.developer!.cacheReadShare).toBeCloseTo(0.45);
    expect(summary.cost.cacheReadShare).toBeCloseTo(9_000 / 22_000);
  });

  it('prints the share in the token line and in both cost tables', () => {
    const text = renderSummary(summarizeRun({ detail, events })).join('\n');
    expect(text).toContain('40.9% of input read from cache');
    expect(text).toMatch(/Cost by model\n.*cache read.*\n.*claude-sonnet.*45\.0%/);
    expect(text).toMatch(/Cost by role\n.*cache read[^\n]*\n(?:.*\n)*\s+qa\s.*0\.0%/);
  });
});
