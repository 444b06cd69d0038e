// The cell's alarms beyond the per-queue DLQ alarms (AgentQueue.alarmOnDeadLetters): pipeline
// executions that fail or time out, Bedrock throttling, budget stops and crashing agent Lambdas,
// all to the cell's alarm topic.
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, MathExpression, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AgentRole } from '../../lib/domain/settings';
import { cellResourceName } from '../naming';
import type { AgentFunction } from './agent-function';
import { CAHOOTS_METRICS, cahootsMetric } from './cahoots-metrics';
import type { PipelineStateMachine } from './pipeline-state-machine';

/**
 * The model gateway retries a throttled call with backoff, so a few throttles are routine; this
 * many in five minutes, twice in a row, means the Bedrock quota is too small for the load.
 */
export const MODEL_THROTTLES_PER_5_MINUTES = 10;

export interface CellAlarmsProps {
  readonly customerId: string;
  readonly topic: ITopic;
  readonly pipeline: PipelineStateMachine;
  readonly agents: Readonly<Record<AgentRole, AgentFunction>>;
}

export class CellAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  private readonly customerId: string;
  private readonly topic: ITopic;

  constructor(scope: Construct, id: string, props: CellAlarmsProps) {
    super(scope, id);
    this.customerId = props.customerId;
    this.topic = props.topic;
    const fiveMinutes = Duration.minutes(5);
    const stateMachine = props.pipeline.stateMachine;

    // A goal that ends FAILED ends its execution in the Fail state, so this counts failed goals as
    // well as broken steps: both need a person to look.
    this.add('pipeline-failed', {
      description: 'A goal pipeline execution failed: the goal ended FAILED, or a step broke.',
      metric: stateMachine.metricFailed({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 1,
    });
    this.add('pipeline-timed-out', {
      description: 'A goal pipeline execution ran into the overall TimeoutSeconds of its definition and was stopped.',
      metric: stateMachine.metricTimedOut({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 1,
    });
    this.add('model-throttled', {
      description: `Bedrock throttled more than ${MODEL_THROTTLES_PER_5_MINUTES} model calls in 5 minutes, twice in a row: raise the Bedrock quota or lower agentConcurrency.`,
      metric: cahootsMetric(CAHOOTS_METRICS.modelThrottled, { period: fiveMinutes }),
      threshold: MODEL_THROTTLES_PER_5_MINUTES,
      evaluationPeriods: 2,
    });
    this.add('budget-exceeded', {
      description: 'A budget stopped an agent (Budget.Exceeded): a goal waits for approval to spend more.',
      metric: cahootsMetric(CAHOOTS_METRICS.budgetExceeded, { period: fiveMinutes }),
      threshold: 1,
    });

    const roles = Object.keys(props.agents) as AgentRole[];
    const usingMetrics = Object.fromEntries(
      roles.map((role) => [role, props.agents[role].function.metricErrors({ period: fiveMinutes, statistic: 'Sum' })]),
    );
    this.add('agent-errors', {
      description: 'An agent Lambda crashed or timed out (not an agent reporting failure): its message goes back to the queue and, after 3 tries, to the DLQ.',
      metric: new MathExpression({
        expression: roles.map((role) => `FILL(${role}, 0)`).join(' + '),
        usingMetrics,
        label: 'Agent Lambda errors',
        period: fiveMinutes,
      }),
      threshold: 1,
    });
  }

  private add(name: string, options: { description: string; metric: IMetric; threshold: number; evaluationPeriods?: number }): Alarm {
    const alarm = new Alarm(this, name, {
      alarmName: cellResourceName(this.customerId, name),
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      // No data means nothing happened: no executions, no model calls, no budget stops.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
