// docs/api.md lists every route and every error code; this keeps the page and the code in step.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { API_ROUTES } from '../../lib/api/routes';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'api.md'), 'utf8');

it('docs/api.md has a row and a section for every route', () => {
  for (const route of API_ROUTES) {
    const row = doc.split('\n').find((line) => line.startsWith(`| ${route.method} | \`${route.path}`));
    expect(row, `${route.method} ${route.path} in the route table`).toBeDefined();
    expect(row).toContain(String(route.response.status));
    expect(doc, `a section for ${route.method} ${route.path}`).toContain(`### ${route.method} ${route.path}\n`);
  }
});

it('docs/api.md explains every error code the API can answer with', () => {
  const source = fs.readFileSync(path.join(REPO_ROOT, 'lib', 'api', 'errors.ts'), 'utf8');
  const codes = new Set([...source.matchAll(/super\(\s*\d{3},\s*'([A-Za-z.]+)'/g), ...source.matchAll(/code: '([A-Za-z.]+)'/g)].map((m) => m[1] as string));
  expect(codes.size).toBeGreaterThan(15);
  for (const code of codes) expect(doc, code).toContain(`\`${code}\``);
});
