// Projects and their detection schedules through the API's real handlers: the EventBridge Scheduler
// adapter (its SDK client mocked, as there is no local stand-in) receives what each request implies.
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeDetectionScheduler } from '../../lib/ports/aws/detection-scheduler';
import { expectError, newProjectBody, request, startApi, type ApiTestContext } from './support';

const scheduler = mockClient(SchedulerClient);
// Tests share a worker: the next file must meet the real client, not this mock.
afterAll(() => {
  scheduler.restore();
});
/** A service error as the SDK builds it from a response: `Message` in the body, `message` on the Error. */
const fault = (message: string) => ({ message, Message: message, $metadata: {} });
let api: ApiTestContext;

beforeAll(async () => {
  api = await startApi();
  api.deps.schedules = new EventBridgeDetectionScheduler({
    groupName: 'cahoots-acme-detection',
    detectWorkStateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:cahoots-acme-detect-work',
    roleArn: 'arn:aws:iam::123456789012:role/cahoots-acme-scheduler',
    deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:cahoots-acme-schedules-dlq',
  });
});
afterAll(() => api.stop());
beforeEach(() => {
  scheduler.reset();
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
  scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
  scheduler.on(DeleteScheduleCommand).resolves({});
});

const calls = () =>
  scheduler.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: { Name?: string; ScheduleExpression?: string; ScheduleExpressionTimezone?: string } };
    return [command.constructor.name, command.input.Name, command.input.ScheduleExpression, command.input.ScheduleExpressionTimezone].filter(Boolean).join(' ');
  });

describe('project detection schedules', () => {
  it('a project created with detection enabled gets its schedule; one without gets no call', async () => {
    const quiet = await request('POST', '/projects', { json: newProjectBody('quiet') });
    expect(quiet.status).toBe(201);
    expect(calls()).toEqual([]);

    const body = { ...newProjectBody('watched'), schedule: { cron: 'cron(30 6 ? * MON-FRI *)', timezone: 'Asia/Tokyo', enabled: true } };
    const created = await request('POST', '/projects', { json: body });
    expect(created.status).toBe(201);
    expect(calls()).toEqual([`CreateScheduleCommand detect-${created.body.id} cron(30 6 ? * MON-FRI *) Asia/Tokyo`]);
  });

  it('PATCH with schedule replaces it, disabling removes it, other settings do not touch it', async () => {
    const created = await request('POST', '/projects', { json: { ...newProjectBody('patched'), schedule: { enabled: true } } });
    const id = created.body.id as string;
    scheduler.reset();
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException(fault('exists')));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    scheduler.on(DeleteScheduleCommand).resolves({});

    expect((await request('PATCH', `/projects/${id}`, { json: { schedule: { cron: 'rate(12 hours)' } } })).status).toBe(200);
    expect((await request('PATCH', `/projects/${id}`, { json: { maxParallelTasks: 4 } })).status).toBe(200);
    expect((await request('PATCH', `/projects/${id}`, { json: { schedule: { enabled: false } } })).status).toBe(200);
    expect(calls()).toEqual([
      `CreateScheduleCommand detect-${id} rate(12 hours) UTC`,
      `UpdateScheduleCommand detect-${id} rate(12 hours) UTC`,
      `DeleteScheduleCommand detect-${id}`,
    ]);
  });

  it('disabling a project that never had a schedule is fine (ResourceNotFound on delete)', async () => {
    const created = await request('POST', '/projects', { json: newProjectBody('never') });
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException(fault('none')));
    const patched = await request('PATCH', `/projects/${created.body.id}`, { json: { schedule: { enabled: false } } });
    expect(patched.status).toBe(200);
  });

  it('refuses a bad expression or time zone with 400 naming the field, before any scheduler call', async () => {
    const created = await request('POST', '/projects', { json: newProjectBody('typo') });
    const badCron = await request('PATCH', `/projects/${created.body.id}`, { json: { schedule: { cron: 'cron(0 3 * * * *)', enabled: true } } });
    expectError(badCron, 400);
    expect(JSON.stringify(badCron.body.error)).toContain('exactly one of day-of-month and day-of-week must be ?');
    const badZone = await request('PATCH', `/projects/${created.body.id}`, { json: { schedule: { timezone: 'Europe/Atlantis' } } });
    expectError(badZone, 400);
    expect(JSON.stringify(badZone.body.error)).toContain('not a known IANA time zone');
    expect(calls()).toEqual([]);
  });
});
