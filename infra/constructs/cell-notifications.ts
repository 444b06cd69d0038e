// Telling people what needs them: one EventBridge rule per notification definition
// (lib/domain/notifications.ts) on the cell bus, whose input transformer writes the message, to an
// SNS topic under the cell key with the customer's e-mail subscribers; with a Slack channel, a
// second topic in AWS Chatbot's custom-notification format that Chatbot posts to the channel.
import { Duration, Validations } from 'aws-cdk-lib';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { SlackChannelConfiguration } from 'aws-cdk-lib/aws-chatbot';
import { type IEventBus, type IRuleRef, Rule, RuleTargetInput, type RuleTargetInputProperties } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { Effect, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../lib/domain/events';
import { messageTemplate, type NotificationContext, NOTIFICATIONS, type NotificationDefinition } from '../../lib/domain/notifications';
import type { NotificationSettings } from '../config/customer-config';
import { alarmOnDeadLetters, createDeadLetterQueue } from './dead-letter-queue';
import { cellResourceName, chatNotificationTopicName, notificationDeadLetterQueueName, notificationTopicName } from '../naming';

/**
 * An input transformer whose template is sent as it is. CDK's RuleTargetInput.fromText JSON-encodes
 * its text, so an e-mail would show the message in quotes with `\n` for each line break.
 */
class TemplateInput extends RuleTargetInput {
  constructor(
    private readonly template: string,
    private readonly pathsMap: Readonly<Record<string, string>>,
  ) {
    super();
  }

  bind(_rule: IRuleRef): RuleTargetInputProperties {
    return { inputTemplate: this.template, inputPathsMap: { ...this.pathsMap } };
  }
}

/** The plain-text message, as `renderNotification` renders it locally. */
export function emailInput(definition: NotificationDefinition, context: NotificationContext): RuleTargetInput {
  return new TemplateInput(messageTemplate(definition, context).text, definition.fields);
}

/**
 * AWS Chatbot posts only messages in its custom-notification schema; the same title and text go
 * into it. Placeholders sit inside JSON strings, where EventBridge escapes the values it inserts.
 */
export function chatInput(definition: NotificationDefinition, context: NotificationContext): RuleTargetInput {
  const { title, text } = messageTemplate(definition, context);
  const body = text.split('\n').slice(2).join('\n');
  const template = JSON.stringify({ version: '1.0', source: 'custom', content: { textType: 'client-markdown', title, description: body } });
  return new TemplateInput(template, definition.fields);
}

export interface CellNotificationsProps {
  readonly customerId: string;
  readonly encryptionKey: IKey;
  readonly eventBus: IEventBus;
  /** How messages tell people to reach this cell: its API base URL (no trailing slash), also the CLI's `--endpoint`. */
  readonly apiUrl: string;
  readonly settings: NotificationSettings;
  /** Where the alarm on undelivered notifications goes. */
  readonly alarmTopic?: ITopic;
}

export class CellNotifications extends Construct {
  readonly topic: Topic;
  readonly chatTopic?: Topic;
  readonly slackChannel?: SlackChannelConfiguration;
  readonly rules: Readonly<Record<string, Rule>>;
  /** Notifications SNS refused after every retry (a deleted topic, a key EventBridge may not use). */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: CellNotificationsProps) {
    super(scope, id);
    const apiUrl = props.apiUrl;
    const context: NotificationContext = { apiUrl, cliTarget: ` --endpoint ${apiUrl}` };

    this.topic = new Topic(this, 'Topic', {
      topicName: notificationTopicName(props.customerId),
      displayName: `Cahoots ${props.customerId}`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    props.settings.emails.forEach((email, index) => {
      const subscription = this.topic.addSubscription(new EmailSubscription(email));
      Validations.of(subscription).acknowledge({
        id: 'Serverless::Serverless-SNSRedrivePolicy',
        reason: `E-mail subscription ${index + 1}: a message SNS cannot deliver to a mailbox would land in a queue nobody reads; failed deliveries show in the topic NumberOfNotificationsFailed metric instead.`,
      });
    });

    const slack = props.settings.slack;
    if (slack) {
      this.chatTopic = new Topic(this, 'ChatTopic', {
        topicName: chatNotificationTopicName(props.customerId),
        displayName: `Cahoots ${props.customerId} (chat)`,
        masterKey: props.encryptionKey,
        enforceSSL: true,
      });
      // Channel members could otherwise run AWS commands from Slack with the channel role; the
      // channel is for notifications only, so its guardrail denies every action.
      const guardrail = new ManagedPolicy(this, 'ChatGuardrail', {
        description: 'Cahoots notifications channel: no AWS actions from chat',
        statements: [new PolicyStatement({ effect: Effect.DENY, actions: ['*'], resources: ['*'] })],
      });
      this.slackChannel = new SlackChannelConfiguration(this, 'SlackChannel', {
        slackChannelConfigurationName: cellResourceName(props.customerId, 'notifications'),
        slackWorkspaceId: slack.workspaceId,
        slackChannelId: slack.channelId,
        notificationTopics: [this.chatTopic],
        guardrailPolicies: [guardrail],
      });
    }

    this.deadLetterQueue = createDeadLetterQueue(this, 'DeadLetterQueue', {
      queueName: notificationDeadLetterQueueName(props.customerId),
      encryptionKey: props.encryptionKey,
      holds: 'the notification rule targets',
    });
    if (props.alarmTopic) {
      alarmOnDeadLetters(this, 'DeadLettersAlarm', this.deadLetterQueue, {
        alarmName: cellResourceName(props.customerId, 'notifications', 'dead-letters'),
        description: 'A notification could not be delivered to its SNS topic after every retry; the dead-letter queue holds it.',
        topic: props.alarmTopic,
      });
    }
    const delivery = { deadLetterQueue: this.deadLetterQueue, retryAttempts: 10, maxEventAge: Duration.hours(6) };

    const rules: Record<string, Rule> = {};
    for (const definition of NOTIFICATIONS) {
      const rule = new Rule(this, `Notify-${definition.id}`, {
        ruleName: cellResourceName(props.customerId, 'notify', definition.id),
        description: definition.description,
        eventBus: props.eventBus,
        eventPattern: {
          source: [EVENT_SOURCE],
          detailType: definition.pattern['detail-type'],
          ...(definition.pattern.detail ? { detail: definition.pattern.detail } : {}),
        },
      });
      rule.addTarget(new SnsTopic(this.topic, { message: emailInput(definition, context), ...delivery }));
      if (this.chatTopic) rule.addTarget(new SnsTopic(this.chatTopic, { message: chatInput(definition, context), ...delivery }));
      rules[definition.id] = rule;
    }
    this.rules = rules;
  }
}
