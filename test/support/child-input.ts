// Hands a spawned child its whole input. A child may exit without reading all of it (git
// http-backend refusing a push, a CLI that never asks its question); the pipe then fails with
// EPIPE, and an unhandled stream error surfaces in whichever test runs next in the worker. What the
// child did is in its exit code and output, so EPIPE is not an error here; anything else still is.
import type { Writable } from 'node:stream';

export function endChildInput(stdin: Writable, input: string | Buffer): void {
  stdin.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  stdin.end(input);
}
