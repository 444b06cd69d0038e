// What a detector is: a small module that looks at a snapshot of the project's default branch
// (files, and commands run through the CommandRunner port) and reports problems as findings with
// a stable fingerprint. Scoring, merging and status belong to lib/detection/merge.ts, not to detectors.
import { createHash } from 'node:crypto';
import type { CommandRunner } from '../domain/commands';
import { CahootsError } from '../domain/errors';
import type { Effort, Finding, FindingKind, FindingLocationSchema, KnownDetector, Severity } from '../domain/finding';
import type { BudgetStanding } from '../domain/goal';
import type { Project } from '../domain/project';
import type { AgentRole } from '../domain/settings';
import type { ModelGateway } from '../models/index';
import type { AlarmReader, RepositoryHost } from '../ports/index';
import type { z } from 'zod';

/** Where the npm registry is, or why the dependency detectors cannot ask it (a cell without egress). */
export type NpmRegistryAccess = { url: string } | { unavailable: string };

export interface DetectorContext {
  project: Project;
  /** Runs the detectors' commands (the sandbox locally and in a cell). */
  commands: CommandRunner;
  /** The snapshot, relative to `commands.workspaceRoot` (what command requests name). */
  workingCopy: string;
  /** The same snapshot as this process sees it, for reading files. */
  dir: string;
  /** The project's repository host, for what lives beside the code (GitHub issues). */
  repositories: RepositoryHost;
  /** The customer's CloudWatch alarms (the alarm detector). */
  alarms: AlarmReader;
  /** The npm registry the dependency detectors ask from this process, or why they cannot. */
  registry: NpmRegistryAccess;
  /** Models for the model-driven analyst, paid from the project's budgets. */
  models: DetectorModels;
  /** This detector's findings on file that are not resolved (the analyst keeps its proposals' titles stable with them). */
  earlierFindings(): Promise<Finding[]>;
  now: Date;
}

/** What a model-driven detector (the analyst) gets: the project's models and its budget standings. */
export interface DetectorModels {
  /** The models of the project's policy for `role`, cheapest first, or the runtime's defaults; empty: none configured. */
  policyFor(role: AgentRole): readonly string[];
  /** A gateway over `policy` whose every call is added to the project's usage (its budgets and /costs see it). */
  gateway(policy: readonly string[]): ModelGateway;
  /** The project's daily and monthly budgets with what is spent against them now. */
  projectBudgets(): Promise<BudgetStanding[]>;
}

/** A problem as a detector reports it; the merge adds project, score, status and dates. */
export interface DetectedFinding {
  fingerprint: string;
  title: string;
  /** Absent: a problem. The analyst's findings are proposals. */
  kind?: FindingKind;
  /** The evidence: command output, the code line, the issue text. Redacted before it is stored. */
  detail?: string;
  severity: Severity;
  effort: Effort;
  /** How sure the detector is that this is a real problem worth a change, 0–1. */
  confidence: number;
  location?: z.input<typeof FindingLocationSchema>;
}

export interface DetectorOutcome {
  findings: DetectedFinding[];
  /** Set when the detector does not apply to this repository (no tsconfig, no lockfile …). */
  skipped?: string;
  /** Findings dropped because their evidence did not hold (the analyst). */
  dropped?: number;
  /** What the detector spent on models, USD (the analyst). */
  costUsd?: number;
}

export interface Detector {
  readonly name: KnownDetector;
  /**
   * Whether it runs the project's own tools (tests, compiler, linter), which need its dependencies
   * installed in the snapshot. Absent: it does not.
   */
  readonly needsDependencies?: boolean;
  detect(context: DetectorContext): Promise<DetectorOutcome>;
}

/**
 * A fingerprint from what identifies the problem, never from where it happens to sit: line numbers
 * shift when unrelated code moves, so they are not part of it. `todo:3f…` etc.
 */
export function fingerprintOf(detector: KnownDetector, ...identity: string[]): string {
  return `${detector}:${createHash('sha256').update(identity.join('\u0000')).digest('hex').slice(0, 32)}`;
}

/** A detector could not do its job (a command missing or failing in a way that says nothing about the code). */
export class DetectorFailedError extends CahootsError {
  readonly code = 'DetectorFailed';
  readonly stepFunctionsError = 'Detection.DetectorFailed';
  readonly permanent = true;
  constructor(
    readonly detector: string,
    message: string,
  ) {
    super(`${detector}: ${message}`);
  }
}

/** Keeps evidence short enough for a finding (its `detail` holds 4000 characters). */
export function excerpt(text: string, max = 1500): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}
