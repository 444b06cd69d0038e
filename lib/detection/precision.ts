// Autonomy level 5 adapts: each detector's precision — how often what it found was worth doing —
// reweights its findings' scores. A finding counts for its detector when the goal made from it
// succeeded, and against it when a person dismissed it or its goal failed or was cancelled.
// Precision is smoothed ((good + 1) / (good + bad + 2)) so a detector with no history weighs 1.
import { KNOWN_DETECTORS, type KnownDetector } from '../domain/finding';
import type { Store } from '../store/index';
import { allFindings } from './findings';

export interface DetectorTrackRecord {
  good: number;
  bad: number;
}

/** The weight of a track record: 2 × smoothed precision, 0–2 (1 with no history). */
export function precisionWeight(record: DetectorTrackRecord): number {
  return (2 * (record.good + 1)) / (record.good + record.bad + 2);
}

export async function detectorTrackRecords(store: Store, projectId: string): Promise<Map<KnownDetector, DetectorTrackRecord>> {
  const records = new Map<KnownDetector, DetectorTrackRecord>(KNOWN_DETECTORS.map((d) => [d, { good: 0, bad: 0 }]));
  for (const finding of await allFindings(store, projectId)) {
    const record = records.get(finding.detector as KnownDetector);
    if (!record) continue;
    if (finding.status === 'dismissed') {
      record.bad++;
      continue;
    }
    if (!finding.goalId) continue;
    const goal = await store.goals.find(finding.goalId);
    if (goal?.status === 'SUCCEEDED') record.good++;
    else if (goal?.status === 'FAILED' || goal?.status === 'CANCELLED') record.bad++;
  }
  return records;
}

export async function detectorWeights(store: Store, projectId: string): Promise<Map<KnownDetector, number>> {
  const records = await detectorTrackRecords(store, projectId);
  return new Map([...records].map(([detector, record]) => [detector, precisionWeight(record)]));
}
