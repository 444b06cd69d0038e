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
import {
  CAHOOTS_METRICS,
  type CahootsMetricName,
  cahootsMetric,
  GOAL_COST_DIMENSION_SET,
  roleMetric,
  serviceMetric,
} from './cahoots-metrics';
import type { PipelineStateMachine } from './pipeline-state-machine';

export interface CellDashboardsProps {
  readonly customerId: string;
  readonly pipeline: PipelineStateMachine;
  readonly queues: Readonly<Record<AgentRole, AgentQueue>>;
  readonly agents: Readonly<Record<AgentRole, AgentFunction>>;
  /** The pipeline step that records quality gate verdicts (its `service` dimension). */
  readonly qualityGateStep: AgentFunction;
  /** Pipeline steps, outbox sweeper, API handlers: errors and throttles summed per group. */
  readonly functionGroups: Readonly<Record<string, readonly AgentFunction[]>>;
}

const HOUR = Duration.hours(1);
const FIVE_MINUTES = Duration.minutes(5);
const WIDE = 12;
/** A third of the dashboard's width, for rows of three single-query graphs. */
const THIRD = (2 * WIDE) / 3;
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
    // Plain per-role metrics (the token metrics' bounded dimension set): several may share a graph.
    const tokens = new TokenMetrics(props.agents);
    this.cost.addWidgets(
      graph('Tokens per hour', [
        tokens.total(CAHOOTS_METRICS.tokensIn),
        tokens.total(CAHOOTS_METRICS.tokensOut),
        tokens.total(CAHOOTS_METRICS.cacheRead),
        tokens.total(CAHOOTS_METRICS.cacheWrite),
      ]),
      graph('Prompt cache read share (% of input tokens)', [cacheReadShare(), ...Object.keys(props.agents).map((role) => cacheReadShare(role))], { max: 100 }),
    );
    this.cost.addWidgets(
      graph('Budget stops (Budget.Exceeded)', [cahootsMetric(CAHOOTS_METRICS.budgetExceeded, { label: 'BudgetExceeded', period: HOUR })]),
      graph('Model fallbacks to a stronger tier', [cahootsMetric(CAHOOTS_METRICS.modelFallback, { label: 'ModelFallback', period: HOUR })]),
    );
    this.cost.addWidgets(
      graph(
        'Infrastructure vs tokens (USD per hour of ended goals)',
        [cahootsMetric(CAHOOTS_METRICS.goalCostUsd, { groupBy: 'kind', schema: GOAL_COST_DIMENSION_SET, period: HOUR })],
        { stacked: true, width: 2 * WIDE },
      ),
    );

    this.behaviour = new Dashboard(this, 'Behaviour', {
      dashboardName: cellResourceName(props.customerId, 'behaviour'),
      defaultInterval: Duration.days(1),
      periodOverride: PeriodOverride.INHERIT,
    });
    this.behaviour.addWidgets(note('## Behaviour\nWhat the team gets done, how often it fails, and whether queues, Lambdas and the pipeline keep up.'));
    // One Metrics Insights query per widget (CloudWatch allows one per request).
    this.behaviour.addWidgets(
      graph('Goals completed', [cahootsMetric(CAHOOTS_METRICS.goalCompleted, { period: HOUR })], { width: THIRD }),
      graph('Goals failed', [cahootsMetric(CAHOOTS_METRICS.goalFailed, { period: HOUR })], { width: THIRD }),
      graph('Goals cancelled', [cahootsMetric(CAHOOTS_METRICS.goalCancelled, { period: HOUR })], { width: THIRD }),
    );
    this.behaviour.addWidgets(
      graph('Goal lead time, average (hours)', [leadTimeHours('AVG', 'average')]),
      graph('Goal lead time, longest (hours)', [leadTimeHours('MAX', 'longest')]),
    );
    // Runs are counted once per run by the worker, with the run's role.
    this.behaviour.addWidgets(
      graph('Agent runs succeeded, by role', [cahootsMetric(CAHOOTS_METRICS.agentRunSucceeded, { groupBy: 'role', period: HOUR })]),
      graph('Agent runs failed, by role', [cahootsMetric(CAHOOTS_METRICS.agentRunFailed, { groupBy: 'role', period: HOUR })]),
    );
    // Gate verdicts come from one step function with Powertools' default dimensions: plain metrics.
    const gateService = props.qualityGateStep.serviceName;
    this.behaviour.addWidgets(
      graph('Quality gate', [
        serviceMetric(CAHOOTS_METRICS.qualityGatePassed, gateService, HOUR).with({ label: 'passed' }),
        serviceMetric(CAHOOTS_METRICS.qualityGateRejected, gateService, HOUR).with({ label: 'rejected' }),
        serviceMetric(CAHOOTS_METRICS.reworkRounds, gateService, HOUR).with({ label: 'rework rounds' }),
      ]),
      graph('Gate pass rate (%)', [gatePassRate(gateService)], { max: 100 }),
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
    );
    this.behaviour.addWidgets(
      graph('Model calls throttled', [cahootsMetric(CAHOOTS_METRICS.modelThrottled, { period: FIVE_MINUTES })]),
      graph('Model calls falling back to a stronger tier', [cahootsMetric(CAHOOTS_METRICS.modelFallback, { period: FIVE_MINUTES })]),
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
      graph('API requests refused (4xx)', [cahootsMetric(CAHOOTS_METRICS.apiRequestRefused, { period: FIVE_MINUTES })], { width: THIRD }),
      graph('API requests failed (5xx)', [cahootsMetric(CAHOOTS_METRICS.apiRequestFailed, { period: FIVE_MINUTES })], { width: THIRD }),
      graph('Deferred events published by the outbox sweeper', [cahootsMetric(CAHOOTS_METRICS.outboxEventsPublished, { period: FIVE_MINUTES })], {
        width: THIRD,
      }),
    );
  }
}

