// The application metrics the cell's dashboards and alarms read: EMF metrics in namespace
// `Cahoots` (docs/architecture.md, Observability), queried with CloudWatch Metrics Insights.
//
// Why Metrics Insights rather than plain metrics: Powertools adds a `service` dimension to every
// metric, and the code that emits cost, token and run metrics adds model/role/projectId on top, so
// the exact dimension set is not known here. `SELECT SUM(X) FROM Cahoots` adds up every series of X
// whatever its dimensions (exact as long as each datapoint is emitted in one dimension set, the
// Powertools default), and `GROUP BY model` splits it by a dimension wherever it is present.
import { Duration } from 'aws-cdk-lib';
import { MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from './agent-function';

/** Metric names as the code emits them (PascalCase, conventions); see docs/deploy.md for dimensions. */
export const CAHOOTS_METRICS = {
  costUsd: 'CostUsd',
  tokensIn: 'TokensIn',
  tokensOut: 'TokensOut',
  cacheRead: 'TokensCacheRead',
  cacheWrite: 'TokensCacheWrite',
  budgetExceeded: 'BudgetExceeded',
  modelThrottled: 'ModelThrottled',
  modelFallback: 'ModelFallback',
  goalCompleted: 'GoalCompleted',
  goalFailed: 'GoalFailed',
  goalCancelled: 'GoalCancelled',
  goalLeadTime: 'GoalLeadTime',
  agentRunSucceeded: 'AgentRunSucceeded',
  agentRunFailed: 'AgentRunFailed',
  qualityGatePassed: 'QualityGatePassed',
  qualityGateRejected: 'QualityGateRejected',
  reworkRounds: 'ReworkRounds',
  apiRequestFailed: 'ApiRequestFailed',
  apiRequestRefused: 'ApiRequestRefused',
  outboxEventsPublished: 'OutboxEventsPublished',
} as const;
export type CahootsMetricName = (typeof CAHOOTS_METRICS)[keyof typeof CAHOOTS_METRICS];

/**
 * The dimensions breakdowns group by. `service` is Powertools' (one per function, so per agent
 * role for the workers); the others are added by the emitting code where it knows them.
 */
export const BREAKDOWN_DIMENSIONS = ['service', 'model', 'role', 'projectId'] as const;
export type BreakdownDimension = (typeof BREAKDOWN_DIMENSIONS)[number];

export interface InsightsOptions {
  readonly statistic?: 'SUM' | 'AVG' | 'MAX' | 'MIN' | 'COUNT';
  readonly groupBy?: BreakdownDimension;
  readonly label?: string;
  readonly period?: Duration;
}

/** A Metrics Insights query over one Cahoots metric, usable in graphs, math and alarms. */
export function cahootsMetric(metricName: CahootsMetricName, options: InsightsOptions = {}): MathExpression {
  const statistic = options.statistic ?? 'SUM';
  const groupBy = options.groupBy ? ` GROUP BY ${options.groupBy}` : '';
  return new MathExpression({
    expression: `SELECT ${statistic}(${metricName}) FROM ${METRICS_NAMESPACE}${groupBy}`,
    usingMetrics: {},
    label: options.label ?? (options.groupBy ? '' : metricName),
    period: options.period ?? Duration.minutes(5),
  });
}
