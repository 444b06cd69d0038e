// What an agent run reports while it works: usage records and metrics for every model call,
// model fallbacks and rejected finishes in the goal's event log, run outcomes per role.
import type { AgentEvent } from '../agents/index';
import { dayOf } from '../domain/common';
import type { Goal } from '../domain/goal';
import type { AgentRole } from '../domain/settings';
import type { Task } from '../domain/task';
import type { ModelGatewayEvent } from '../models/index';
import { metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { recordGoalEvent } from './events';

export async function recordModelEvent(runtime: Runtime, goal: Goal, task: Task, event: ModelGatewayEvent): Promise<void> {
  if (event.type === 'Model.Called') {
    const call = event.data;
    await runtime.store.usage.addUsage(goal.projectId, dayOf(event.at), call.spec, {
      inputTokens: call.inputTokens,
      outputTokens: call.outputTokens,
      cacheReadTokens: call.cacheReadTokens,
      cacheWriteTokens: call.cacheWriteTokens,
      usd: call.costUsd,
      calls: 1,
    });
    const single = metrics.singleMetric();
    single.addDimensions({ model: call.spec.slice(0, 250), role: task.role, projectId: goal.projectId });
    single.addMetric('TokensIn', 'Count', call.inputTokens);
    single.addMetric('TokensOut', 'Count', call.outputTokens);
    single.addMetric('TokensCacheRead', 'Count', call.cacheReadTokens);
    single.addMetric('TokensCacheWrite', 'Count', call.cacheWriteTokens);
    single.addMetric('CostUsd', 'None', call.costUsd);
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

/** Run outcomes per role, so the Behaviour dashboard can compare roles. */
export function countRun(role: AgentRole, metric: 'AgentRunSucceeded' | 'AgentRunFailed' | 'BudgetExceeded'): void {
  const single = metrics.singleMetric();
  single.addDimension('role', role);
  single.addMetric(metric, 'Count', 1);
}