function note(markdown: string): IWidget {
  return new TextWidget({ markdown, width: 2 * WIDE, height: 2 });
}

function graph(title: string, metrics: IMetric[], options: { stacked?: boolean; max?: number; width?: number } = {}): GraphWidget {
  return new GraphWidget({
    title,
    left: metrics,
    stacked: options.stacked,
    leftYAxis: { min: 0, max: options.max, showUnits: false },
    width: options.width ?? WIDE,
    height: HEIGHT,
  });
}

/**
 * Share of input tokens read from the prompt cache, in all or for one role. Bedrock reports cache
 * reads and writes apart from `inputTokens`, so all input is TokensIn + CacheRead + CacheWrite.
 * A ratio needs three sums in one graph and CloudWatch takes one Metrics Insights query per
 * request, so the sums are SEARCH expressions (any dimension set the emitting code uses; the token
 * metrics' two sets count every call twice in the numerator and the denominator alike).
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

/**
 * The token metrics of every agent worker, as plain metrics in their per-role dimension set, summed
 * over the roles. Expression ids are per graph, so each metric name gets its own prefix.
 */
class TokenMetrics {
  constructor(private readonly agents: Readonly<Record<AgentRole, AgentFunction>>) {}

  /** The metric summed over every role's worker, as one line. */
  total(name: CahootsMetricName, label: string = name): MathExpression {
    const usingMetrics = this.perRole(name);
    return new MathExpression({
      expression: Object.keys(usingMetrics)
        .map((id) => `FILL(${id}, 0)`)
        .join(' + '),
      usingMetrics,
      label,
      period: HOUR,
    });
  }

  private perRole(name: CahootsMetricName): Record<string, IMetric> {
    const prefix = name.charAt(0).toLowerCase() + name.slice(1);
    return Object.fromEntries(
      (Object.entries(this.agents) as [AgentRole, AgentFunction][]).map(([role, fn]) => [`${prefix}${role}`, roleMetric(name, role, fn.serviceName, HOUR)]),
    );
  }
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

function gatePassRate(gateService: string): MathExpression {
  return new MathExpression({
    expression: '100 * passed / (passed + rejected)',
    usingMetrics: {
      passed: serviceMetric(CAHOOTS_METRICS.qualityGatePassed, gateService, HOUR),
      rejected: serviceMetric(CAHOOTS_METRICS.qualityGateRejected, gateService, HOUR),
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
