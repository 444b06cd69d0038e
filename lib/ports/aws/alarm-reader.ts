// AlarmReader over CloudWatch DescribeAlarms: the project's alarm names in batches of at most 100
// (the API's limit for AlarmNames), only those in ALARM, metric and composite alarms alike (the
// API returns only metric alarms unless AlarmTypes says otherwise). The function's role holds
// cloudwatch:DescribeAlarms on every alarm: the action takes no resource ARN (docs/deploy.md).
import {
  type CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmInAlarm, AlarmReader } from '../alarm-reader';
import { PortError } from '../errors';
import type { CellPortFactory } from './cell-ports';
import { cloudWatchClient } from './clients';

/** DescribeAlarms takes at most 100 names per call. */
export const ALARM_NAMES_PER_CALL = 100;
/** Pages read per batch; 100 names in ALARM fit in one page of 100, so more means something is off. */
const MAX_PAGES_PER_BATCH = 5;

/** CloudWatch refused the request itself (no permission, a bad parameter): retrying will not help. */
export class AlarmReadError extends PortError {
  readonly code = 'AlarmRead';
}

/** Service errors that say the request can never succeed as it is. */
const PERMANENT_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'InvalidParameterValue', 'InvalidParameterValueException', 'InvalidNextToken', 'ValidationError']);

function metricOf(alarm: MetricAlarm): string | undefined {
  if (alarm.MetricName) {
    const dimensions = (alarm.Dimensions ?? []).map((dimension) => `${dimension.Name}=${dimension.Value}`).join(', ');
    return `${alarm.Namespace ?? ''} ${alarm.MetricName}${dimensions ? ` (${dimensions})` : ''}`.trim();
  }
  // A metric-math alarm: the expression whose result is compared.
  const returned = alarm.Metrics?.find((query) => query.ReturnData !== false && query.Expression);
  return returned?.Expression ? `metric math ${returned.Expression}` : undefined;
}

function fromMetricAlarm(alarm: MetricAlarm): AlarmInAlarm {
  const metric = metricOf(alarm);
  return {
    name: alarm.AlarmName ?? '',
    ...(alarm.AlarmDescription ? { description: alarm.AlarmDescription } : {}),
    stateReason: alarm.StateReason ?? '',
    stateChangedAt: (alarm.StateUpdatedTimestamp ?? new Date(0)).toISOString(),
    ...(metric ? { metric } : {}),
  };
}

function fromCompositeAlarm(alarm: CompositeAlarm): AlarmInAlarm {
  return {
    name: alarm.AlarmName ?? '',
    ...(alarm.AlarmDescription ? { description: alarm.AlarmDescription } : {}),
    stateReason: alarm.StateReason ?? '',
    stateChangedAt: (alarm.StateUpdatedTimestamp ?? new Date(0)).toISOString(),
    ...(alarm.AlarmRule ? { metric: `composite rule ${alarm.AlarmRule}` } : {}),
  };
}

export class CloudWatchAlarmReader implements AlarmReader {
  private readonly client: () => CloudWatchClient;

  constructor(client?: CloudWatchClient) {
    this.client = client ? () => client : cloudWatchClient;
  }

  async alarmsInAlarm(names: readonly string[]): Promise<AlarmInAlarm[]> {
    const unique = [...new Set(names)];
    const found: AlarmInAlarm[] = [];
    for (let start = 0; start < unique.length; start += ALARM_NAMES_PER_CALL) {
      const batch = unique.slice(start, start + ALARM_NAMES_PER_CALL);
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const output = await this.describe(batch, nextToken);
        found.push(...(output.MetricAlarms ?? []).map(fromMetricAlarm), ...(output.CompositeAlarms ?? []).map(fromCompositeAlarm));
        nextToken = output.NextToken;
        pages += 1;
      } while (nextToken && pages < MAX_PAGES_PER_BATCH);
    }
    return found.filter((alarm) => alarm.name !== '');
  }

  private async describe(batch: string[], nextToken: string | undefined) {
    try {
      return await this.client().send(
        new DescribeAlarmsCommand({
          AlarmNames: batch,
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          StateValue: 'ALARM',
          MaxRecords: ALARM_NAMES_PER_CALL,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (PERMANENT_ERRORS.has(name)) {
        throw new AlarmReadError(`CloudWatch refused to describe ${batch.length} alarm(s) starting with ${batch[0]}: ${name}: ${(error as Error).message}`, { cause: error });
      }
      // Throttling and service errors: the step's retry tries again.
      throw error;
    }
  }
}

/** The alarms port of the detector function: CloudWatch with the function's role, nothing to configure. */
export const cellPort: CellPortFactory<'alarms'> = () => new CloudWatchAlarmReader();
