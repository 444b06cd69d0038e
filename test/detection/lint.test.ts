// The lint detector: its readers of ESLint's stylish, one-line and JSON output, and a run on a
// planted repository whose `lint` script is a small node script printing stylish output (offline,
// no ESLint installed), through the local sandbox runner.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptsEslintFormat, lintDetector, parseEslintJson, parseLintText } from '../../lib/detection/detectors/lint';
import { createTempRepo, type TempRepo } from '../support/temp-repo';
import { commitChange } from './planted-repo';
import { detectorContextFor } from './detector-context';

const STYLISH = [
  '',
  '/work/space/acme/detection-01/src/cart.js',
  "   3:7   error    'total' is assigned a value but never used  no-unused-vars",
  "  12:7   error    'tax' is assigned a value but never used    no-unused-vars",
  '  20:3   warning  Unexpected console statement                no-console',
  '',
  '/work/space/acme/detection-01/src/util.js',
  '  1:1  error  Parsing error: Unexpected token }',
  '',
  '✖ 4 problems (3 errors, 1 warning)',
  '',
].join('\n');

describe('lint output readers', () => {
  it('reads stylish output, a file header followed by its problems', () => {
    expect(parseLintText(STYLISH)).toEqual([
      { file: '/work/space/acme/detection-01/src/cart.js', line: 3, column: 7, level: 'error', message: "'total' is assigned a value but never used", rule: 'no-unused-vars' },
      { file: '/work/space/acme/detection-01/src/cart.js', line: 12, column: 7, level: 'error', message: "'tax' is assigned a value but never used", rule: 'no-unused-vars' },
      { file: '/work/space/acme/detection-01/src/cart.js', line: 20, column: 3, level: 'warning', message: 'Unexpected console statement', rule: 'no-console' },
      { file: '/work/space/acme/detection-01/src/util.js', line: 1, column: 1, level: 'error', message: 'Parsing error: Unexpected token }', rule: '(no rule)' },
    ]);
  });

  it('reads the one-line form and ignores colour codes', () => {
    expect(parseLintText('\u001b[4msrc/a.ts\u001b[24m:4:10  \u001b[31merror\u001b[39m  Missing return type  @typescript-eslint/explicit-function-return-type\n')).toEqual([
      { file: 'src/a.ts', line: 4, column: 10, level: 'error', message: 'Missing return type', rule: '@typescript-eslint/explicit-function-return-type' },
    ]);
  });

  it('reads ESLint JSON, skipping files without problems and rule-less severities 0', () => {
    const json = JSON.stringify([
      { filePath: '/w/src/a.js', messages: [{ ruleId: 'eqeqeq', severity: 2, message: "Expected '===' and instead saw '=='.", line: 2, column: 9 }], errorCount: 1 },
      { filePath: '/w/src/b.js', messages: [], errorCount: 0 },
    ]);
    expect(parseEslintJson(json)).toEqual([{ file: '/w/src/a.js', line: 2, column: 9, level: 'error', message: "Expected '===' and instead saw '=='.", rule: 'eqeqeq' }]);
    expect(parseEslintJson('Oops! Something went wrong!')).toBeUndefined();
  });

  it('asks for JSON only from a script that is one plain eslint call', () => {
    expect(acceptsEslintFormat('eslint .')).toBe(true);
    expect(acceptsEslintFormat('eslint src --max-warnings 0')).toBe(true);
    expect(acceptsEslintFormat('eslint . && prettier --check .')).toBe(false);
    expect(acceptsEslintFormat('eslint . --format stylish')).toBe(false);
    expect(acceptsEslintFormat('node scripts/lint.js')).toBe(false);
  });
});

/** A lint script standing in for ESLint: prints stylish output for the files it is told about. */
const FAKE_LINTER = [
  "import { readFileSync } from 'node:fs';",
  "import { resolve } from 'node:path';",
  "const problems = JSON.parse(readFileSync('lint-problems.json', 'utf8'));",
  'let count = 0;',
  'for (const [file, rows] of Object.entries(problems)) {',
  "  console.log(''); console.log(resolve(file));",
  '  for (const [line, rule, message] of rows) { count++; console.log(`  ${line}:1  error  ${message}  ${rule}`); }',
  '}',
  "if (count) { console.log(''); console.log(`✖ ${count} problems`); process.exit(1); }",
].join('\n');

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

