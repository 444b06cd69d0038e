// Writes the API's OpenAPI document to docs/openapi.json (`npm run openapi`); with `--check` it
// only compares, exiting 1 when the committed file differs from what the code generates.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../lib/api/openapi';

export const OPENAPI_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'openapi.json');

/** The file's exact text: two-space JSON with a final newline, so diffs stay readable. */
export function openApiFileText(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const text = openApiFileText();
  if (argv.includes('--check')) {
    const current = await readFile(OPENAPI_FILE, 'utf8').catch(() => '');
    if (current === text) return 0;
    process.stderr.write(`${path.relative(process.cwd(), OPENAPI_FILE)} is out of date; run npm run openapi\n`);
    return 1;
  }
  await writeFile(OPENAPI_FILE, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
