#!/usr/bin/env node
// The `cahoots` executable: loads the TypeScript CLI (lib/cli/main.ts) through tsx's ESM API, so
// the command runs from a checkout without a build step. The local runtime needs Node.js 22; an
// older `node` on PATH hands over to the Node 22 this package installs (the `node` package).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(bundled) || process.env.CAHOOTS_NODE_HANDOVER) {
    process.stderr.write(`cahoots: needs Node.js 22 or newer (this is ${process.versions.node}); install it, or run npm ci in the cahoots checkout\n`);
    process.exit(1);
  }
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, CAHOOTS_NODE_HANDOVER: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 1)));
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport('../lib/cli/main.ts', import.meta.url);
}
