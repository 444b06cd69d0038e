// Sample repositories with planted problems for the detector and DetectWork tests: a failing
// node:test test, debt comments, and (on request) a type error with a TypeScript install linked in.
import { symlinkSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

export const PLANTED_FILES: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'planted', version: '1.0.0', type: 'module', scripts: { test: 'node --test' } }, null, 2),
  '.gitignore': 'dist/\n',
  'src/math.js': [
    'export function add(a, b) {',
    '  // TODO: support bigint operands',
    '  return a + b;',
    '}',
    '',
    'export function divide(a, b) {',
    '  // FIXME handle division by zero',
    '  return a / b;',
    '}',
    '',
  ].join('\n'),
  'test/math.test.js': [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import { add, divide } from '../src/math.js';",
    '',
    "test('adds two numbers', () => {",
    '  assert.equal(add(2, 3), 5);',
    '});',
    '',
    "test('divides two numbers', () => {",
    '  assert.equal(divide(6, 3), 2);',
    '});',
    '',
    "test('rounds the quotient down', () => {",
    '  assert.equal(divide(7, 2), 3);',
    '});',
    '',
  ].join('\n'),
};

export const FAILING_TEST = 'rounds the quotient down';

/**
 * The planted repository whose tests import a local `file:` dependency, with the lockfile `npm ci`
 * installs it from (offline: nothing comes from a registry). Without the install the test file
 * cannot even load.
 */
export const PLANTED_WITH_DEPENDENCY: Record<string, string> = {
  'package.json': JSON.stringify(
    { name: 'planted', version: '1.0.0', type: 'module', scripts: { test: 'node --test' }, dependencies: { 'planted-helper': 'file:vendor/planted-helper' } },
    null,
    2,
  ),
  '.gitignore': 'node_modules/\n',
  'package-lock.json': JSON.stringify(
    {
      name: 'planted',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'planted', version: '1.0.0', dependencies: { 'planted-helper': 'file:vendor/planted-helper' } },
        'node_modules/planted-helper': { resolved: 'vendor/planted-helper', link: true },
        'vendor/planted-helper': { version: '1.0.0' },
      },
    },
    null,
    2,
  ),
  'vendor/planted-helper/package.json': JSON.stringify({ name: 'planted-helper', version: '1.0.0', type: 'module', main: 'index.js' }),
  'vendor/planted-helper/index.js': 'export const half = (n) => n / 2;\n',
  'test/math.test.js': [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import { half } from 'planted-helper';",
    '',
    "test('halves an even number', () => {",
    '  assert.equal(half(6), 3);',
    '});',
    '',
    `test('${FAILING_TEST}', () => {`,
    '  assert.equal(half(7), 3);',
    '});',
    '',
  ].join('\n'),
};

/** The planted repository, committed on `main`. */
export function createPlantedRepo(extra: Record<string, string> = {}): TempRepo {
  return createTempRepo({ ...PLANTED_FILES, ...extra });
}

/** Commits `files` (null deletes) on main. */
export function commitChange(repo: TempRepo, files: Record<string, string | null>, message: string): void {
  for (const [path, content] of Object.entries(files)) {
    const file = join(repo.dir, path);
    if (content === null) rmSync(file);
    else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
  }
  repo.git('add', '--all');
  repo.git('commit', '--quiet', '-m', message);
}

/**
 * A committed `node_modules/.bin/tsc` linking to this repository's TypeScript, so the type-errors
 * detector can run `npx tsc` in the sample repository without an install (and offline).
 */
export function linkTypeScript(repo: TempRepo): void {
  const bin = join(repo.dir, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(resolve('node_modules/typescript/bin/tsc'), join(bin, 'tsc'));
  repo.git('add', '--force', 'node_modules/.bin/tsc');
  repo.git('commit', '--quiet', '-m', 'Link TypeScript');
}
