// The type-errors detector: reading tsc's plain output, and one real run of this repository's
// TypeScript (linked into the planted repository's node_modules/.bin) on a planted type error.
import { afterEach, describe, expect, it } from 'vitest';
import { parseTscOutput, typeErrorsDetector } from '../../lib/detection/detectors/type-errors';
import { createTempRepo, type TempRepo } from '../support/temp-repo';
import { commitChange, linkTypeScript } from './planted-repo';
import { detectorContextFor } from './detector-context';

const TSC_OUTPUT = [
  "src/cart.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
  "src/cart.ts(14,12): error TS2339: Property 'totl' does not exist on type 'Cart'.",
  "  Did you mean 'total'?",
  'src/util/format.ts(1,21): error TS2307: Cannot find module \'./missing\' or its corresponding type declarations.',
  '',
  'Found 3 errors in 2 files.',
].join('\n');

describe('tsc output parsing', () => {
  it('reads file(line,col): error TSxxxx: message, and nothing else', () => {
    expect(parseTscOutput(TSC_OUTPUT)).toEqual([
      { file: 'src/cart.ts', line: 3, column: 7, code: 'TS2322', message: "Type 'string' is not assignable to type 'number'." },
      { file: 'src/cart.ts', line: 14, column: 12, code: 'TS2339', message: "Property 'totl' does not exist on type 'Cart'." },
      { file: 'src/util/format.ts', line: 1, column: 21, code: 'TS2307', message: "Cannot find module './missing' or its corresponding type declarations." },
    ]);
    expect(parseTscOutput('')).toEqual([]);
  });
});

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

describe('type-errors on a planted repository', () => {
  it('runs tsc and files each error by file, code and message, the same when it moves down', async () => {
    repo = createTempRepo({
      'package.json': JSON.stringify({ name: 'planted', version: '1.0.0' }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: [] }, include: ['src'] }),
      'src/price.ts': 'export const price: number = "12";\n',
    });
    linkTypeScript(repo);
    const context = detectorContextFor(repo);
    const first = await typeErrorsDetector.detect(context);
    expect(first.findings.map((f) => [f.title, f.location])).toEqual([
      ["TS2322 in src/price.ts: Type 'string' is not assignable to type 'number'.", { file: 'src/price.ts', line: 1 }],
    ]);

    commitChange(repo, { 'src/price.ts': '// Prices.\n\nexport const price: number = "12";\n' }, 'Header');
    const moved = await typeErrorsDetector.detect(context);
    expect(moved.findings.map((f) => [f.fingerprint, f.location?.line])).toEqual([[first.findings[0]!.fingerprint, 3]]);

    commitChange(repo, { 'src/price.ts': 'export const price: number = 12;\n' }, 'Fix');
    expect(await typeErrorsDetector.detect(context)).toEqual({ findings: [] });
  });
});
