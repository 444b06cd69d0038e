import { symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildContextPrefix, cutToTokens, pathsMentioned } from '../../lib/agents/index';
import { estimateTokens } from '../../lib/models/index';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

const repos: TempRepo[] = [];
afterEach(() => {
  for (const repo of repos.splice(0)) repo.cleanup();
});

const bigFile = (label: string, lines: number) => Array.from({ length: lines }, (_, i) => `// ${label} line ${i} ${'x'.repeat(60)}`).join('\n');

function repoWith(files: Record<string, string>): TempRepo {
  const repo = createTempRepo({ 'package.json': '{"name":"demo"}\n', ...files });
  repos.push(repo);
  return repo;
}

const lessons = [
  { text: 'Run the migrations test after touching the schema.', role: 'developer' as const },
  { text: 'The login handler needs the rate limiter registered first.' },
];
const deps = [{ taskId: 't1', title: 'Add limiter', role: 'developer' as const, outputs: { summary: 'Added src/limiter.ts', filesChanged: ['src/limiter.ts'] } }];

describe('buildContextPrefix', () => {
  it('orders project context, named files, dependency outputs, lessons and the repo map, each as untrusted data', async () => {
    const repo = repoWith({ 'AGENTS.md': '# Conventions\nUse tabs.\n', 'src/login.ts': 'export const login = 1;\n', 'src/other.ts': 'x\n' });
    const prefix = await buildContextPrefix({
      workingDir: repo.dir,
      budgetTokens: 10_000,
      taskText: 'Change src/login.ts and create src/new-file.ts (see https://example.com/docs.html, version 1.2.3).',
      dependencyOutputs: deps,
      lessons,
    });
    expect(prefix.sections.map((s) => [s.kind, s.label])).toEqual([
      ['project-context', 'AGENTS.md'],
      ['named-file', 'src/login.ts'],
      ['dependency-output', 't1 (developer) Add limiter'],
      ['lesson', 'developer'],
      ['lesson', 'general'],
      ['repo-map', 'working copy'],
    ]);
    expect(prefix.trimmed).toEqual([]);
    expect(prefix.text).toContain('<untrusted source="file:AGENTS.md">\n# Conventions');
    expect(prefix.text).toContain('<untrusted source="repo-map">');
    expect(prefix.text.indexOf('AGENTS.md')).toBeLessThan(prefix.text.indexOf('src/login.ts'));
    expect(prefix.tokens).toBe(estimateTokens(prefix.text));
  });

  it('includes each project context file once even when CLAUDE.md links to AGENTS.md', async () => {
    const repo = repoWith({ 'AGENTS.md': '# Shared rules\n' });
    symlinkSync('AGENTS.md', join(repo.dir, 'CLAUDE.md'));
    writeFileSync(join(repo.dir, 'CAHOOTS.md'), '# Cahoots specifics\n');
    const prefix = await buildContextPrefix({ workingDir: repo.dir, budgetTokens: 10_000 });
    expect(prefix.sections.filter((s) => s.kind === 'project-context').map((s) => s.label)).toEqual(['AGENTS.md', 'CAHOOTS.md']);
  });

  it('never reads a named file outside the working copy', async () => {
    const repo = repoWith({});
    writeFileSync(join(dirname(repo.dir), 'secret.txt'), 'OUTSIDE');
    const prefix = await buildContextPrefix({ workingDir: repo.dir, budgetTokens: 10_000, namedFiles: ['../secret.txt', '/etc/hostname'] });
    expect(prefix.text).not.toContain('OUTSIDE');
    expect(prefix.sections.some((s) => s.kind === 'named-file')).toBe(false);
  });

  it('trims the lowest-priority parts first and says what it trimmed', async () => {
    const many: Record<string, string> = { 'AGENTS.md': bigFile('agents', 40), 'src/big.ts': bigFile('big', 400) };
    for (let i = 0; i < 200; i++) many[`src/module-${i}/index.ts`] = 'export {};\n';
    const repo = repoWith(many);
    const full = await buildContextPrefix({ workingDir: repo.dir, budgetTokens: 100_000, namedFiles: ['src/big.ts'], dependencyOutputs: deps, lessons });
    const budget = 4_000;
    const prefix = await buildContextPrefix({ workingDir: repo.dir, budgetTokens: budget, namedFiles: ['src/big.ts'], dependencyOutputs: deps, lessons });

    expect(full.tokens).toBeGreaterThan(budget);
    expect(prefix.tokens).toBeLessThanOrEqual(budget);
    const kinds = prefix.sections.map((s) => s.kind);
    // The repo map and the lessons go before the named file is shortened; project context stays whole.
    expect(kinds).not.toContain('repo-map');
    expect(kinds).not.toContain('lesson');
    expect(prefix.sections.find((s) => s.kind === 'project-context')?.trimmed).toBeUndefined();
    expect(prefix.sections.find((s) => s.kind === 'named-file')?.trimmed).toMatch(/src\/big\.ts shortened/);
    expect(prefix.text).toContain('## Context notes\nTo fit the context budget:');
    expect(prefix.trimmed.join('\n')).toMatch(/repository map .* left out/);
    expect(prefix.text).toContain('more characters; read the rest with read_file');
  });

  it('shortens the repository map before dropping it', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 300; i++) many[`pkg-${i % 10}/src/file-${i}.ts`] = 'export {};\n';
    const repo = repoWith(many);
    const prefix = await buildContextPrefix({ workingDir: repo.dir, budgetTokens: 1_200 });
    expect(prefix.tokens).toBeLessThanOrEqual(1_200);
    expect(prefix.sections.find((s) => s.kind === 'repo-map')?.trimmed).toBe('repository map shortened');
  });

  it('redacts secrets in every section', async () => {
    const repo = repoWith({ 'AGENTS.md': 'token ghp_Z8yXw7VuT6sR5qP4oN3mL2kJ1iH0gF9eD8cB\n' });
    const prefix = await buildContextPrefix({ workingDir: repo.dir, budgetTokens: 5_000, lessons: [{ text: 'DB_PASSWORD=hunter2hunter2 broke prod' }] });
    expect(prefix.text).not.toMatch(/ghp_|hunter2/);
    expect(prefix.text).toContain('[REDACTED:github-token]');
  });
});

describe('context helpers', () => {
  it('finds file paths in task text, not URLs or versions', () => {
    expect(pathsMentioned('Edit src/a.ts and README.md, not https://x.io/b.html or v1.2.3; also `lib/c.test.ts`.')).toEqual([
      'src/a.ts',
      'README.md',
      'lib/c.test.ts',
    ]);
  });

  it('cuts text to a token budget and says how much was cut', () => {
    const cut = cutToTokens('y'.repeat(30_000), 1_000);
    expect(estimateTokens(cut)).toBeLessThanOrEqual(1_000);
    expect(cut).toMatch(/\d+ more characters/);
    expect(cutToTokens('short', 100)).toBe('short');
  });
});
