// `cahoots detect`: one work-detection run now on a local git repository, with the local runtime
// (the real DetectWork state machine, detectors, store). Prints the findings — and, with
// --data-dir, what earlier runs found that is now gone. Findings are not an error: exit 0 when the
// run completed, 1 when it failed, 2 on bad input. The project is created at autonomy level 2 the
// first time, so detection from the command line reports and never starts goals.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { findingId, type Finding } from '../domain/finding';
import type { Project } from '../domain/project';
import type { DetectionSummary } from '../detection/inputs';
import type { LocalRuntime } from '../local/runtime';
import { lockDataDir, readDevServerInfo, resolveDataDir, type DataDirLock } from './data-dir';
import { CommandFailedError, EXIT, UsageError, type ExitCode } from './errors';
import { readRuntimeSettings } from './options';
import { Output } from './output';
import { checkRepository } from './preflight';

export interface DetectFlags {
  repo?: string;
  dataDir?: string;
  json?: boolean;
}

/** One finding as `cahoots detect --json` prints it (the shape issue readers and scripts rely on). */
export interface DetectedFindingView {
  id: string;
  detector: string;
  fingerprint: string;
  /** `problem`, or `proposal` for the analyst's suggestions (a person decides whether to act). */
  kind: Finding['kind'];
  severity: Finding['severity'];
  score: number;
  title: string;
  status: Finding['status'];
  evidence: { file?: string; line?: number; url?: string; detail?: string };
}

export interface DetectReport {
  findings: DetectedFindingView[];
  resolved: DetectedFindingView[];
}

function view(finding: Finding): DetectedFindingView {
  return {
    id: findingId(finding.projectId, finding.fingerprint),
    detector: finding.detector,
    fingerprint: finding.fingerprint,
    kind: finding.kind,
    severity: finding.severity,
    score: finding.score,
    title: finding.title,
    status: finding.status,
    evidence: { ...finding.location, ...(finding.detail ? { detail: finding.detail } : {}) },
  };
}

/** The report of a finished run: what is detected now (best first) and what this run resolved. */
export function detectReport(all: readonly Finding[], summary: DetectionSummary): DetectReport {
  const resolved = new Set(summary.merged?.resolved ?? []);
  return {
    findings: all.filter((f) => f.status !== 'resolved').sort((a, b) => b.score - a.score || a.fingerprint.localeCompare(b.fingerprint)).map(view),
    resolved: all.filter((f) => resolved.has(f.fingerprint)).map(view),
  };
}

async function findOrCreateProject(local: LocalRuntime, dir: string, branch: string): Promise<Project> {
  let cursor: string | undefined;
  do {
    const page = await local.store.projects.list({ limit: 100, ...(cursor ? { cursor } : {}) });
    const existing = page.items.find((project) => project.repo.path === dir);
    if (existing) {
      return existing.repo.defaultBranch === branch ? existing : local.store.projects.update(existing, { repo: { ...existing.repo, defaultBranch: branch } });
    }
    cursor = page.cursor;
  } while (cursor);
  return local.store.projects.create({ name: basename(dir).slice(0, 100) || 'project', repo: { path: dir, defaultBranch: branch }, autonomyLevel: 2 });
}

export async function detectCommand(flags: DetectFlags, io: { output?: Output } = {}): Promise<ExitCode> {
  const output = io.output ?? new Output({ json: flags.json ?? false });
  const repo = await checkRepository(flags.repo);
  const dataDir = flags.dataDir === undefined ? undefined : resolveDataDir(flags.dataDir);
  let lock: DataDirLock | undefined;
  if (dataDir) {
    const dev = readDevServerInfo(dataDir);
    if (dev) throw new UsageError(`--data-dir: a cahoots dev server (${dev.url}, pid ${dev.pid}) holds ${dataDir}; ask it with POST /projects/{id}/detections, stop it, or pass another --data-dir`, '--data-dir');
    lock = lockDataDir(dataDir, 'cahoots detect');
  }
  // Without a data directory nothing is kept, the snapshot's workspace included.
  const ownWorkspace = dataDir ? undefined : mkdtempSync(`${tmpdir()}/cahoots-detect-`);
  let local: LocalRuntime | undefined;
  try {
    const { startLocalRuntime } = await import('../local/runtime');
    // The registry the dependency detectors ask comes from the environment, as for `cahoots dev`.
    const { npmRegistry } = await readRuntimeSettings();
    local = await startLocalRuntime({ ...(dataDir ? { dataDir } : {}), config: { npmRegistry, ...(ownWorkspace ? { workspaceRoot: ownWorkspace } : {}) } });
    const project = await findOrCreateProject(local, repo.dir, repo.branch);
    if (repo.uncommitted.length > 0) output.info(`Note: ${repo.uncommitted.length} uncommitted change(s) are not looked at; detection reads ${repo.branch} as committed.`);
    output.info(`Detecting work in ${repo.dir} (${repo.branch}) …`);
    const { executionId } = await local.runtime.ports.detection.startDetection({ projectId: project.id, trigger: 'manual' });
    const outcome = await local.detectionRunner.waitForExecution(executionId);
    if (outcome.status !== 'SUCCEEDED') {
      throw new CommandFailedError(`detection ${outcome.status.toLowerCase()}: ${'cause' in outcome ? outcome.cause : ''}`.trim());
    }
    const summary = outcome.output as DetectionSummary;
    const { allFindings } = await import('../detection/findings');
    const report = detectReport(await allFindings(local.store, project.id), summary);
    for (const detector of summary.detectors) {
      if (!detector.ok) output.error(`warning: the ${detector.detector} detector could not run: ${detector.error ?? 'unknown error'}`);
    }
    if (output.jsonMode) output.json(report);
    else printReport(output, report, summary);
    return EXIT.ok;
  } finally {
    await local?.stop();
    lock?.release();
    if (ownWorkspace) rmSync(ownWorkspace, { recursive: true, force: true });
  }
}

function printReport(output: Output, report: DetectReport, summary: DetectionSummary): void {
  const ran = summary.detectors.filter((d) => d.ok && !d.skipped).map((d) => d.detector);
  const skipped = summary.detectors.filter((d) => d.skipped).map((d) => `${d.detector} (${d.skipped})`);
  output.info(`Ran ${ran.join(', ') || 'no detector'}${skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : ''}.`);
  for (const detector of summary.detectors) {
    if (detector.dropped) output.info(`${detector.detector}: ${detector.dropped} proposal(s) dropped, their quoted evidence is not in the code.`);
  }
  if (report.findings.length === 0) output.info('No findings.');
  else output.info(`${report.findings.length} finding(s), best first:`);
  for (const finding of report.findings) {
    const where = finding.evidence.file ? ` (${finding.evidence.file}${finding.evidence.line ? `:${finding.evidence.line}` : ''})` : '';
    const status = finding.status === 'open' ? '' : ` [${finding.status}]`;
    const proposal = finding.kind === 'proposal' ? 'proposal: ' : '';
    output.info(`  ${finding.severity.padEnd(8)} ${String(finding.score).padStart(7)}  ${proposal}${finding.title}${where}${status}`);
    output.info(`           ${finding.fingerprint}`);
  }
  if (report.resolved.length > 0) {
    output.info(`Resolved since the last run: ${report.resolved.length}`);
    for (const finding of report.resolved) output.info(`  ${finding.title} (${finding.fingerprint})`);
  }
}
