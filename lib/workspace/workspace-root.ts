// Where working copies live by default. Apart from git.ts so a Lambda's runtime can find the root
// without loading isomorphic-git.
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where working copies live unless configured: `CAHOOTS_WORKSPACE_ROOT`, else the OS temp dir (`/tmp` in Lambda). */
export function defaultWorkspaceRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAHOOTS_WORKSPACE_ROOT ?? join(tmpdir(), 'cahoots-workspaces');
}
