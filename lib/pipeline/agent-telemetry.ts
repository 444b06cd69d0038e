// What an agent run reports while it works: usage records and metrics for every model call,
// model fallbacks and rejected finishes in the goal's event log, run outcomes per role.
import type { AgentEvent } from '../agents/index';
import type { Goal } from '../domain/goal';
import type { AgentRole } from '../domain/settings';
import type { Task } from '../domain/task';
import type { ModelCallRecord, ModelGatewayEvent } from '../models/index';
import { metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { recordGoalEvent } from './events';
import { recordModelUsage } from './model-gateway';

export async function recordModelEvent(runtime: Runtime, goal: Goal, task: Task, event: ModelGatewayEvent): Promise<void> {
  if (event.type === 'Model.Called') {
    const call = event.data;
    await recordModelUsage(runtime, goal.projectId, event.at, call);
    emitModelCallMetrics(task.role, goal.projectId, call);
    await recordGoalEvent(runtime, {
      type: 'Model.Called',
      goal,
      taskId: task.id,
      data: {
        model: call.spec,
        tier: call.tier,
        inputTokens: call.inputTokens,
        outputTokens: call.outputTokens,
        cacheReadTokens: call.cacheReadTokens,
        cacheWriteTokens: call.cacheWriteTokens,
        costUsd: call.costUsd,
        priceKnown: call.priceKnown,
        latencyMs: call.latencyMs,
      },
    });
  } else if (event.type === 'Model.Fallback') {
    await recordGoalEvent(runtime, { type: 'Model.Fallback', goal, taskId: task.id, data: { ...event.data } as Record<string, unknown> });
  }
}

export async function recordAgentEvent(runtime: Runtime, goal: Goal, task: Task, event: AgentEvent): Promise<void> {
  if (event.type === 'Agent.FinishRejected') {
    await recordGoalEvent(runtime, { type: 'Agent.FinishRejected', goal, taskId: task.id, data: event.data });
  }
}

/**
 * A model call's tokens and cost as metrics, under `role` (an agent role, or `analyst` for
 * detection's model calls). Token metrics go out in two dimension sets (one datapoint each):
 * service + role + model + project for breakdowns, and service + role alone (bounded), so
 * dashboards can combine them as plain metrics — a ratio needs that, as CloudWatch runs one Metrics
 * Insights query per graph. Queries over the detailed set name it with SCHEMA(). Cost goes out in
 * the detailed set only.
 */
export function emitModelCallMetrics(role: string, projectId: string, call: ModelCallRecord): void {
  const breakdown = { model: call.spec.slice(0, 250), projectId };
  emitModelCallMetric(role, [breakdown, {}], 'TokensIn', 'Count', call.inputTokens);
  emitModelCallMetric(role, [breakdown, {}], 'TokensOut', 'Count', call.outputTokens);
  emitModelCallMetric(role, [breakdown, {}], 'TokensCacheRead', 'Count', call.cacheReadTokens);
  emitModelCallMetric(role, [breakdown, {}], 'TokensCacheWrite', 'Count', call.cacheWriteTokens);
  emitModelCallMetric(role, [breakdown], 'CostUsd', 'None', call.costUsd);
}

/**
 * One metric of a model call, published at once in the given dimension sets (each adds to the role
 * and Powertools' `service`). A single-metric instance per metric: Powertools clears a single
 * metric's dimensions when it publishes, so a second metric on the same instance would lose them.
 */
function emitModelCallMetric(role: string, dimensionSets: Array<Record<string, string>>, name: string, unit: 'Count' | 'None', value: number): void {
  const single = metrics.singleMetric();
  single.setDefaultDimensions({ role });
  for (const set of dimensionSets) single.addDimensions(set);
  single.addMetric(name, unit, value);
}

/** Run outcomes per role, so the Behaviour dashboard can compare roles. */
export function countRun(role: AgentRole, metric: 'AgentRunSucceeded' | 'AgentRunFailed' | 'BudgetExceeded'): void {
  const single = metrics.singleMetric();
  single.addDimension('role', role);
  single.addMetric(metric, 'Count', 1);
}
