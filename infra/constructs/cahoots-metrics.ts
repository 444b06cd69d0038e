// The application metrics the cell's dashboards and alarms read: EMF metrics in namespace
// `Cahoots` (docs/architecture.md, Observability), queried with CloudWatch Metrics Insights.
//
// Why Metrics Insights for most of them: Powertools adds a `service` dimension to every metric, and
// the code that emits cost, token and run metrics adds model/role/projectId on top, so the exact
// dimension set is not known here. `SELECT SUM(X) FROM Cahoots` adds up every series of X whatever
// its dimensions (exact as long as each datapoint is emitted in one dimension set), and
// `GROUP BY model` splits it by a dimension wherever it is present.
//
// CloudWatch runs at most one Metrics Insights query per GetMetricData request, and a graph widget
// is one request: a widget holds one query, or plain metrics. Where a widget must combine
// several metrics (a ratio, several lines), the metrics are plain ones with a fixed dimension set:
// the token metrics carry a second dimension set, `service` + `role` (one series per agent
// worker), and queries over them name their other set with SCHEMA() so nothing counts twice.
import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
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
  goalCostUsd: 'GoalCostUsd',
} as const;
export type CahootsMetricName = (typeof CAHOOTS_METRICS)[keyof typeof CAHOOTS_METRICS];

/**
 * The dimensions breakdowns group by. `service` is Powertools' (one per function, so per agent
 * role for the workers); the others are added by the emitting code where it knows them.
 */
export const BREAKDOWN_DIMENSIONS = ['service', 'model', 'role', 'projectId'] as const;
export type BreakdownDimension = (typeof BREAKDOWN_DIMENSIONS)[number];

/** The token metrics' detailed dimension set (model, role, project); see ROLE_DIMENSION_SET. */
export const TOKEN_DIMENSION_SET = ['model', 'projectId', 'role', 'service'] as const;
/** The dimension set every token metric is also emitted in: bounded, so graphs can use plain metrics. */
export const ROLE_DIMENSION_SET = ['role', 'service'] as const;
/** GoalCostUsd, emitted once per ended goal: `kind` is `tokens` or `infrastructure`. */
export const GOAL_COST_DIMENSION_SET = ['kind', 'service'] as const;

export interface InsightsOptions {
  readonly statistic?: 'SUM' | 'AVG' | 'MAX' | 'MIN' | 'COUNT';
  readonly groupBy?: BreakdownDimension | 'kind';
  /** Only series with exactly these dimensions (SCHEMA), for metrics emitted in more than one set. */
  readonly schema?: readonly string[];
  readonly label?: string;
  readonly period?: Duration;
}

/** A Metrics Insights query over one Cahoots metric, usable in graphs, math and alarms. */
export function cahootsMetric(metricName: CahootsMetricName, options: InsightsOptions = {}): MathExpression {
  const statistic = options.statistic ?? 'SUM';
  const groupBy = options.groupBy ? ` GROUP BY ${options.groupBy}` : '';
  const from = options.schema ? `SCHEMA(${[METRICS_NAMESPACE, ...options.schema].join(', ')})` : METRICS_NAMESPACE;
  return new MathExpression({
    expression: `SELECT ${statistic}(${metricName}) FROM ${from}${groupBy}`,
    usingMetrics: {},
    label: options.label ?? (options.groupBy ? '' : metricName),
    period: options.period ?? Duration.minutes(5),
  });
}

/**
 * A plain metric in one fixed dimension set: a token metric of one agent worker (`service` is the
 * worker's Powertools service name, `role` the role it serves). Plain metrics may share a widget.
 */
export function roleMetric(metricName: CahootsMetricName, role: string, serviceName: string, period: Duration): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { role, service: serviceName },
    statistic: 'Sum',
    period,
  });
}

/** A plain metric emitted by one function with Powertools' default dimension set (`service` only). */
export function serviceMetric(metricName: CahootsMetricName, serviceName: string, period: Duration): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: serviceName }, statistic: 'Sum', period });
}
