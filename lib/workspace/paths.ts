// Confinement of model-supplied paths to one working copy: no absolute paths, no "..", nothing in
// .git, and no symbolic link that leads outside. Every file tool and the command runner's cwd go
// through resolveInside.
import { promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { PathOutsideWorkspaceError } from './errors';

export interface ResolvedPath {
  /** Absolute path to operate on, with the symbolic links of its existing part resolved. */
  absolute: string;
  /** The same path relative to the working copy root, with "/" separators ("." for the root). */
  relative: string;
  /** Whether something exists at the path. */
  exists: boolean;
}

/**
 * Resolve `requested` inside `root` or throw PathOutsideWorkspaceError. Symbolic links are judged
 * by where they lead: the deepest part of the path that exists is resolved with realpath and must
 * still be inside the root (and outside its .git). A dangling symbolic link is refused, because
 * writing through it would create a file wherever it points.
 */
export async function resolveInside(root: string, requested: string): Promise<ResolvedPath> {
  if (requested.includes('\0')) throw new PathOutsideWorkspaceError(requested, 'it contains a NUL byte');
  if (requested.includes('\\')) throw new PathOutsideWorkspaceError(requested, 'use "/" as the separator, not "\\"');
  if (isAbsolute(requested) || /^[A-Za-z]:/.test(requested) || requested.startsWith('~')) {
    throw new PathOutsideWorkspaceError(requested, 'absolute paths and "~" are not allowed');
  }
  const segments = requested.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new PathOutsideWorkspaceError(requested, '".." is not allowed');
  if (segments.some(isGitDirName)) throw new PathOutsideWorkspaceError(requested, 'the .git directory is off limits');

  const rootReal = await fsp.realpath(root);
  // Walk up to the deepest existing ancestor; what lies below it does not exist, so holds no links.
  let existing = segments.length;
  let real: string | undefined;
  while (real === undefined) {
    const probe = join(rootReal, ...segments.slice(0, existing));
    try {
      real = await fsp.realpath(probe);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const isLink = await fsp.lstat(probe).then(
        (s) => s.isSymbolicLink(),
        () => false,
      );
      if (isLink) throw new PathOutsideWorkspaceError(requested, 'it goes through a symbolic link whose target does not exist');
      existing -= 1;
    }
  }
  const inside = relative(rootReal, real);
  // By segment: "..hidden" is an ordinary name inside the working copy, ".." or "../x" is outside.
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new PathOutsideWorkspaceError(requested, 'it resolves through a symbolic link to a location outside the working copy');
  }
  if (inside !== '' && inside.split(sep).some(isGitDirName)) {
    throw new PathOutsideWorkspaceError(requested, 'it resolves through a symbolic link into the .git directory');
  }
  return {
    absolute: join(real, ...segments.slice(existing)),
    relative: segments.length ? segments.join('/') : '.',
    exists: existing === segments.length,
  };
}

// Case-insensitive because macOS and Windows file systems would treat ".GIT" as ".git".
const isGitDirName = (segment: string): boolean => segment.toLowerCase() === '.git';

