// The todo detector on a planted repository: each debt comment's age comes from git blame (the
// line's author time), so old debt is more confident than fresh, and the grep and blame readers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBlameTimes, parseGrep, todoDetector } from '../../lib/detection/detectors/todo';
import { createTempRepo, type TempRepo } from '../support/temp-repo';
import { detectorContextFor } from './detector-context';

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

const DAY_MS = 86_400_000;

describe('todo', () => {
  it('ages each comment by the commit that wrote its line', async () => {
    repo = createTempRepo({ 'src/a.js': 'export const a = 1;\n// TODO: cache the lookup\n' });
    // Backdate the first commit's lines by rewriting it with an author date 200 days before "now".
    const now = new Date('2026-06-01T00:00:00Z');
    const old = new Date(now.getTime() - 200 * DAY_MS).toISOString();
    repo.git('commit', '--quiet', '--amend', '--no-edit', `--date=${old}`);
    // A fresh FIXME, written 3 days before "now".
    const fresh = new Date(now.getTime() - 3 * DAY_MS).toISOString();
    writeFileSync(join(repo.dir, 'src/b.js'), 'export const b = 2; // FIXME rounding is off\n');
    repo.git('add', '--all');
    repo.git('commit', '--quiet', '-m', 'b', `--date=${fresh}`);

    const { findings } = await todoDetector.detect(detectorContextFor(repo, { now }));
    const byFile = Object.fromEntries(findings.map((f) => [f.location?.file, f]));
    expect(byFile['src/a.js']).toMatchObject({ title: 'TODO in src/a.js: cache the lookup', severity: 'low', confidence: 0.5, location: { file: 'src/a.js', line: 2 } });
    expect(byFile['src/a.js']!.detail).toContain('written 200 day(s) ago (git blame)');
    expect(byFile['src/b.js']).toMatchObject({ title: 'FIXME in src/b.js: rounding is off', severity: 'medium', confidence: 0.5 });
    expect(byFile['src/b.js']!.detail).toContain('written 3 day(s) ago (git blame)');
  });

  it('reads git grep -n and git blame --line-porcelain output', () => {
    expect(parseGrep('src/a.js:2:// TODO: cache the lookup\nsrc/x.js:4:const todo = 1;\nnot a grep line\n')).toEqual([
      { file: 'src/a.js', line: 2, marker: 'TODO', text: 'TODO: cache the lookup' },
    ]);
    const porcelain = [
      `${'a'.repeat(40)} 1 1 1`,
      'author Test Person',
      'author-time 1700000000',
      '\texport const a = 1;',
      `${'b'.repeat(40)} 2 2 1`,
      'author-time 1710000000',
      '\t// TODO',
    ].join('\n');
    expect(parseBlameTimes(porcelain)).toEqual(new Map([[1, 1_700_000_000_000], [2, 1_710_000_000_000]]));
  });
});
