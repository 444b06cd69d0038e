// The failing-tests detector's reading of the common test reporters' output: which tests failed
// and the counts, from samples of TAP, node:test's spec reporter, vitest and jest.
import { describe, expect, it } from 'vitest';
import { parseTestOutput } from '../../lib/detection/detectors/failing-tests';

const TAP = [
  'TAP version 13',
  '# Subtest: adds two numbers',
  'ok 1 - adds two numbers',
  '  ---',
  '  duration_ms: 0.51',
  '  ...',
  '# Subtest: rounds the quotient down',
  'not ok 2 - rounds the quotient down',
  '  ---',
  "  failureType: 'testCodeFailure'",
  '  ...',
  'not ok 3 - skipped on purpose # SKIP',
  '1..3',
  '# tests 3',
  '# pass 1',
  '# fail 1',
].join('\n');

const NODE_SPEC = [
  '✔ adds two numbers (0.61ms)',
  '✖ rounds the quotient down (1.2ms)',
  '  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:',
  '',
  '  3.5 !== 3',
  'ℹ tests 2',
  'ℹ pass 1',
  'ℹ fail 1',
  '',
  '✖ failing tests:',
  '',
  '✖ rounds the quotient down (1.2ms)',
].join('\n');

const VITEST = [
  ' ❯ test/cart.test.ts (3 tests | 1 failed) 12ms',
  '   × cart > applies the discount 5ms',
  '',
  ' FAIL  test/cart.test.ts > cart > applies the discount',
  'AssertionError: expected 90 to be 80',
  '',
  ' Test Files  1 failed (1)',
  '      Tests  1 failed | 2 passed (3)',
].join('\n');

const JEST = [
  'FAIL src/cart.test.js',
  '  cart',
  '    ✓ adds an item (3 ms)',
  '    ✕ applies the discount (4 ms)',
  '',
  '  ● cart › applies the discount',
  '',
  '    expect(received).toBe(expected) // Object.is equality',
  '',
  'Tests:       1 failed, 1 passed, 2 total',
].join('\n');

describe('test output parsing', () => {
  it('TAP: the not-ok tests and the counts; a not-ok with a SKIP directive is no failure', () => {
    expect(parseTestOutput(TAP)).toEqual({ failed: ['rounds the quotient down'], failedCount: 1, passedCount: 1 });
  });

  it("node:test's spec reporter: the ✖ lines once each, without durations or the summary header", () => {
    expect(parseTestOutput(`\u001b[31m${NODE_SPEC}\u001b[39m`)).toEqual({ failed: ['rounds the quotient down'], failedCount: 1, passedCount: 1 });
  });

  it('vitest: the failing test by its full name and the file summary', () => {
    // Printed twice (× and FAIL): one name, the fullest.
    expect(parseTestOutput(VITEST)).toEqual({ failed: ['test/cart.test.ts > cart > applies the discount'], failedCount: 1, passedCount: 2 });
  });

  it('jest: the ● name with its describe path', () => {
    // The `FAIL file` header is not a test of its own when a test in it is named.
    expect(parseTestOutput(JEST)).toEqual({ failed: ['cart › applies the discount'], failedCount: 1, passedCount: 1 });
  });

  it('a failing file whose tests cannot be named is reported as the file', () => {
    expect(parseTestOutput('FAIL src/broken.test.js\n  ● Test suite failed to run\n\nTests:       0 total').failed).toEqual(['src/broken.test.js']);
  });

  it('passing output names nothing', () => {
    expect(parseTestOutput('✔ adds two numbers (0.6ms)\nℹ tests 1\nℹ pass 1\nℹ fail 0').failed).toEqual([]);
  });
});
