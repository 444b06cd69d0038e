// The CloudWatch AlarmReader against a mocked CloudWatch client (CloudWatch has no local stand-in):
// the DescribeAlarms request shape, batches of at most 100 names, pages, metric and composite
// alarms turned into evidence, and which service errors are permanent.
import { CloudWatchClient, CloudWatchServiceException, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AlarmReadError, ALARM_NAMES_PER_CALL, CloudWatchAlarmReader, createAwsPorts, parseAwsPortsConfig } from '../../lib/ports/aws/index';

const cloudWatch = mockClient(CloudWatchClient);
// Tests share a worker: the next file must meet the real client, not this mock.
afterAll(() => {
  cloudWatch.restore();
});
const reader = new CloudWatchAlarmReader();
const firedAt = new Date('2026-11-30T08:15:00.000Z');

const serviceError = (name: string, message: string) =>
  new CloudWatchServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });

afterEach(() => cloudWatch.reset());

describe('CloudWatchAlarmReader', () => {
  it('asks for the named metric and composite alarms in ALARM, and turns each into evidence', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'shop-api-5xx',
          AlarmDescription: 'Target 5xx above 1%',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed: 3 datapoints [42.0, 40.0, 39.0] were greater than the threshold (10.0).',
          StateUpdatedTimestamp: firedAt,
          Namespace: 'AWS/ApplicationELB',
          MetricName: 'HTTPCode_Target_5XX_Count',
          Dimensions: [{ Name: 'LoadBalancer', Value: 'app/shop/123' }],
        },
        {
          AlarmName: 'shop-latency',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed',
          StateUpdatedTimestamp: firedAt,
          Metrics: [
            { Id: 'p99', MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Latency' }, Period: 60, Stat: 'p99' }, ReturnData: false },
            { Id: 'slow', Expression: 'p99 / 1000', ReturnData: true },
          ],
        },
      ],
      CompositeAlarms: [
        { AlarmName: 'shop-down', StateValue: 'ALARM', StateReason: 'arn:…:shop-api-5xx transitioned to ALARM', StateUpdatedTimestamp: firedAt, AlarmRule: 'ALARM(shop-api-5xx) AND ALARM(shop-latency)' },
      ],
    });

    const alarms = await reader.alarmsInAlarm(['shop-api-5xx', 'shop-latency', 'shop-down', 'shop-api-5xx']);

    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input)).toEqual([
      {
        // Names once each; without AlarmTypes the API returns metric alarms only.
        AlarmNames: ['shop-api-5xx', 'shop-latency', 'shop-down'],
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        StateValue: 'ALARM',
        MaxRecords: 100,
      },
    ]);
    expect(alarms).toEqual([
      {
        name: 'shop-api-5xx',
        description: 'Target 5xx above 1%',
        stateReason: 'Threshold Crossed: 3 datapoints [42.0, 40.0, 39.0] were greater than the threshold (10.0).',
        stateChangedAt: '2026-11-30T08:15:00.000Z',
        metric: 'AWS/ApplicationELB HTTPCode_Target_5XX_Count (LoadBalancer=app/shop/123)',
      },
      { name: 'shop-latency', stateReason: 'Threshold Crossed', stateChangedAt: '2026-11-30T08:15:00.000Z', metric: 'metric math p99 / 1000' },
      {
        name: 'shop-down',
        stateReason: 'arn:…:shop-api-5xx transitioned to ALARM',
        stateChangedAt: '2026-11-30T08:15:00.000Z',
        metric: 'composite rule ALARM(shop-api-5xx) AND ALARM(shop-latency)',
      },
    ]);
  });

  it('sends at most 100 names per call and follows NextToken within a batch', async () => {
    const names = Array.from({ length: 230 }, (_, index) => `alarm-${String(index).padStart(3, '0')}`);
    cloudWatch
      .on(DescribeAlarmsCommand)
      .callsFake((input: { AlarmNames: string[]; NextToken?: string }) =>
        input.AlarmNames[0] === 'alarm-000' && !input.NextToken
          ? { MetricAlarms: [{ AlarmName: 'alarm-007', StateReason: 'r', StateUpdatedTimestamp: firedAt }], NextToken: 'page-2' }
          : input.NextToken === 'page-2'
            ? { MetricAlarms: [{ AlarmName: 'alarm-042', StateReason: 'r', StateUpdatedTimestamp: firedAt }] }
            : input.AlarmNames[0] === 'alarm-200'
              ? { MetricAlarms: [{ AlarmName: 'alarm-229', StateReason: 'r', StateUpdatedTimestamp: firedAt }] }
              : {},
      );

    const alarms = await reader.alarmsInAlarm(names);

    const calls = cloudWatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => [input.AlarmNames!.length, input.AlarmNames![0], input.NextToken])).toEqual([
      [100, 'alarm-000', undefined],
      [100, 'alarm-000', 'page-2'],
      [100, 'alarm-100', undefined],
      [30, 'alarm-200', undefined],
    ]);
    expect(calls.every((input) => input.AlarmNames!.length <= ALARM_NAMES_PER_CALL)).toBe(true);
    expect(alarms.map((alarm) => alarm.name)).toEqual(['alarm-007', 'alarm-042', 'alarm-229']);
  });

  it('makes no call for no names', async () => {
    expect(await reader.alarmsInAlarm([])).toEqual([]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);
  });

  it('reports a refused request as a permanent AlarmReadError and lets throttling through for the retry', async () => {
    cloudWatch.on(DescribeAlarmsCommand).rejects(serviceError('AccessDenied', 'User is not authorized to perform: cloudwatch:DescribeAlarms'));
    const refused = await reader.alarmsInAlarm(['shop-api-5xx']).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AlarmReadError);
    expect(refused).toMatchObject({ permanent: true, stepFunctionsError: 'Port.AlarmRead' });
    expect((refused as Error).message).toContain('AccessDenied');
    expect((refused as Error).message).toContain('shop-api-5xx');

    cloudWatch.reset();
    cloudWatch.on(DescribeAlarmsCommand).rejects(serviceError('Throttling', 'Rate exceeded'));
    const throttled = await reader.alarmsInAlarm(['shop-api-5xx']).catch((error: unknown) => error);
    expect(throttled).not.toBeInstanceOf(AlarmReadError);
    expect(throttled).toMatchObject({ name: 'Throttling' });
  });

  it('is the alarms port of the AWS ports, with nothing to configure', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({});
    const ports = createAwsPorts(parseAwsPortsConfig({}), { workspaceRoot: '/tmp' });
    expect(await ports.alarms.alarmsInAlarm(['shop-api-5xx'])).toEqual([]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(1);
  });
});
