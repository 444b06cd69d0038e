// A dead-letter queue that is not a role queue's (notification targets, detection schedules):
// encrypted with the cell key, kept for the 14-day maximum, and an alarm on the first message.
// Role queues keep theirs in agent-queue.ts, where the redrive policy and data-key reuse differ.
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  readonly queueName: string;
  readonly encryptionKey: IKey;
  /** Whose undelivered messages it holds, for the cdk-nag reasons, e.g. "the detection schedules". */
  readonly holds: string;
}

export function createDeadLetterQueue(scope: Construct, id: string, props: DeadLetterQueueProps): Queue {
  const queue = new Queue(scope, id, {
    queueName: props.queueName,
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: props.encryptionKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SQS3',
    reason: `This queue is the dead-letter queue of ${props.holds}, not a work queue that needs one.`,
  });
  Validations.of(queue).acknowledge({
    id: 'Serverless::Serverless-SQSRedrivePolicy',
    reason: 'This queue is itself a dead-letter queue; a DLQ of a DLQ would only move the same messages once more.',
  });
  return queue;
}

/** Alarms on the first message in a dead-letter queue: something that will not happen unless a person looks. */
export function alarmOnDeadLetters(scope: Construct, id: string, queue: Queue, props: { alarmName: string; description: string; topic: ITopic }): Alarm {
  const alarm = new Alarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: props.description,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new SnsAction(props.topic));
  return alarm;
}
