// The customer's own CloudWatch alarms, read for work detection (the self-healing loop): which of
// the alarms a project names are in ALARM right now. CloudWatch in a cell; the local runtime has
// no AWS account, so its reader says so and the alarm detector reports itself skipped.
import { PortError } from './errors';

/** One alarm in ALARM, with the evidence a finding carries. */
export interface AlarmInAlarm {
  name: string;
  description?: string;
  /** CloudWatch's words for why the state changed (the datapoints that breached). */
  stateReason: string;
  /** When the alarm entered ALARM (ISO timestamp). */
  stateChangedAt: string;
  /** `AWS/ApplicationELB HTTPCode_Target_5XX_Count`, or a composite alarm's rule. */
  metric?: string;
}

export interface AlarmReader {
  /**
   * The alarms among `names` whose state is ALARM; names that do not exist or are not in ALARM are
   * left out. Throws AlarmsUnavailableError where this runtime cannot read alarms at all.
   */
  alarmsInAlarm(names: readonly string[]): Promise<AlarmInAlarm[]>;
}

/** This runtime has no alarms to read (the local runtime); not a failure of the detector. */
export class AlarmsUnavailableError extends PortError {
  readonly code = 'AlarmsUnavailable';
}
