// The DetectWork state machine's wire shapes: the execution input and each step's input and
// output, parsed with zod on the way in so a bad state (or a hand-started execution) fails with a
// message naming the field.
import * as z from 'zod';
import { KNOWN_DETECTORS } from '../domain/finding';
import { ProjectIdSchema } from '../domain/ids';
import { CommitShaSchema } from '../domain/common';

export const DETECTION_TRIGGERS = ['schedule', 'manual'] as const;

/** What starts a DetectWork execution: the scheduler or `POST /projects/{id}/detections` / `cahoots detect`. */
export const DetectWorkInputSchema = z.object({
  projectId: ProjectIdSchema,
  trigger: z.enum(DETECTION_TRIGGERS),
});
export type DetectWorkInput = z.infer<typeof DetectWorkInputSchema>;

/** Run ids are ULIDs, minted by PrepareDetection from the execution id (the same on a retry). */
export const DetectionRunIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, { message: 'must be a detection run id (a ULID)' });

export const PrepareDetectionInputSchema = DetectWorkInputSchema.extend({ executionId: z.string().min(1).max(2048) });
export type PrepareDetectionInput = z.infer<typeof PrepareDetectionInputSchema>;

/** The snapshot of the default branch the detectors read, relative to the CommandRunner's workspace root. */
export const CheckoutRefSchema = z.object({
  workingCopy: z.string().min(1).max(1024),
  sha: CommitShaSchema,
  /**
   * Why the project's dependencies could not be installed in the snapshot (the project's `setup`).
   * Detectors that run the project's own tools report this instead of a missing program.
   */
  setupFailure: z.string().max(4000).optional(),
});
export type CheckoutRef = z.infer<typeof CheckoutRefSchema>;

export const PreparedRunSchema = z.object({
  runId: DetectionRunIdSchema,
  startedAt: z.iso.datetime(),
  checkout: CheckoutRefSchema,
  detectors: z.array(z.enum(KNOWN_DETECTORS)),
});
export type PreparedRun = z.infer<typeof PreparedRunSchema>;

export const RunDetectorInputSchema = z.object({
  projectId: ProjectIdSchema,
  runId: DetectionRunIdSchema,
  checkout: CheckoutRefSchema,
  detector: z.enum(KNOWN_DETECTORS),
});
export type RunDetectorInput = z.infer<typeof RunDetectorInputSchema>;

/**
 * One detector's result as the Map collects it. `ok: false` comes from the detector itself (it
 * could not run, e.g. the registry was unreachable) or from the state machine's Catch.
 */
export const DetectorResultSchema = z.discriminatedUnion('ok', [
  z.object({
    detector: z.enum(KNOWN_DETECTORS),
    ok: z.literal(true),
    /** Whether the detector applied to this repository at all (no tsconfig: type-errors is skipped). */
    skipped: z.string().max(500).optional(),
    count: z.number().int().min(0),
    /** Findings the detector dropped because their evidence did not hold (the analyst's proposals). */
    dropped: z.number().int().min(0).optional(),
    /** What the detector spent on models, USD (the analyst). */
    costUsd: z.number().min(0).optional(),
    /** Artifact key of the findings (too many for a state's 256 KB). */
    resultKey: z.string().min(1).max(1024),
  }),
  z.object({
    detector: z.enum(KNOWN_DETECTORS),
    ok: z.literal(false),
    error: z.string().max(256),
    cause: z.string().max(32_768).optional(),
  }),
]);
export type DetectorResult = z.infer<typeof DetectorResultSchema>;

export const MergeFindingsInputSchema = z.object({
  projectId: ProjectIdSchema,
  runId: DetectionRunIdSchema,
  results: z.array(DetectorResultSchema),
});
export type MergeFindingsInput = z.infer<typeof MergeFindingsInputSchema>;

export const MergeSummarySchema = z.object({
  detected: z.number().int().min(0),
  created: z.array(z.string()),
  resolved: z.array(z.string()),
  reopened: z.array(z.string()),
  failedDetectors: z.array(z.string()),
});
export type MergeSummary = z.infer<typeof MergeSummarySchema>;

export const DecideGoalsInputSchema = z.object({ projectId: ProjectIdSchema, runId: DetectionRunIdSchema });
export type DecideGoalsInput = z.infer<typeof DecideGoalsInputSchema>;

export const GoalDecisionSchema = z.object({
  autonomyLevel: z.number().int(),
  /** What the level does with findings: report them, propose goals that wait for approval, or start goals. */
  mode: z.enum(['report', 'propose', 'start']),
  goals: z.array(z.object({ goalId: z.string(), fingerprint: z.string(), score: z.number() })),
  /** Why no (more) goals were started, when that is the case. */
  limitedBy: z.enum(['daily-limit', 'budget']).optional(),
});
export type GoalDecision = z.infer<typeof GoalDecisionSchema>;

export const RecordDetectionInputSchema = z.object({
  projectId: ProjectIdSchema,
  trigger: z.enum(DETECTION_TRIGGERS),
  run: PreparedRunSchema.optional(),
  results: z.array(DetectorResultSchema).optional(),
  merged: MergeSummarySchema.optional(),
  goals: GoalDecisionSchema.optional(),
  /** The failure path passes the whole state, which may hold the run prepared before the error. */
  state: z.looseObject({ run: PreparedRunSchema.optional() }).optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type RecordDetectionInput = z.infer<typeof RecordDetectionInputSchema>;

export const DetectionSummarySchema = z.object({
  projectId: ProjectIdSchema,
  runId: DetectionRunIdSchema.optional(),
  trigger: z.enum(DETECTION_TRIGGERS),
  outcome: z.enum(['completed', 'failed']),
  merged: MergeSummarySchema.optional(),
  goals: GoalDecisionSchema.optional(),
  detectors: z.array(
    z.object({
      detector: z.string(),
      ok: z.boolean(),
      count: z.number().optional(),
      skipped: z.string().optional(),
      dropped: z.number().optional(),
      costUsd: z.number().optional(),
      error: z.string().optional(),
    }),
  ),
  error: z.string().optional(),
});
export type DetectionSummary = z.infer<typeof DetectionSummarySchema>;
