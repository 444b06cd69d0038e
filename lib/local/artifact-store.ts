// ArtifactStore over a local directory (by default under .cahoots/). Keys keep their S3 shape,
// `goals/<id>/checkpoint.json`, and map to files below the root; a key that could leave the root
// (`..`, absolute paths, backslashes, control characters) is refused, not rewritten.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, relative, resolve, sep } from 'node:path';
import type { ArtifactStore } from '../ports/index';
import { InvalidArtifactKeyError } from '../ports/service-rules';
import { LocalRuntimeError } from './errors';

export { InvalidArtifactKeyError } from '../ports/service-rules';

/** S3 can hold both `a` and `a/b`; a filesystem cannot. Locally that pair is refused with this error. */
export class ArtifactKeyConflictError extends LocalRuntimeError {
  readonly code = 'ArtifactKeyConflict';
  constructor(
    readonly key: string,
    options: { cause: unknown },
  ) {
    super(`Artifact key ${JSON.stringify(key)} conflicts with an existing key that is a prefix of it or has it as a prefix`, options);
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

export class DirectoryArtifactStore implements ArtifactStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    // Write then rename, so a reader never sees half a checkpoint.
    const temporary = `${path}.${randomUUID()}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temporary, body);
      await rename(temporary, path);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') throw new ArtifactKeyConflictError(key, { cause: error });
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw error;
    }
  }

  /** The file a key maps to; throws InvalidArtifactKeyError for keys that are empty or could escape the root. */
  pathOf(key: string): string {
    if (key.length === 0) throw new InvalidArtifactKeyError(key, 'empty');
    if (Buffer.byteLength(key, 'utf8') > 1024) throw new InvalidArtifactKeyError(key, 'longer than 1024 bytes');
    if (key.startsWith('/')) throw new InvalidArtifactKeyError(key, 'starts with /');
    if (key.includes('\\')) throw new InvalidArtifactKeyError(key, 'contains a backslash');
    if (/[\u0000-\u001f\u007f]/.test(key)) throw new InvalidArtifactKeyError(key, 'contains a control character');
    const segments = key.split('/');
    if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
      throw new InvalidArtifactKeyError(key, 'has an empty, "." or ".." segment');
    }
    const path = resolve(this.root, ...segments);
    // Belt and braces: whatever the platform's path rules, the result must stay under the root.
    const inside = relative(this.root, path);
    if (inside === '..' || inside.startsWith(`..${sep}`) || inside.startsWith(sep) || resolve(this.root, inside) !== path) {
      throw new InvalidArtifactKeyError(key, 'resolves outside the artifact directory');
    }
    return path;
  }
}
