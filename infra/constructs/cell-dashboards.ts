// The cell's two CloudWatch dashboards (docs/architecture.md, Observability): Cost — where the money goes
// and how well prompt caching works — and Behaviour — what the team gets done, how often it fails,
// and whether the machinery (queues, Lambdas, the state machine) keeps up.
import { Duration } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  MathExpression,
  PeriodOverride,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { AgentRole } from '../../lib/domain/settings';
import { cellResourceName } from '../naming';
import { METRICS_NAMESPACE, type AgentFunction } from './agent-function';
import type { AgentQueue } from './agent-queue';
import { CAHOOTS_METRICS, type CahootsMetricName, cahootsMetric } from './cahoots-metrics';
import type { PipelineStateMachine } from './pipeline-state-machine';

export interface CellDashboardsProps {
  readonly customerId: string;
  readonly pipeline: PipelineStateMachine;
  readonly queues: Readonly<Record<AgentRole, AgentQueue>>;
  readonly agents: Readonly<Record<AgentRole, AgentFunction>>;
  /** Pipeline steps, outbox sweeper, API handlers: errors and throttles summed per group. */
  readonly functionGroups: Readonly<Record<string, readonly AgentFunction[]>>;
}

const HOUR = Duration.hours(1);
const FIVE_MINUTES = Duration.minutes(5);
const WIDE = 12;
const HEIGHT = 6;

export class CellDashboards extends Construct {
  readonly cost: Dashboard;
  readonly behaviour: Dashboard;

  constructor(scope: Construct, id: string, props: CellDashboardsProps) {
    super(scope, id);
    const roles = Object.keys(props.agents) as AgentRole[];

    this.cost = new Dashboard(this, 'Cost', {
      dashboardName: cellResourceName(props.customerId, 'cost'),
      defaultInterval: Duration.days(7),
      periodOverride: PeriodOverride.INHERIT,
    });
    this.cost.addWidgets(
      note(
        '## Cost\nSpend is `CostUsd` as the model gateway prices each call (list prices, `CAHOOTS_PRICES` overrides). ' +
          'Series are hourly sums; a line named *Other* holds calls emitted without the dimension grouped by ' +
          '(per-project spend is exact in `GET /projects/{projectId}/costs`, which reads the usage table).',
      ),
    );
    this.cost.addWidgets(
      graph('Spend by model (USD/hour)', [cahootsMetric(CAHOOTS_METRICS.costUsd, { groupBy: 'model', period: HOUR })], { stacked: true }),
      graph('Spend by role (USD/hour)', [cahootsMetric(CAHOOTS_METRICS.costUsd, { groupBy: 'role', period: HOUR })], { stacked: true }),
    );
    this.cost.addWidgets(
      graph('Spend by project (USD/hour)', [cahootsMetric(CAHOOTS_METRICS.costUsd, { groupBy: 'projectId', period: HOUR })], {
        stacked: true,
      }),
      graph('Total spend (USD/hour)', [cahootsMetric(CAHOOTS_METRICS.costUsd, { label: 'USD', period: HOUR })]),
    );
    const tokens = (name: CahootsMetricName) => cahootsMetric(name, { label: name, period: HOUR });
    this.cost.addWidgets(
      graph('Tokens per hour', [
        tokens(CAHOOTS_METRICS.tokensIn),
        tokens(CAHOOTS_METRICS.tokensOut),
        tokens(CAHOOTS_METRICS.cacheRead),
        tokens(CAHOOTS_METRICS.cacheWrite),
      ]),
      graph('Prompt cache read share (% of input tokens)', [cacheReadShare(), ...Object.keys(props.agents).map((role) => cacheReadShare(role))], { max: 100 }),
    );
    this.cost.addWidgets(
      graph('Budget stops (Budget.Exceeded)', [cahootsMetric(CAHOOTS_METRICS.budgetExceeded, { label: 'BudgetExceeded', period: HOUR })]),
      graph('Model fallbacks to a stronger tier', [cahootsMetric(CAHOOTS_METRICS.modelFallback, { label: 'ModelFallback', period: HOUR })]),
    );

    this.behaviour = new Dashboard(this, 'Behaviour', {
      dashboardName: cellResourceName(props.customerId, 'behaviour'),
      defaultInterval: Duration.days(1),
      periodOverride: PeriodOverride.INHERIT,
    });
    this.behaviour.addWidgets(note('## Behaviour\nWhat the team gets done, how often it fails, and whether queues, Lambdas and the pipeline keep up.'));
    this.behaviour.addWidgets(
      graph('Goals by outcome', [
        cahootsMetric(CAHOOTS_METRICS.goalCompleted, { period: HOUR }),
        cahootsMetric(CAHOOTS_METRICS.goalFailed, { period: HOUR }),
        cahootsMetric(CAHOOTS_METRICS.goalCancelled, { period: HOUR }),
      ]),
      graph('Goal lead time, created to completed (hours)', [leadTimeHours('AVG', 'average'), leadTimeHours('MAX', 'longest')]),
    );
    // Runs are counted per function, and each role has its own worker function: `service` is the role.
    this.behaviour.addWidgets(
      graph('Agent runs succeeded, by role', [cahootsMetric(CAHOOTS_METRICS.agentRunSucceeded, { groupBy: 'role', period: HOUR })]),
      graph('Agent runs failed, by role', [cahootsMetric(CAHOOTS_METRICS.agentRunFailed, { groupBy: 'role', period: HOUR })]),
    );
    this.behaviour.addWidgets(
      graph('Quality gate', [
        cahootsMetric(CAHOOTS_METRICS.qualityGatePassed, { period: HOUR }),
        cahootsMetric(CAHOOTS_METRICS.qualityGateRejected, { period: HOUR }),
        cahootsMetric(CAHOOTS_METRICS.reworkRounds, { period: HOUR }),
      ]),
      graph('Gate pass rate (%)', [gatePassRate()], { max: 100 }),
    );

    const stateMachine = props.pipeline.stateMachine;
    this.behaviour.addWidgets(
      graph('Pipeline executions', [
        stateMachine.metricStarted({ period: FIVE_MINUTES, statistic: 'Sum', label: 'started' }),
        stateMachine.metricSucceeded({ period: FIVE_MINUTES, statistic: 'Sum', label: 'succeeded' }),
        stateMachine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum', label: 'failed' }),
        stateMachine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum', label: 'timed out' }),
        stateMachine.metricAborted({ period: FIVE_MINUTES, statistic: 'Sum', label: 'stopped' }),
      ]),
      graph('Model calls throttled / falling back', [
        cahootsMetric(CAHOOTS_METRICS.modelThrottled, { period: FIVE_MINUTES }),
        cahootsMetric(CAHOOTS_METRICS.modelFallback, { period: FIVE_MINUTES }),
      ]),
    );
    this.behaviour.addWidgets(
      graph(
        'Dead letters by role',
        roles.map((role) =>
          props.queues[role].deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: role }),
        ),
      ),
      // A task waiting longer than the heartbeat timeout fails before an agent starts it.
      graph(
        'Oldest waiting task by role (seconds)',
        roles.map((role) =>
          props.queues[role].queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum', label: role }),
        ),
      ),
    );
    this.behaviour.addWidgets(
      graph(
        'Agent Lambda errors by role',
        roles.map((role) => props.agents[role].function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label: role })),
      ),
      graph(
        'Agent Lambda throttles by role',
        roles.map((role) => props.agents[role].function.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label: role })),
      ),
    );
    this.behaviour.addWidgets(
      graph('Other Lambda errors', Object.entries(props.functionGroups).map(([group, fns]) => summed(group, fns, 'errors'))),
      graph('Other Lambda throttles', Object.entries(props.functionGroups).map(([group, fns]) => summed(group, fns, 'throttles'))),
    );
    this.behaviour.addWidgets(
      graph('API requests refused (4xx) / failed (5xx)', [
        cahootsMetric(CAHOOTS_METRICS.apiRequestRefused, { period: FIVE_MINUTES }),
        cahootsMetric(CAHOOTS_METRICS.apiRequestFailed, { period: FIVE_MINUTES }),
      ]),
      graph('Deferred events published by the outbox sweeper', [cahootsMetric(CAHOOTS_METRICS.outboxEventsPublished, { period: FIVE_MINUTES })]),
    );
  }
}

