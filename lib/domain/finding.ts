// A finding: work a detector found in a repository (failing test, vulnerable dependency, TODO…),
// identified by a stable fingerprint so the same problem is never filed twice.
import * as z from 'zod';
import { IsoTimestampSchema, RepoRelativePathSchema, TitleSchema, VersionSchema } from './common';
import { GoalIdSchema, ProjectIdSchema } from './ids';
import { FindingStatusSchema } from './status';

export const KNOWN_DETECTORS = ['failing-tests', 'type-errors', 'lint', 'vulnerable-dependency', 'outdated-dependency', 'todo', 'issue'] as const;

/** Detector names are open-ended (lib/detection may add more) but must be simple slugs. */
export const DetectorSchema = z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, { message: 'detector must be a lowercase slug' });

export const FingerprintSchema = z
  .string()
  .regex(/^[A-Za-z0-9:._/@+-]{8,200}$/, { message: 'fingerprint must be 8-200 characters of letters, digits, : . _ / @ + -' });

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const EFFORTS = ['trivial', 'small', 'medium', 'large'] as const;

const SEVERITY_WEIGHT = { low: 1, medium: 3, high: 6, critical: 10 } as const;
const EFFORT_WEIGHT = { trivial: 1, small: 2, medium: 4, large: 8 } as const;

/** Highest for severe problems that are cheap to fix: severity weight × inverse effort, 0–1000. */
export function scoreFinding(severity: (typeof SEVERITIES)[number], effort: (typeof EFFORTS)[number]): number {
  return Math.round((SEVERITY_WEIGHT[severity] * 100) / EFFORT_WEIGHT[effort]);
}

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
  version: VersionSchema,
});
export type Finding = z.infer<typeof FindingSchema>;

export const NewFindingSchema = FindingSchema.omit({
  status: true,
  goalId: true,
  firstSeenAt: true,
  lastSeenAt: true,
  seenCount: true,
  version: true,
}).extend({ location: FindingLocationSchema.default({}) });
export type NewFinding = z.input<typeof NewFindingSchema>;
