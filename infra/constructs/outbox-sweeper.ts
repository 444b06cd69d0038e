// The event outbox sweeper: every minute, functions/events/publish-pending-events.ts publishes the
// domain events whose first publication failed (lib/pipeline/events.ts), so every event that reached
// the event log reaches the bus too, at least once.
import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISchedule, type IScheduleTarget, Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { cellResourceName } from '../naming';
import { AWS_PORTS_ENV, TABLE_NAME_ENV } from '../runtime-environment';
import { AgentFunction } from './agent-function';
import type { AgentPlacement } from './cell-network';
import type { CellEventBus } from './event-bus';
import { grantStateTableAccess } from './state-table';

/** How stale a deferred event may get; also how soon a failed sweep is redone. */
export const OUTBOX_SWEEP_RATE = Duration.minutes(1);

export interface OutboxSweeperProps {
  readonly customerId: string;
  readonly encryptionKey: IKey;
  readonly placement: AgentPlacement;
  readonly table: ITable;
  readonly eventBus: CellEventBus;
  readonly logRetention?: RetentionDays;
}

export class OutboxSweeper extends Construct {
  readonly sweeper: AgentFunction;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: OutboxSweeperProps) {
    super(scope, id);

    this.sweeper = new AgentFunction(this, 'Sweeper', {
      entry: 'events/publish-pending-events.ts',
      serviceName: cellResourceName(props.customerId, 'outbox-sweeper'),
      description: `Cahoots ${props.customerId}: publishes domain events whose first publication failed`,
      encryptionKey: props.encryptionKey,
      placement: props.placement,
      // One page of events per run, and done before the next run starts, so sweeps never overlap;
      // a backlog drains over the following runs.
      timeout: Duration.seconds(50),
      memorySize: 256,
      logRetention: props.logRetention,
      scheduledRetry: { redoneWithin: OUTBOX_SWEEP_RATE },
      environment: {
        [TABLE_NAME_ENV]: props.table.tableName,
        [AWS_PORTS_ENV.eventBusName]: props.eventBus.bus.eventBusName,
      },
    });
    grantStateTableAccess(this.sweeper, { table: props.table, encryptionKey: props.encryptionKey, access: 'readWrite' });
    props.eventBus.grantPutEvents(this.sweeper);

    const scheduleName = cellResourceName(props.customerId, 'outbox-sweep');
    this.schedule = new Schedule(this, 'Schedule', {
      scheduleName,
      description: 'Publishes deferred domain events to the cell bus',
      schedule: ScheduleExpression.rate(OUTBOX_SWEEP_RATE),
      target: new InvokeOnce(this.sweeper, scheduleName),
    });
  }
}

/**
 * Invokes the sweeper with no retries and a one-minute event age: a missed sweep is made up by the
 * next one. Unlike the stock LambdaInvoke target, its role may invoke the function's unqualified
 * ARN only, not every version and alias.
 */
class InvokeOnce implements IScheduleTarget {
  constructor(
    private readonly fn: AgentFunction,
    /** Known before the schedule exists, so the role's trust policy can name it without a cycle. */
    private readonly scheduleName: string,
  ) {}

  bind(schedule: ISchedule) {
    const stack = Stack.of(schedule);
    const role = new Role(schedule, 'InvokeRole', {
      description: 'EventBridge Scheduler invokes the outbox sweeper',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `default/${this.scheduleName}` }),
          },
        },
      }),
    });
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.fn.functionArn] }));
    return {
      arn: this.fn.functionArn,
      role,
      retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: OUTBOX_SWEEP_RATE.toSeconds() },
    };
  }
}
