// A local runtime without a data directory keeps nothing: its scratch artifacts directory goes
// when it stops.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startLocalRuntime } from '../../lib/local/runtime';

const originalTmp = process.env.TMPDIR;
let scratch: string | undefined;
afterEach(() => {
  if (originalTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = originalTmp;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

it('removes its scratch artifacts directory when it stops', async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cahoots-runtime-tmp-'));
  // os.tmpdir() reads TMPDIR on every call, so the runtime's scratch lands where it can be watched.
  process.env.TMPDIR = scratch;
  const local = await startLocalRuntime({});
  expect(readdirSync(scratch).filter((name) => name.startsWith('cahoots-artifacts-'))).toHaveLength(1);
  await local.stop();
  expect(readdirSync(scratch)).toEqual([]);
});
