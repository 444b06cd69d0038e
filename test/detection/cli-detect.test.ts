// `cahoots detect` as a person runs it: a spawned process on a planted sample repository. With a
// data directory a second run shows the same fingerprints, and what was fixed as resolved.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DetectReport } from '../../lib/cli/detect';
import { runCli } from '../e2e/support';
import type { TempRepo } from '../support/temp-repo';
import { commitChange, createPlantedRepo, FAILING_TEST, PLANTED_FILES } from './planted-repo';

let repo: TempRepo | undefined;
let dataDir: string | undefined;

afterEach(() => {
  repo?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('cahoots detect', () => {
  it('prints the findings as JSON, exits 0, and remembers them with --data-dir', async () => {
    repo = createPlantedRepo();
    dataDir = mkdtempSync(join(tmpdir(), 'cahoots-detect-data-'));
    const first = await runCli(['detect', '--repo', repo.dir, '--json', '--data-dir', dataDir]);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as DetectReport;
    expect(report.resolved).toEqual([]);
    expect(report.findings.map((f) => f.detector)).toEqual(['failing-tests', 'todo', 'todo']);
    const failing = report.findings[0]!;
    expect(Object.keys(failing).sort()).toEqual(['detector', 'evidence', 'fingerprint', 'id', 'kind', 'score', 'severity', 'status', 'title']);
    expect(failing).toMatchObject({ kind: 'problem', severity: 'high', status: 'open', id: expect.stringMatching(/^fnd_/) });
    expect(failing.title).toContain(FAILING_TEST);
    expect(report.findings[1]!.evidence).toMatchObject({ file: 'src/math.js', line: expect.any(Number), detail: expect.stringContaining('src/math.js:') });

    commitChange(repo, { 'test/math.test.js': PLANTED_FILES['test/math.test.js']!.replace('divide(7, 2), 3', 'divide(7, 2), 3.5') }, 'Fix the test');
    const second = await runCli(['detect', '--repo', repo.dir, '--json', '--data-dir', dataDir]);
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(second.stdout) as DetectReport;
    expect(again.findings.map((f) => f.fingerprint)).toEqual(report.findings.slice(1).map((f) => f.fingerprint));
    expect(again.resolved).toEqual([expect.objectContaining({ fingerprint: failing.fingerprint, status: 'resolved' })]);
  });

  it('prints a readable list without --json, and refuses a directory that is not a repository', async () => {
    repo = createPlantedRepo();
    const text = await runCli(['detect', '--repo', repo.dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('3 finding(s), best first:');
    expect(text.stdout).toMatch(/high +\d+ +Failing test: rounds the quotient down/);

    const notARepo = mkdtempSync(join(tmpdir(), 'cahoots-not-a-repo-'));
    try {
      const refused = await runCli(['detect', '--repo', notARepo]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('is not a git repository');
    } finally {
      rmSync(notARepo, { recursive: true, force: true });
    }
  });
});
