import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createAwsPorts, DetectionScheduleError, EventBridgeDetectionScheduler, parseAwsPortsConfig, PortNotConfiguredError } from '../../lib/ports/aws/index';

const scheduler = mockClient(SchedulerClient);
// Tests share a worker: the next file must meet the real client, not this mock.
afterAll(() => {
  scheduler.restore();
});
/** A service error as the SDK builds it from a response: `Message` in the body, `message` on the Error. */
const fault = (message: string) => ({ message, Message: message, $metadata: {} });
const options = {
  groupName: 'cahoots-acme-detection',
  detectWorkStateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:cahoots-acme-detect-work',
  roleArn: 'arn:aws:iam::123456789012:role/cahoots-acme-scheduler',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:cahoots-acme-schedules-dlq',
};
const adapter = new EventBridgeDetectionScheduler(options);
const projectId = 'prj_01JDZ8W5T1N6V1Q2ZK3M4X5Y6Z';
const nightly = { cron: 'cron(0 3 ? * MON-FRI *)', timezone: 'Europe/Berlin', enabled: true };

afterEach(() => scheduler.reset());

describe('EventBridgeDetectionScheduler', () => {
  it('creates one schedule per project that starts DetectWork in the project time zone, with window, retries and DLQ', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await adapter.upsert(projectId, nightly);
    const sent = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({
      GroupName: 'cahoots-acme-detection',
      Name: `detect-${projectId}`,
      ScheduleExpression: 'cron(0 3 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      State: 'ENABLED',
      Target: {
        Arn: options.detectWorkStateMachineArn,
        RoleArn: options.roleArn,
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: options.deadLetterQueueArn },
      },
    });
    expect(JSON.parse(sent.Target!.Input!)).toEqual({ projectId, trigger: 'schedule' });
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('updates the schedule when the project has one already (ConflictException)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException(fault('exists')));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await adapter.upsert(projectId, { ...nightly, cron: 'rate(12 hours)' });
    const update = scheduler.commandCalls(UpdateScheduleCommand)[0]!.args[0].input;
    expect(update).toMatchObject({ Name: `detect-${projectId}`, ScheduleExpression: 'rate(12 hours)', ScheduleExpressionTimezone: 'Europe/Berlin' });
  });

  it('creates after all when the schedule vanished between create and update', async () => {
    scheduler
      .on(CreateScheduleCommand)
      .rejectsOnce(new ConflictException(fault('exists')))
      .resolves({ ScheduleArn: 'arn' });
    scheduler.on(UpdateScheduleCommand).rejects(new ResourceNotFoundException(fault('gone')));
    await adapter.upsert(projectId, nightly);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(2);
  });

  it('removes the schedule when detection is disabled, and a missing one is fine', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException(fault('no such schedule')));
    await adapter.upsert(projectId, { ...nightly, enabled: false });
    await adapter.delete(projectId);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { GroupName: 'cahoots-acme-detection', Name: `detect-${projectId}` },
      { GroupName: 'cahoots-acme-detection', Name: `detect-${projectId}` },
    ]);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
  });

  it('names the project and the service reason when the request is refused; transient errors pass through', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ValidationException(fault('Invalid Schedule Expression')));
    const refused = await adapter.upsert(projectId, nightly).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DetectionScheduleError);
    expect((refused as Error).message).toBe(`The detection schedule of project ${projectId} could not be saved: ValidationException: Invalid Schedule Expression`);
    expect((refused as DetectionScheduleError).permanent).toBe(true);

    scheduler.reset();
    scheduler.on(CreateScheduleCommand).rejects(new ThrottlingException(fault('slow down')));
    await expect(adapter.upsert(projectId, nightly)).rejects.toBeInstanceOf(ThrottlingException);
    scheduler.on(DeleteScheduleCommand).rejects(new ThrottlingException(fault('slow down')));
    await expect(adapter.delete(projectId)).rejects.toBeInstanceOf(ThrottlingException);
  });

  it('is configured only with all four variables; the stand-in names the missing one', async () => {
    const partial = parseAwsPortsConfig({ scheduleGroupName: options.groupName, detectWorkStateMachineArn: options.detectWorkStateMachineArn });
    const error = await createAwsPorts(partial).schedules.upsert(projectId, nightly).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortNotConfiguredError);
    expect((error as Error).message).toBe('The schedules port is not configured: set SCHEDULER_ROLE_ARN');
    expect(() => parseAwsPortsConfig({ schedulerRoleArn: 'role/x' })).toThrow('SCHEDULER_ROLE_ARN must be an IAM role ARN');
  });
});
