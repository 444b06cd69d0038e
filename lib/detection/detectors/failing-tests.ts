// Failing tests: runs the project's `npm test` and reads which tests failed from the common
// reporters' output (TAP and node:test's spec reporter, vitest, jest). One finding per failing
// test, fingerprinted by its name; a failing run whose failures cannot be named is one finding
// for the suite, with the output as evidence.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDetectorCommand } from '../command';
import { type Detector, type DetectedFinding, excerpt, fingerprintOf } from '../types';

const NPM_PLACEHOLDER_TEST = /no test specified/;
const MAX_FINDINGS = 50;

export interface TestReport {
  failed: string[];
  /** Counts the reporter printed, when it printed them. */
  failedCount?: number;
  passedCount?: number;
}

function strip(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

export function parseTestOutput(raw: string): TestReport {
  const output = strip(raw);
  const failed = new Set<string>();
  for (const line of output.split('\n')) {
    // TAP's `# SKIP` and `# TODO` directives mark a "not ok" that is not a failure.
    const tap = /#\s*(?:SKIP|TODO)\b/i.test(line) ? null : /^\s*not ok \d+ - (.+?)(?:\s+#.*)?$/.exec(line);
    const spec = /^\s*✖ (.+?)(?: \([\d.]+m?s\))?$/.exec(line);
    const vitest = /^\s*(?:FAIL|×)\s+(.+?)(?:\s+\d+m?s)?$/.exec(line);
    const jest = /^\s*● (.+ › .+)$/.exec(line);
    const name = (tap ?? spec ?? vitest ?? jest)?.[1]?.trim();
    if (name && !/^failing tests:?$/.test(name)) failed.add(name);
  }
  // vitest prints a failure twice (`× suite > test` and `FAIL  file > suite > test`), and vitest
  // and jest print `FAIL file` for the file: keep the fullest name of each failure, and a file
  // only when nothing in it could be named.
  const names = [...failed];
  const named = names.filter((name) => / > | › /.test(name));
  const kept = names.filter((name) => {
    if (names.some((other) => other !== name && other.endsWith(` > ${name}`))) return false;
    const isFile = !/ > | › /.test(name) && /\.[cm]?[jt]sx?$/.test(name);
    return !(isFile && named.length > 0);
  });
  const count = (pattern: RegExp) => {
    const match = pattern.exec(output);
    return match ? Number(match[1]) : undefined;
  };
  return {
    failed: kept,
    failedCount: count(/(?:^# fail|ℹ fail) (\d+)/m) ?? count(/Tests:?\s+(\d+) failed/),
    passedCount: count(/(?:^# pass|ℹ pass) (\d+)/m) ?? count(/(\d+) passed/),
  };
}

export function projectTestScript(dir: string): string | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  const script = (JSON.parse(readFileSync(file, 'utf8')) as { scripts?: Record<string, unknown> }).scripts?.test;
  return typeof script === 'string' && !NPM_PLACEHOLDER_TEST.test(script) ? script : undefined;
}

export const failingTestsDetector: Detector = {
  name: 'failing-tests',
  needsDependencies: true,
  async detect(context) {
    if (!projectTestScript(context.dir)) return { findings: [], skipped: 'no test script in package.json' };
    const outcome = await runDetectorCommand('failing-tests', context, ['npm', 'test']);
    if (outcome.exitCode === 0) return { findings: [] };
    const output = `${outcome.stdout}\n${outcome.stderr}`;
    const report = parseTestOutput(output);
    const counts = report.failedCount === undefined ? '' : ` (${report.failedCount} failed${report.passedCount === undefined ? '' : `, ${report.passedCount} passed`})`;
    if (report.failed.length === 0) {
      return {
        findings: [
          {
            fingerprint: fingerprintOf('failing-tests', 'suite'),
            title: `npm test fails${counts}`,
            detail: `npm test exited with ${outcome.exitCode ?? outcome.signal}:\n${excerpt(strip(output), 3000)}`,
            severity: 'high',
            effort: 'medium',
            confidence: 0.9,
          },
        ],
      };
    }
    const findings: DetectedFinding[] = report.failed.slice(0, MAX_FINDINGS).map((name) => ({
      fingerprint: fingerprintOf('failing-tests', name),
      title: `Failing test: ${excerpt(name, 150)}`,
      detail: `npm test${counts}: "${name}" fails.\n${excerpt(contextAround(strip(output), name), 2500)}`,
      severity: 'high',
      effort: 'small',
      confidence: 1,
    }));
    return { findings };
  },
};

/** The lines of output after the failing test's name: usually its assertion message. */
function contextAround(output: string, name: string): string {
  const lines = output.split('\n');
  const at = lines.findIndex((line) => line.includes(name));
  return at < 0 ? '' : lines.slice(at, at + 25).join('\n');
}
