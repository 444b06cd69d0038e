// One agent role's work queue and its dead-letter queue. The pipeline sends task tokens here and
// the role's agent Lambda consumes them; the visibility timeout is derived from that consumer.
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AgentRole } from '../../lib/domain/settings';
import { cellResourceName } from '../naming';
import type { AgentFunction } from './agent-function';

/**
 * AWS guidance for Lambda consumers: a message must stay invisible for at least six function
 * timeouts, or a retried (throttled) invocation lets a second consumer pick it up mid-run.
 */
export const VISIBILITY_TIMEOUT_PER_CONSUMER_TIMEOUT = 6;
const SQS_MAX_VISIBILITY_TIMEOUT = Duration.hours(12);

export interface AgentQueueProps {
  readonly customerId: string;
  readonly role: AgentRole;
  /** Must be an imported reference to the customer key (see StatefulStack.importKey). */
  readonly encryptionKey: IKey;
  /** Timeout of the Lambda that will consume this queue; addConsumer refuses a longer one. */
  readonly consumerTimeout: Duration;
  /** Deliveries before a message moves to the DLQ. */
  readonly maxReceiveCount?: number;
  readonly deadLetterRetention?: Duration;
}

export class AgentQueue extends Construct {
  readonly agentRole: AgentRole;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly consumerTimeout: Duration;
  readonly visibilityTimeout: Duration;
  private readonly customerId: string;
  private readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: AgentQueueProps) {
    super(scope, id);
    this.agentRole = props.role;
    this.customerId = props.customerId;
    this.consumerTimeout = props.consumerTimeout;
    this.encryptionKey = props.encryptionKey;
    this.visibilityTimeout = Duration.seconds(props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_PER_CONSUMER_TIMEOUT);
    if (this.visibilityTimeout.toSeconds() > SQS_MAX_VISIBILITY_TIMEOUT.toSeconds()) {
      throw new Error(
        `${props.role} queue: a consumer timeout of ${props.consumerTimeout.toHumanString()} needs a visibility timeout of ` +
          `${this.visibilityTimeout.toHumanString()}, above the SQS maximum of 12 hours`,
      );
    }

    // Each KMS data key serves an hour of messages: KMS requests drop ~12x from the 5-minute default.
    const dataKeyReuse = Duration.hours(1);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: cellResourceName(props.customerId, props.role, 'dlq'),
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse,
      enforceSSL: true,
      // The maximum, so a failure found after a weekend can still be inspected and redriven.
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless::Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue of the role queue; a DLQ of a DLQ would only move the same messages once more.',
    });

    this.queue = new Queue(this, 'Queue', {
      queueName: cellResourceName(props.customerId, props.role),
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse,
      enforceSSL: true,
      visibilityTimeout: this.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 3 },
    });
  }

  /**
   * Exactly what a producer needs (SendMessage, and the two KMS operations SQS performs for the
   * sender) — the generic Queue.grantSendMessages also grants ReEncrypt* and GenerateDataKey*.
   */
  grantSendMessages(grantee: IGrantable): Grant {
    const send = Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    const encrypt = Grant.addToPrincipal({
      grantee,
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resourceArns: [this.encryptionKey.keyArn],
    });
    return send.combine(encrypt);
  }

  /**
   * Makes `consumer` the agent Lambda of this role: one message per invocation, partial batch
   * failures reported, and a refusal if its timeout outgrew the one this queue was sized for.
   */
  addConsumer(consumer: AgentFunction, options: { maxConcurrency?: number } = {}): void {
    if (consumer.timeout.toSeconds() > this.consumerTimeout.toSeconds()) {
      throw new Error(
        `${this.agentRole} queue was sized for a ${this.consumerTimeout.toHumanString()} consumer; ` +
          `${consumer.node.path} has ${consumer.timeout.toHumanString()}. Raise consumerTimeout on the queue.`,
      );
    }
    this.queue.grantConsumeMessages(consumer.function);
    const mapping = consumer.function.addEventSourceMapping(`${this.agentRole}QueueMapping`, {
      eventSourceArn: this.queue.queueArn,
      batchSize: 1,
      reportBatchItemFailures: true,
      maxConcurrency: options.maxConcurrency,
    });
    Validations.of(mapping).acknowledge({
      id: 'Serverless::Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings do not support on-failure destinations; failed messages reach the role DLQ through the queue redrive policy (maxReceiveCount).',
    });
  }

  /** Alarms as soon as one message lands in the DLQ: a task the pipeline will never hear back from. */
  alarmOnDeadLetters(topic: ITopic): Alarm {
    const alarm = new Alarm(this, 'DeadLettersAlarm', {
      alarmName: cellResourceName(this.customerId, this.agentRole, 'dead-letters'),
      alarmDescription: `The ${this.agentRole} dead-letter queue holds messages: ${this.agentRole} tasks that exhausted their retries.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(topic));
    return alarm;
  }
}
