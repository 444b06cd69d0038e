// Vulnerable dependencies: `npm audit --json --package-lock-only` reads the lockfile (nothing is
// installed) and asks the registry the project configures (.npmrc) for advisories. One finding per
// vulnerable package, fingerprinted by the package and its advisories, so a new advisory for the
// same package is a new finding and a re-run with the same ones is the same finding.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { Severity } from '../../domain/finding';
import { runDetectorCommand } from '../command';
import { type Detector, type DetectedFinding, DetectorFailedError, excerpt, fingerprintOf } from '../types';

const AdvisorySchema = z.looseObject({ source: z.union([z.number(), z.string()]), title: z.string().optional(), url: z.string().optional(), severity: z.string().optional() });
const VulnerabilitySchema = z.looseObject({
  name: z.string(),
  severity: z.enum(['info', 'low', 'moderate', 'high', 'critical']),
  isDirect: z.boolean().optional(),
  range: z.string().optional(),
  via: z.array(z.union([z.string(), AdvisorySchema])),
  fixAvailable: z.union([z.boolean(), z.looseObject({ name: z.string(), version: z.string(), isSemVerMajor: z.boolean().optional() })]).optional(),
});
/** npm audit's JSON report (auditReportVersion 2, npm 7 and later). */
export const AuditReportSchema = z.looseObject({
  auditReportVersion: z.literal(2),
  vulnerabilities: z.record(z.string(), VulnerabilitySchema),
});

const SEVERITY: Record<z.infer<typeof VulnerabilitySchema>['severity'], Severity> = {
  info: 'low',
  low: 'low',
  moderate: 'medium',
  high: 'high',
  critical: 'critical',
};

export function findingsFromAudit(report: z.infer<typeof AuditReportSchema>): DetectedFinding[] {
  const findings: DetectedFinding[] = [];
  for (const vulnerability of Object.values(report.vulnerabilities)) {
    const advisories = vulnerability.via.filter((via): via is z.infer<typeof AdvisorySchema> => typeof via !== 'string');
    // Packages vulnerable only through another package are that package's finding.
    if (advisories.length === 0) continue;
    const ids = advisories.map((advisory) => String(advisory.source)).sort();
    const fix = vulnerability.fixAvailable;
    const fixText = fix === true ? 'npm audit fix resolves it' : fix && typeof fix === 'object' ? `fixed by ${fix.name}@${fix.version}${fix.isSemVerMajor ? ' (a major upgrade)' : ''}` : 'no fix available yet';
    findings.push({
      fingerprint: fingerprintOf('vulnerable-dependency', vulnerability.name, ...ids),
      title: `Vulnerable dependency ${vulnerability.name} (${vulnerability.severity}): ${excerpt(advisories[0]?.title ?? 'see advisory', 120)}`,
      detail: excerpt(
        [
          `${vulnerability.name} ${vulnerability.range ?? ''}`.trim(),
          ...advisories.map((advisory) => `- ${advisory.title ?? advisory.source} ${advisory.url ?? ''}`.trim()),
          fixText,
        ].join('\n'),
        3000,
      ),
      severity: SEVERITY[vulnerability.severity],
      effort: fix && typeof fix === 'object' && fix.isSemVerMajor ? 'medium' : 'trivial',
      confidence: vulnerability.isDirect === false ? 0.8 : 1,
      location: { file: 'package-lock.json' },
    });
  }
  return findings;
}

export const vulnerableDependenciesDetector: Detector = {
  name: 'vulnerable-dependency',
  async detect(context) {
    if (!existsSync(join(context.dir, 'package-lock.json'))) return { findings: [], skipped: 'no package-lock.json' };
    const outcome = await runDetectorCommand('vulnerable-dependency', context, ['npm', 'audit', '--json', '--package-lock-only']);
    let parsed: unknown;
    try {
      parsed = JSON.parse(outcome.stdout);
    } catch {
      throw new DetectorFailedError('vulnerable-dependency', `npm audit printed no JSON (exit ${outcome.exitCode}): ${excerpt(outcome.stderr || outcome.stdout, 500)}`);
    }
    const report = AuditReportSchema.safeParse(parsed);
    if (!report.success) {
      // npm reports a registry it could not reach as {"error": {...}} with a non-zero exit.
      const message = (parsed as { error?: { summary?: string } }).error?.summary ?? report.error.issues[0]?.message ?? 'unexpected report';
      throw new DetectorFailedError('vulnerable-dependency', `npm audit failed: ${excerpt(message, 500)}`);
    }
    return { findings: findingsFromAudit(report.data) };
  },
};
