// The detection schedules construct on its own: schedule group, scheduler role, dead-letter queue
// and alarm, and the grant the API functions get, checked in the synthesized template and by cdk-nag.
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, AccountPrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Pass, StateMachine, DefinitionBody } from 'aws-cdk-lib/aws-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectionSchedules } from '../../infra/constructs/detection-schedules';
import { addNagChecks } from '../../infra/nag';
import { type PluginReport, readValidationReport, removeTempDirs, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

let template: Template;
let report: PluginReport[];
let schedules: DetectionSchedules;

beforeAll(() => {
  const outdir = tempOutdir('detection-schedules');
  const app = new App({ outdir, context: testContext(), builtinCloudFormationValidation: false });
  addNagChecks(app);
  const stage = new Stage(app, 'Cahoots-acme', { env: { account: '123456789012', region: 'eu-west-1' } });
  const stack = new Stack(stage, 'Schedules');
  const key = new Key(stack, 'Key', { enableKeyRotation: true });
  const detectWork = new StateMachine(stack, 'DetectWork', { definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Start')) });
  const topic = new Topic(stack, 'Alarms', { masterKey: key, enforceSSL: true });
  schedules = new DetectionSchedules(stack, 'DetectionSchedules', { customerId: 'acme', encryptionKey: key, detectWork, alarmTopic: topic });
  const apiRole = new Role(stack, 'ApiFunctionRole', { assumedBy: new AccountPrincipal('123456789012') });
  schedules.grantScheduleWrites(apiRole, apiRole);
  app.synth();
  template = Template.fromStack(stack);
  report = readValidationReport(outdir);
});

describe('DetectionSchedules', () => {
  it('has one schedule group per cell, named after the customer', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'cahoots-acme-detection' });
    expect(schedules.environment.SCHEDULE_GROUP_NAME).toBe('cahoots-acme-detection');
  });

  it('keeps failed invocations in a queue under the cell key, and alarms on the first one', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'cahoots-acme-detection-schedules-dlq',
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cahoots-acme-detection-schedules-dead-letters',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
  });

  it('lets only the scheduler, for this account and group, assume a role that starts DetectWork and reaches the DLQ', () => {
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] } },
    });
    const [roleId, role] = Object.entries(roles)[0]!;
    expect(Object.keys(roles)).toHaveLength(1);
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:scheduler:eu-west-1:123456789012:schedule-group/cahoots-acme-detection' },
    });
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    expect(statements.map((s) => s.Action)).toEqual(['states:StartExecution', 'sqs:SendMessage', ['kms:Decrypt', 'kms:GenerateDataKey']]);
    expect(JSON.stringify(statements[0]!.Resource)).toContain('DetectWork');
  });

  it('grants the API exactly the schedule writes of this group and PassRole to the scheduler service', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ApiFunctionRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:UpdateSchedule'],
            Resource: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/cahoots-acme-detection/*',
          },
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('SchedulerRole'), 'Arn'] },
            Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
          },
        ],
      },
    });
  });

  it('leaves no unacknowledged cdk-nag finding on its resources or the grant, and each acknowledgement matches a finding', () => {
    const ours = (path: string) => path.includes('/DetectionSchedules/') || path.includes('/ApiFunctionRole/');
    const open = report.flatMap((plugin) =>
      plugin.violations.flatMap((v) => v.violatingConstructs.filter((c) => ours(c.constructPath)).map((c) => `${v.ruleName} ${c.constructPath}`)),
    );
    expect(open).toEqual([]);
    const suppressed = report.flatMap((plugin) => (plugin.suppressedViolations ?? []).map((v) => v.acknowledgedId ?? v.ruleName));
    expect(suppressed).toEqual(
      expect.arrayContaining([
        'AwsSolutions::AwsSolutions-SQS3',
        'Serverless::Serverless-SQSRedrivePolicy',
        'AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:scheduler:eu-west-1:123456789012:schedule/cahoots-acme-detection/*]',
      ]),
    );
  });
});
