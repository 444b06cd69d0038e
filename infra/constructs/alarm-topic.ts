// The cell's SNS topic for alarms, encrypted with the customer key, with the customer's alarm
// e-mail subscribed.
import { Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { cellResourceName } from '../naming';

export interface AlarmTopicProps {
  readonly customerId: string;
  readonly encryptionKey: IKey;
  readonly alarmEmail: string;
}

export class AlarmTopic extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);

    this.topic = new Topic(this, 'Topic', {
      topicName: cellResourceName(props.customerId, 'alarms'),
      displayName: `Cahoots ${props.customerId} alarms`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });

    const emailSubscription = this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    Validations.of(emailSubscription).acknowledge({
      id: 'Serverless::Serverless-SNSRedrivePolicy',
      reason:
        'An e-mail subscription: a message SNS cannot deliver to a mailbox would land in a queue nobody reads; failed deliveries show in the topic NumberOfNotificationsFailed metric instead.',
    });
  }
}
