// A throwaway real git repository for tests, made and inspected with the git binary so that
// assertions do not trust the code under test (isomorphic-git) to check its own work.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempRepo {
  /** Working tree of the repository (its `.git` is inside). */
  dir: string;
  /** Run the git binary in the repository and return trimmed stdout. */
  git: (...args: string[]) => string;
  /** A second temporary directory, e.g. a workspace root, removed by cleanup too. */
  scratch: string;
  cleanup: () => void;
}

export const DEFAULT_FILES: Record<string, string> = {
  'README.md': '# Demo\n\nA small project.\n',
  'src/math.ts': 'export function add(a: number, b: number): number {\n  return a + b;\n}\n',
  'src/greet.ts': 'export function greet(name: string): string {\n  return `hello ${name}`;\n}\n',
  'package.json': '{\n  "name": "demo",\n  "version": "1.0.0"\n}\n',
  '.gitignore': 'node_modules/\ndist/\n',
};

// Isolated from the machine's git config so that hooks, signing or templates cannot change results.
const gitEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test Person',
  GIT_AUTHOR_EMAIL: 'person@example.com',
  GIT_COMMITTER_NAME: 'Test Person',
  GIT_COMMITTER_EMAIL: 'person@example.com',
};

export function runGit(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A repository on branch `main` with `files` committed in one initial commit. */
export function createTempRepo(files: Record<string, string> = DEFAULT_FILES): TempRepo {
  const base = mkdtempSync(join(tmpdir(), 'cahoots-repo-'));
  const dir = join(base, 'project');
  const scratch = join(base, 'scratch');
  mkdirSync(dir, { recursive: true });
  mkdirSync(scratch, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  runGit(dir, ['init', '--quiet', '--initial-branch=main']);
  runGit(dir, ['add', '--all']);
  runGit(dir, ['commit', '--quiet', '-m', 'Initial commit']);
  return {
    dir,
    scratch,
    git: (...args: string[]) => runGit(dir, args),
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}
