// The self-healing loop: CloudWatch alarms of the customer's own application, named in the
// project's `detection.alarmNames`, that are in ALARM. One finding per alarm, fingerprinted by its
// name, so an alarm that keeps firing is the same finding run after run and one that returned to
// OK resolves it on the next run (merge.ts). The local runtime has no alarms: the detector is skipped.
import { createHash } from 'node:crypto';
import { detectionSettingsOf } from '../../domain/project';
import type { Severity } from '../../domain/finding';
import { type AlarmInAlarm, AlarmsUnavailableError } from '../../ports/index';
import { PortError } from '../../ports/errors';
import { type Detector, type DetectedFinding, DetectorFailedError, excerpt } from '../types';

/** What a fingerprint may hold as it is (FingerprintSchema); other alarm names are made to fit. */
const FINGERPRINT_SAFE = /^[A-Za-z0-9:._/@+#-]+$/;
const MAX_NAME_IN_FINGERPRINT = 150;

/**
 * `alarm:<name>` when the name fits a fingerprint; otherwise (spaces, other characters, very long
 * names) the name with those characters as `_`, cut to 150, and `@` with a hash of the full name,
 * so two names that look alike once made to fit still differ.
 */
export function alarmFingerprint(name: string): string {
  if (FINGERPRINT_SAFE.test(name) && name.length <= MAX_NAME_IN_FINGERPRINT) return `alarm:${name}`;
  const readable = name.replace(/[^A-Za-z0-9:._/@+#-]/g, '_').slice(0, MAX_NAME_IN_FINGERPRINT);
  return `alarm:${readable}@${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

/**
 * An alarm firing is high severity; critical when its name or description says `critical` (or
 * `sev1`/`p0`), the words teams use for alarms that page someone.
 */
export function alarmSeverity(alarm: Pick<AlarmInAlarm, 'name' | 'description'>): Severity {
  return /(^|[^a-z0-9])(critical|sev1|p0)([^a-z0-9]|$)/i.test(`${alarm.name} ${alarm.description ?? ''}`) ? 'critical' : 'high';
}

export function findingOfAlarm(alarm: AlarmInAlarm): DetectedFinding {
  return {
    fingerprint: alarmFingerprint(alarm.name),
    title: excerpt(`Alarm ${alarm.name} is in ALARM`, 200),
    detail: excerpt(
      [
        `CloudWatch alarm ${alarm.name} in ALARM since ${alarm.stateChangedAt}`,
        ...(alarm.metric ? [`metric: ${alarm.metric}`] : []),
        `reason: ${alarm.stateReason || 'not given'}`,
        ...(alarm.description ? [`description: ${alarm.description}`] : []),
      ].join('\n'),
      3000,
    ),
    severity: alarmSeverity(alarm),
    // The cause has to be found before it can be fixed.
    effort: 'medium',
    // The alarm is real; whether the code is at fault (rather than load or a dependency) is not certain.
    confidence: 0.8,
  };
}

export const alarmsDetector: Detector = {
  name: 'alarm',
  async detect(context) {
    const { alarmNames } = detectionSettingsOf(context.project);
    if (alarmNames.length === 0) return { findings: [], skipped: 'the project names no alarms (detection.alarmNames)' };
    let alarms: AlarmInAlarm[];
    try {
      alarms = await context.alarms.alarmsInAlarm(alarmNames);
    } catch (error) {
      if (error instanceof AlarmsUnavailableError) return { findings: [], skipped: error.message };
      // CloudWatch refused (no permission, a bad name): this run reports the detector failed.
      if (error instanceof PortError && error.permanent) throw new DetectorFailedError('alarm', error.message);
      throw error;
    }
    // Only the names the project asked for, whatever the reader returned.
    const wanted = new Set(alarmNames);
    return { findings: alarms.filter((alarm) => wanted.has(alarm.name)).map(findingOfAlarm) };
  },
};
