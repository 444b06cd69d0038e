// Type errors from `npx tsc --noEmit` in repositories with a tsconfig.json (the sandbox's npx runs
// only a program installed in the working copy, never downloads one). The fingerprint is the
// file, the error code and the message (not the position), so an error moved by an edit above it
// is the same finding.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runDetectorCommand } from '../command';
import { type Detector, type DetectedFinding, DetectorFailedError, excerpt, fingerprintOf } from '../types';

export interface TypeError {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

const MAX_FINDINGS = 100;

/** Parses tsc's plain output: `src/a.ts(3,7): error TS2322: Type 'string' is not assignable …`. */
export function parseTscOutput(output: string): TypeError[] {
  const errors: TypeError[] = [];
  for (const row of output.split('\n')) {
    const match = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(row.trim());
    if (match) errors.push({ file: match[1]!, line: Number(match[2]), column: Number(match[3]), code: match[4]!, message: match[5]!.trim() });
  }
  return errors;
}

export const typeErrorsDetector: Detector = {
  name: 'type-errors',
  needsDependencies: true,
  async detect(context) {
    if (!existsSync(join(context.dir, 'tsconfig.json'))) return { findings: [], skipped: 'no tsconfig.json' };
    const outcome = await runDetectorCommand('type-errors', context, ['npx', 'tsc', '--noEmit', '--pretty', 'false']);
    const errors = parseTscOutput(outcome.stdout);
    if (outcome.exitCode !== 0 && errors.length === 0) {
      throw new DetectorFailedError('type-errors', `tsc exited with ${outcome.exitCode} without reporting errors: ${excerpt(outcome.stderr || outcome.stdout, 500)}`);
    }
    const findings: DetectedFinding[] = errors.slice(0, MAX_FINDINGS).map((error) => ({
      fingerprint: fingerprintOf('type-errors', error.file, error.code, error.message),
      title: `${error.code} in ${error.file}: ${excerpt(error.message, 140)}`,
      detail: `${error.file}(${error.line},${error.column}): error ${error.code}: ${excerpt(error.message, 1000)}`,
      severity: 'high',
      effort: 'small',
      confidence: 1,
      location: { file: error.file, line: error.line },
    }));
    return { findings };
  },
};
