// Where projects' work-detection schedules live in a cell: an EventBridge Scheduler group (the API
// puts one schedule per project in it), the role the scheduler assumes to start the DetectWork state
// machine, and the dead-letter queue for invocations that failed every retry, with its alarm.
import { Stack, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Grant, type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AWS_PORTS_ENV } from '../runtime-environment';
import { cellResourceName } from '../naming';
import { alarmOnDeadLetters, createDeadLetterQueue } from './dead-letter-queue';
import { nagResourceText } from '../nag';

/** The cell's schedule group, named before it exists so every stack can write its ARNs as literals. */
export function detectionScheduleGroupName(customerId: string): string {
  return cellResourceName(customerId, 'detection');
}

/** The API actions that keep a project's schedule in step with its settings (lib/ports/aws/detection-scheduler.ts). */
export const SCHEDULE_WRITE_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'] as const;

export interface DetectionSchedulesProps {
  readonly customerId: string;
  /** The cell key: encrypts the dead-letter queue. */
  readonly encryptionKey: IKey;
  /** The DetectWork state machine every schedule starts. */
  readonly detectWork: IStateMachine;
  /** Where the dead-letter alarm goes. */
  readonly alarmTopic?: ITopic;
}

export class DetectionSchedules extends Construct {
  readonly group: ScheduleGroup;
  readonly groupName: string;
  /** Assumed by EventBridge Scheduler: StartExecution on DetectWork, SendMessage to the DLQ. */
  readonly role: Role;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm?: Alarm;
  private readonly detectWork: IStateMachine;

  constructor(scope: Construct, id: string, props: DetectionSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.detectWork = props.detectWork;
    this.groupName = detectionScheduleGroupName(props.customerId);
    this.group = new ScheduleGroup(this, 'Group', { scheduleGroupName: this.groupName });

    this.deadLetterQueue = createDeadLetterQueue(this, 'DeadLetterQueue', {
      queueName: cellResourceName(props.customerId, 'detection-schedules', 'dlq'),
      encryptionKey: props.encryptionKey,
      holds: 'the detection schedules (EventBridge Scheduler targets)',
    });

    this.role = new Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler starts work detection of cell ${props.customerId}`,
      // Only schedules of this account's detection group may use the role (confused-deputy guard).
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: this.groupName }) },
        },
      }),
    });
    props.detectWork.grantStartExecution(this.role);
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.encryptionKey.keyArn] }));

    if (props.alarmTopic) {
      this.deadLetterAlarm = alarmOnDeadLetters(this, 'DeadLettersAlarm', this.deadLetterQueue, {
        alarmName: cellResourceName(props.customerId, 'detection-schedules', 'dead-letters'),
        description: 'A scheduled work detection could not be started after every retry; the dead-letter queue holds its input.',
        topic: props.alarmTopic,
      });
    }
  }

  /** The variables the API functions' DetectionScheduler reads (lib/ports/aws/config.ts). */
  get environment(): Record<string, string> {
    return {
      [AWS_PORTS_ENV.scheduleGroupName]: this.groupName,
      [AWS_PORTS_ENV.detectWorkStateMachineArn]: this.detectWork.stateMachineArn,
      [AWS_PORTS_ENV.schedulerRoleArn]: this.role.roleArn,
      [AWS_PORTS_ENV.scheduleDeadLetterQueueArn]: this.deadLetterQueue.queueArn,
    };
  }

  /**
   * Create, update and delete schedules of this group only, and hand the scheduler role to
   * EventBridge Scheduler (iam:PassRole, to that service only). `role` is the grantee's role, where
   * the wildcard finding is acknowledged.
   */
  grantScheduleWrites(grantee: IGrantable, role: Construct): Grant {
    const stack = Stack.of(role);
    // Built from the group's fixed name in the grantee's stack, so it stays a literal across stacks.
    const schedules = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.groupName}/*` });
    const write = Grant.addToPrincipal({ grantee, actions: [...SCHEDULE_WRITE_ACTIONS], resourceArns: [schedules] });
    const pass = Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResourceText(stack, schedules)}]`,
      reason: `Each project has its own schedule, named after the project, in the cell's ${this.groupName} group; the schedule part of the ARN can only be a wildcard.`,
    });
    return write.combine(pass);
  }
}