describe('lint on a planted repository', () => {
  it('runs the lint script and files one finding per rule per file, stable when lines move', async () => {
    repo = createTempRepo({
      'package.json': JSON.stringify({ name: 'planted', version: '1.0.0', type: 'module', scripts: { lint: 'node scripts/lint.js' } }),
      'scripts/lint.js': FAKE_LINTER,
      'lint-problems.json': JSON.stringify({
        'src/cart.js': [
          [3, 'no-unused-vars', "'total' is assigned a value but never used"],
          [12, 'no-unused-vars', "'tax' is assigned a value but never used"],
          [20, 'no-console', 'Unexpected console statement'],
        ],
      }),
    });
    const context = detectorContextFor(repo);
    const first = await lintDetector.detect(context);
    expect(first.findings.map((f) => [f.title, f.severity, f.location])).toEqual([
      ["no-unused-vars in src/cart.js: 'total' is assigned a value but never used (2 places)", 'medium', { file: 'src/cart.js', line: 3 }],
      ['no-console in src/cart.js: Unexpected console statement', 'medium', { file: 'src/cart.js', line: 20 }],
    ]);

    commitChange(repo, { 'lint-problems.json': JSON.stringify({ 'src/cart.js': [[5, 'no-unused-vars', "'tax' is assigned a value but never used"]] }) }, 'Lines move');
    const second = await lintDetector.detect(context);
    expect(second.findings.map((f) => f.fingerprint)).toEqual([first.findings[0]!.fingerprint]);

    commitChange(repo, { 'lint-problems.json': '{}' }, 'Clean');
    expect(await lintDetector.detect(context)).toEqual({ findings: [] });
  });

  it('asks a plain eslint script for JSON and reads it', async () => {
    // A stand-in eslint on the script's PATH (node_modules/.bin): JSON only when asked for it.
    const fakeEslint = [
      '#!/usr/bin/env node',
      "const args = process.argv.slice(2);",
      "const at = args.indexOf('--format');",
      "if (at < 0 || args[at + 1] !== 'json') { console.log('stylish output nobody should read'); process.exit(1); }",
      "console.log(JSON.stringify([{ filePath: process.cwd() + '/src/cart.js', messages: [{ ruleId: 'eqeqeq', severity: 2, message: 'Expected === and instead saw ==.', line: 4, column: 9 }] }]));",
      'process.exit(1);',
    ].join('\n');
    repo = createTempRepo({ 'package.json': JSON.stringify({ name: 'planted', version: '1.0.0', scripts: { lint: 'eslint src' } }) });
    commitChange(repo, { 'node_modules/.bin/eslint': fakeEslint }, 'Stand-in eslint');
    chmodSync(join(repo.dir, 'node_modules/.bin/eslint'), 0o755);
    const { findings } = await lintDetector.detect(detectorContextFor(repo));
    expect(findings.map((f) => [f.title, f.location])).toEqual([['eqeqeq in src/cart.js: Expected === and instead saw ==.', { file: 'src/cart.js', line: 4 }]]);
  });

  it('is skipped without a lint script and fails when the script fails without a readable report', async () => {
    repo = createTempRepo({ 'package.json': JSON.stringify({ name: 'planted', version: '1.0.0', scripts: { lint: 'node -e "process.exit(2)"' } }) });
    await expect(lintDetector.detect(detectorContextFor(repo))).rejects.toThrow(/lint: npm run lint exited with 2 without reporting problems/);
    commitChange(repo, { 'package.json': JSON.stringify({ name: 'planted', version: '1.0.0' }) }, 'No lint');
    expect(await lintDetector.detect(detectorContextFor(repo))).toEqual({ findings: [], skipped: 'no lint script in package.json' });
  });
});
