import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { renderRepoMap, repoMap } from '../../lib/workspace';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

describe('repoMap on a repository', () => {
  it('maps tracked text files with sizes, leaving out binary, untracked and ignored files', async () => {
    repo = createTempRepo();
    writeFileSync(join(repo.dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]));
    writeFileSync(join(repo.dir, 'blob.dat2'), Buffer.from([1, 0, 2]));
    repo.git('add', 'logo.png', 'blob.dat2');
    repo.git('commit', '--quiet', '-m', 'binaries');
    writeFileSync(join(repo.dir, 'untracked.ts'), 'x');
    mkdirSync(join(repo.dir, 'node_modules/dep'), { recursive: true });
    writeFileSync(join(repo.dir, 'node_modules/dep/index.js'), 'x');

    const map = await repoMap(repo.dir, 10_000);
    expect(map).toBe(
      [
        '5 files, 232B (2 binary left out)',
        'src/',
        '  greet.ts 74B',
        '  math.ts 70B',
        '.gitignore 20B',
        'README.md 25B',
        'package.json 43B',
        '',
      ].join('\n'),
    );
  });

  it('collapses directories that do not fit the budget', async () => {
    repo = createTempRepo();
    const map = await repoMap(repo.dir, 90);
    expect(map.length).toBeLessThanOrEqual(90);
    expect(map).toContain('src/ (2 files, 144B)');
  });

  it('walks a plain directory when there is no repository', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cahoots-map-'));
    try {
      mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
      writeFileSync(join(dir, 'node_modules/x/y.js'), 'y');
      writeFileSync(join(dir, 'a.txt'), 'abc');
      expect(await repoMap(dir, 1000)).toBe('1 file, 3B\na.txt 3B\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('renderRepoMap budget', () => {
  const files = [
    { path: 'a/b/c/deep.ts', size: 10 },
    { path: 'a/top.ts', size: 20 },
    { path: 'z.ts', size: 5 },
  ];

  it('expands shallow directories first', () => {
    expect(renderRepoMap(files, 1000)).toBe('3 files, 35B\na/\n  b/\n    c/\n      deep.ts 10B\n  top.ts 20B\nz.ts 5B\n');
    expect(renderRepoMap(files, 60)).toBe('3 files, 35B\na/\n  b/ (1 file, 10B)\n  top.ts 20B\nz.ts 5B\n');
    expect(renderRepoMap(files, 40)).toBe('3 files, 35B\na/ (2 files, 30B)\nz.ts 5B\n');
  });

  it('lists what fits of a top level that is too long, and counts the rest', () => {
    const flat = Array.from({ length: 50 }, (_, i) => ({ path: `file-${String(i).padStart(2, '0')}.ts`, size: i }));
    const map = renderRepoMap(flat, 100);
    expect(map.length).toBeLessThanOrEqual(100);
    expect(map).toMatch(/^50 files, 1\.2K\nfile-00\.ts 0B\n/);
    expect(map).toMatch(/\.\.\. \d+ more\n$/);
  });

  it('never exceeds the budget and never loses a file without counting it', () => {
    const segment = fc.stringMatching(/^[a-z]{1,6}$/);
    const filesArb = fc.uniqueArray(
      fc.record({ path: fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')), size: fc.nat(5_000_000) }),
      { selector: (f) => f.path, maxLength: 60 },
    );
    fc.assert(
      fc.property(filesArb, fc.integer({ min: 0, max: 3000 }), (raw, budget) => {
        // A path cannot be both a file and a directory in a real tree.
        const list = raw.filter((f) => !raw.some((g) => g.path.startsWith(`${f.path}/`)));
        const map = renderRepoMap(list, budget);
        expect(map.length).toBeLessThanOrEqual(budget);
        const header = `${list.length} file`;
        if (map.length < header.length || !map.includes('\n')) return; // a budget below the header line
        expect(map.startsWith(header)).toBe(true);
        if (map.includes('... ')) return; // top level cut short: the note counts entries, not files
        if (list.length > 0 && map.split('\n').filter(Boolean).length === 1) return; // only the header fits
        // Every file is either its own line or counted in a collapsed directory's line.
        let counted = 0;
        for (const line of map.split('\n').slice(1).filter(Boolean)) {
          const collapsed = line.match(/\/ \((\d+) files?, /);
          if (collapsed) counted += Number(collapsed[1]);
          else if (!line.endsWith('/')) counted += 1;
        }
        expect(counted).toBe(list.length);
      }),
      { numRuns: 300 },
    );
  });
});
