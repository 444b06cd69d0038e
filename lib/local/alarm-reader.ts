// The local runtime's AlarmReader: there is no AWS account to read CloudWatch alarms from, so the
// alarm detector reports itself skipped with this reason. Tests inject a reader of their own.
import { type AlarmInAlarm, type AlarmReader, AlarmsUnavailableError } from '../ports/alarm-reader';

export class UnavailableAlarmReader implements AlarmReader {
  async alarmsInAlarm(_names: readonly string[]): Promise<AlarmInAlarm[]> {
    throw new AlarmsUnavailableError('CloudWatch alarms are not available locally: the alarm detector runs in a deployed cell');
  }
}
