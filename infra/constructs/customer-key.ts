// The cell's customer-managed KMS key and its key policy. Every encrypted resource of the cell
// uses this key, and this file is the one place that says which AWS services may use it.
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { cellResourceName, chatNotificationTopicName, notificationDeadLetterQueueName, notificationTopicName } from '../naming';

export const KEY_ROTATION_PERIOD = Duration.days(90);

export interface CustomerKeyProps {
  readonly customerId: string;
  /** The cell's EventBridge bus: EventBridge may use the key for this bus and its archive only. */
  readonly eventBusName: string;
}

/**
 * Key policy = the account root statement (CDK default: lets IAM policies in this account grant
 * use of the key, which is how DynamoDB, S3, SQS, SNS, Secrets Manager and Step Functions use it on
 * behalf of a role that was granted with grant*()) + statements for the services that call KMS as
 * themselves: CloudWatch Logs, Logs delivery (Step Functions logging), EventBridge and CloudWatch
 * alarms publishing to the encrypted alarm topic.
 *
 * Other stacks of the cell must use an imported reference to this key (see StatefulStack.importKey),
 * so nothing outside this construct can add to the policy.
 */
export class CustomerKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: CustomerKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.key = new Key(this, 'Key', {
      alias: `alias/${cellResourceName(props.customerId)}`,
      description: `Cahoots cell ${props.customerId}: data, queues, events, logs and alarms`,
      enableKeyRotation: true,
      rotationPeriod: KEY_ROTATION_PERIOD,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Log groups of this account and region only; the encryption context names the log group.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsForThisAccountsLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    // Step Functions logging with a CMK-encrypted state machine: log delivery decrypts execution
    // data before writing it to the (also encrypted) log group.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'LogDeliveryDecryptsStateMachineLogs',
        principals: [new ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['kms:Decrypt'],
        resources: ['*'],
      }),
    );

    // The bus and its archive share one encryption context: the bus ARN. Naming the bus here
    // (instead of letting the EventBus construct add it from another stack) keeps the policy in
    // one place and avoids a dependency from this stack on the service stack.
    const eventBusArn = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: props.eventBusName });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeForTheCellBusAndArchive',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': eventBusArn } },
      }),
    );
    // DescribeKey carries no encryption context, so it cannot be narrowed to the bus; it reveals
    // key metadata only.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeDescribesTheKey',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
      }),
    );

    // EventBridge rules deliver notifications to the encrypted notification topics as the
    // EventBridge service; SNS names the topic in the encryption context.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgePublishesNotifications',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'kms:EncryptionContext:aws:sns:topicArn': [notificationTopicName(props.customerId), chatNotificationTopicName(props.customerId)].map((name) =>
              stack.formatArn({ service: 'sns', resource: name }),
            ),
          },
        },
      }),
    );

    // ...and, when SNS refuses a notification after every retry, to its encrypted dead-letter queue.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeKeepsUndeliveredNotifications',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:EncryptionContext:aws:sqs:arn': stack.formatArn({ service: 'sqs', resource: notificationDeadLetterQueueName(props.customerId) }) },
        },
      }),
    );

    // CloudWatch alarms publish to the encrypted alarm topic as the CloudWatch service.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
  }
}
