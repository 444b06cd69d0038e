// Merges one detection run into the project's findings: each detected problem is filed once per
// fingerprint (a repeat refreshes it), scored, and its evidence redacted; a resolved finding found
// again reopens; an open or in-progress finding of a detector that ran and no longer reports it is
// resolved. Dismissed findings stay dismissed either way. Detectors that failed resolve nothing.
import * as z from 'zod';
import { redact } from '../agents/redaction';
import { FindingKindSchema, FindingLocationSchema, FingerprintSchema, EFFORTS, SEVERITIES, scoreFinding, type Finding, type KnownDetector } from '../domain/finding';
import type { Runtime } from '../runtime';
import type { Store } from '../store/index';
import { allFindings } from './findings';
import { recordProjectEvent } from './events';
import type { MergeFindingsInput, MergeSummary } from './inputs';
import { detectorWeights } from './precision';

/** What RunDetector stores for MergeFindings (artifact JSON). */
export const StoredDetectorFindingsSchema = z.object({
  detector: z.string(),
  findings: z.array(
    z.object({
      fingerprint: FingerprintSchema,
      title: z.string().min(1),
      kind: FindingKindSchema.optional(),
      detail: z.string().optional(),
      severity: z.enum(SEVERITIES),
      effort: z.enum(EFFORTS),
      confidence: z.number().min(0).max(1),
      location: FindingLocationSchema.optional(),
    }),
  ),
});
export type StoredDetectorFindings = z.infer<typeof StoredDetectorFindingsSchema>;

/** Where RunDetector leaves a detector's findings for MergeFindings. */
export function detectorResultKey(projectId: string, runId: string, detector: string): string {
  return `detections/${projectId}/${runId}/${detector}.json`;
}

/** Titles are capped by the domain (TitleSchema); detectors' titles are cut to fit. */
const MAX_TITLE = 200;
/** Per-finding events a run records at most; the run's summary event counts the rest. */
const MAX_FINDING_EVENTS = 50;

type StoredFinding = StoredDetectorFindings['findings'][number];

/**
 * Files what a detector found (a repeat refreshes the finding and leaves its status alone): the
 * title cut to fit, title and evidence redacted, the score weighted by the detector's precision.
 */
export function fileDetectedFinding(store: Store, projectId: string, detector: string, found: StoredFinding, weight = 1): Promise<{ finding: Finding; created: boolean }> {
  return store.findings.upsert({
    projectId,
    detector,
    fingerprint: found.fingerprint,
    title: redact(found.title).slice(0, MAX_TITLE),
    kind: found.kind ?? 'problem',
    ...(found.detail ? { detail: redact(found.detail).slice(0, 4000) } : {}),
    severity: found.severity,
    effort: found.effort,
    score: Math.min(1000, Math.round(scoreFinding(found.severity, found.effort, found.confidence) * weight * 1000) / 1000),
    location: found.location ?? {},
  });
}

export async function mergeFindings(runtime: Runtime, input: MergeFindingsInput): Promise<MergeSummary> {
  const { store } = runtime;
  const project = await store.projects.get(input.projectId);
  const weights = project.autonomyLevel >= 5 ? await detectorWeights(store, project.id) : undefined;
  const ranDetectors = new Set<string>();
  const failedDetectors: string[] = [];
  const detected = new Set<string>();
  const summary: MergeSummary = { detected: 0, created: [], resolved: [], reopened: [], failedDetectors };
  let events = 0;

  for (const result of input.results) {
    if (!result.ok) {
      failedDetectors.push(result.detector);
      continue;
    }
    ranDetectors.add(result.detector);
    const bytes = await runtime.ports.artifacts.get(result.resultKey);
    if (!bytes) throw new Error(`The findings of ${result.detector} are missing (${result.resultKey})`);
    const stored = StoredDetectorFindingsSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    const weight = weights?.get(result.detector as KnownDetector) ?? 1;
    for (const found of stored.findings) {
      if (detected.has(found.fingerprint)) continue;
      detected.add(found.fingerprint);
      const { finding, created } = await fileDetectedFinding(store, project.id, result.detector, found, weight);
      if (created) {
        summary.created.push(finding.fingerprint);
        if (events++ < MAX_FINDING_EVENTS) {
          await recordProjectEvent(runtime, {
            projectId: project.id,
            type: 'Finding.Detected',
            idempotencyKey: `detected:${finding.fingerprint}`,
            correlationId: input.runId,
            data: { runId: input.runId, fingerprint: finding.fingerprint, detector: finding.detector, kind: finding.kind, severity: finding.severity, score: finding.score, title: finding.title },
          });
        }
      } else if (finding.status === 'resolved') {
        await store.findings.setStatus(project.id, finding.fingerprint, 'open');
        summary.reopened.push(finding.fingerprint);
        if (events++ < MAX_FINDING_EVENTS) {
          await recordProjectEvent(runtime, {
            projectId: project.id,
            type: 'Finding.Reopened',
            idempotencyKey: `reopened:${input.runId}:${finding.fingerprint}`,
            correlationId: input.runId,
            data: { runId: input.runId, fingerprint: finding.fingerprint, detector: finding.detector, kind: finding.kind, severity: finding.severity, title: finding.title },
          });
        }
      }
    }
  }
  summary.detected = detected.size;

  for (const finding of await allFindings(store, project.id)) {
    if (!ranDetectors.has(finding.detector) || detected.has(finding.fingerprint)) continue;
    if (finding.status !== 'open' && finding.status !== 'in-progress') continue;
    await store.findings.setStatus(project.id, finding.fingerprint, 'resolved');
    summary.resolved.push(finding.fingerprint);
    if (events++ < MAX_FINDING_EVENTS) {
      await recordProjectEvent(runtime, {
        projectId: project.id,
        type: 'Finding.Resolved',
        idempotencyKey: `resolved:${input.runId}:${finding.fingerprint}`,
        correlationId: input.runId,
        ...(finding.goalId ? { goalId: finding.goalId } : {}),
        data: { runId: input.runId, fingerprint: finding.fingerprint, detector: finding.detector, title: finding.title, ...(finding.goalId ? { goalId: finding.goalId } : {}) },
      });
    }
  }
  return summary;
}
