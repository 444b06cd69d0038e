// A finding: work a detector found in a repository (failing test, vulnerable dependency, TODO…),
// identified by a stable fingerprint so the same problem is never filed twice.
import * as z from 'zod';
import { IsoTimestampSchema, RepoRelativePathSchema, TitleSchema, VersionSchema } from './common';
import { GoalIdSchema, ProjectIdSchema } from './ids';
import { FindingStatusSchema } from './status';

export const KNOWN_DETECTORS = [
  'failing-tests',
  'type-errors',
  'lint',
  'vulnerable-dependency',
  'outdated-dependency',
  'todo',
  'issue',
  'alarm',
  'analyst',
] as const;
export type KnownDetector = (typeof KNOWN_DETECTORS)[number];

/** Detector names are open-ended (lib/detection may add more) but must be simple slugs. */
export const DetectorSchema = z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, { message: 'detector must be a lowercase slug' });

export const FingerprintSchema = z
  .string()
  .regex(/^[A-Za-z0-9:._/@+#-]{8,200}$/, { message: 'fingerprint must be 8-200 characters of letters, digits, : . _ / @ + # -' });

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const EFFORTS = ['trivial', 'small', 'medium', 'large'] as const;
export type Effort = (typeof EFFORTS)[number];

/**
 * What a finding is: a `problem` a detector saw (a failing test, a vulnerable package), or a
 * `proposal` the model-driven analyst made — an improvement with evidence, a person's call to act
 * on: detection never starts a goal from a proposal by itself.
 */
export const FINDING_KINDS = ['problem', 'proposal'] as const;
export const FindingKindSchema = z.enum(FINDING_KINDS);
export type FindingKind = z.infer<typeof FindingKindSchema>;

/** Impact of each severity. */
export const SEVERITY_WEIGHT = { low: 1, medium: 3, high: 6, critical: 10 } as const;
/** Relative cost of each effort class: each step roughly doubles the work. */
export const EFFORT_WEIGHT = { trivial: 1, small: 2, medium: 4, large: 8 } as const;

/**
 * The ranking of a finding: impact × confidence ÷ effort, scaled to 0–1000 and kept to three
 * decimals. Impact is the severity weight (1–10), confidence how sure the detector is that this
 * is a real problem worth a change (0–1; a failing test is certain, a TODO comment is a guess),
 * effort the weight of the effort class (1–8). A critical, certain, trivial fix scores 1000.
 */
export function scoreFinding(severity: Severity, effort: Effort, confidence = 1): number {
  const bounded = Math.min(1, Math.max(0, confidence));
  return Math.round((SEVERITY_WEIGHT[severity] * 100 * bounded * 1000) / EFFORT_WEIGHT[effort]) / 1000;
}

const FINDING_ID_PREFIX = 'fnd_';

/**
 * A finding's public id: its project and fingerprint, encoded (base64url) so `/findings/{id}`
 * finds the item by its key without an index, and the same problem always has the same id.
 */
export function findingId(projectId: string, fingerprint: string): string {
  return FINDING_ID_PREFIX + Buffer.from(`${projectId}/${fingerprint}`, 'utf8').toString('base64url');
}

export const FindingIdSchema = z
  .string()
  .max(400)
  .transform((id, ctx) => {
    const decoded = id.startsWith(FINDING_ID_PREFIX) ? Buffer.from(id.slice(FINDING_ID_PREFIX.length), 'base64url').toString('utf8') : '';
    const slash = decoded.indexOf('/');
    const projectId = ProjectIdSchema.safeParse(decoded.slice(0, slash));
    const fingerprint = FingerprintSchema.safeParse(decoded.slice(slash + 1));
    if (slash < 0 || !projectId.success || !fingerprint.success || findingId(projectId.data, fingerprint.data) !== id) {
      ctx.addIssue({ code: 'custom', message: 'must be a finding id (fnd_…) as the findings API returns it' });
      return z.NEVER;
    }
    return { projectId: projectId.data, fingerprint: fingerprint.data };
  });

export const FindingLocationSchema = z.object({
  file: RepoRelativePathSchema.optional(),
  line: z.number().int().min(1).optional(),
  endLine: z.number().int().min(1).optional(),
  url: z.url().max(2048).optional(),
});

export const FindingSchema = z.object({
  projectId: ProjectIdSchema,
  detector: DetectorSchema,
  fingerprint: FingerprintSchema,
  title: TitleSchema,
  /** Findings stored before kinds existed are problems. */
  kind: FindingKindSchema.default('problem'),
  /** The evidence: the command output, code line or issue text that shows the problem, redacted. */
  detail: z.string().max(4000).optional(),
  severity: z.enum(SEVERITIES),
  effort: z.enum(EFFORTS),
  /** Ranking, 0–1000 with at most three decimals; higher is more worth doing. */
  score: z.number().min(0).max(1000),
  location: FindingLocationSchema,
  status: FindingStatusSchema,
  goalId: GoalIdSchema.optional(),
  firstSeenAt: IsoTimestampSchema,
  lastSeenAt: IsoTimestampSchema,
  /** How many detection runs reported it. */
  seenCount: z.number().int().min(1),
  /** When detection last found it gone (status `resolved`). */
  resolvedAt: IsoTimestampSchema.optional(),
  version: VersionSchema,
});
export type Finding = z.infer<typeof FindingSchema>;

export const NewFindingSchema = FindingSchema.omit({
  status: true,
  goalId: true,
  firstSeenAt: true,
  lastSeenAt: true,
  seenCount: true,
  resolvedAt: true,
  version: true,
}).extend({ location: FindingLocationSchema.default({}) });
export type NewFinding = z.input<typeof NewFindingSchema>;