function note(markdown: string): IWidget {
  return new TextWidget({ markdown, width: 2 * WIDE, height: 2 });
}

function graph(title: string, metrics: IMetric[], options: { stacked?: boolean; max?: number } = {}): GraphWidget {
  return new GraphWidget({
    title,
    left: metrics,
    stacked: options.stacked,
    leftYAxis: { min: 0, max: options.max, showUnits: false },
    width: WIDE,
    height: HEIGHT,
  });
}

/**
 * Share of input tokens read from the prompt cache, in all or for one role. Bedrock reports cache
 * reads and writes apart from `inputTokens`, so all input is TokensIn + CacheRead + CacheWrite.
 * A ratio needs three sums in one graph and CloudWatch takes one Metrics Insights query per
 * request, so the sums are SEARCH expressions (any dimension set the emitting code uses).
 */
function cacheReadShare(role?: string): MathExpression {
  const total = (metric: CahootsMetricName) =>
    `SUM(SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${metric}"${role ? ` role="${role}"` : ''}', 'Sum', ${HOUR.toSeconds()}))`;
  const read = total(CAHOOTS_METRICS.cacheRead);
  return new MathExpression({
    expression: `100 * ${read} / (${total(CAHOOTS_METRICS.tokensIn)} + ${read} + ${total(CAHOOTS_METRICS.cacheWrite)})`,
    usingMetrics: {},
    label: role ?? 'all roles',
    period: HOUR,
  });
}

/** GoalLeadTime is emitted in milliseconds. */
function leadTimeHours(statistic: 'AVG' | 'MAX', label: string): MathExpression {
  return new MathExpression({
    // One id per statistic: both lines share a graph, and ids are per graph.
    expression: `leadTime${statistic} / 3600000`,
    usingMetrics: { [`leadTime${statistic}`]: cahootsMetric(CAHOOTS_METRICS.goalLeadTime, { statistic, period: HOUR }) },
    label,
    period: HOUR,
  });
}

function gatePassRate(): MathExpression {
  return new MathExpression({
    expression: '100 * passed / (passed + rejected)',
    usingMetrics: {
      passed: cahootsMetric(CAHOOTS_METRICS.qualityGatePassed, { period: HOUR }),
      rejected: cahootsMetric(CAHOOTS_METRICS.qualityGateRejected, { period: HOUR }),
    },
    label: 'passed on first or later round',
    period: HOUR,
  });
}

/** One line for a group of functions: the sum of their Errors or Throttles. */
function summed(group: string, fns: readonly AgentFunction[], which: 'errors' | 'throttles'): MathExpression {
  // Ids are shared by every expression of one graph, so each group gets its own.
  const prefix = group.toLowerCase().replace(/[^a-z0-9]/g, '');
  const usingMetrics = Object.fromEntries(
    fns.map((fn, index) => [
      `${prefix}${index}`,
      which === 'errors'
        ? fn.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' })
        : fn.function.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
    ]),
  );
  return new MathExpression({
    expression: Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + '),
    usingMetrics,
    label: group,
    period: FIVE_MINUTES,
  });
}
