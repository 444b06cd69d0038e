// A compact map of a repository's tracked files with sizes, trimmed to a character budget, for the
// context engine's stable prompt prefix.
import { promises as fsp } from 'node:fs';
import { extname, join } from 'node:path';
import git from 'isomorphic-git';
import { gitFs } from './git-fs';

export interface RepoMapOptions {
  /** Stop collecting after this many files (the header still counts them all). */
  maxFiles?: number;
}

interface DirNode {
  name: string;
  depth: number;
  dirs: Map<string, DirNode>;
  files: Array<{ name: string; size: number }>;
  fileCount: number;
  bytes: number;
}

const BINARY_EXTENSIONS = new Set(
  (
    'png jpg jpeg gif webp bmp ico icns tiff psd pdf zip gz tgz bz2 xz 7z rar jar war ear class exe dll so dylib a o obj ' +
    'wasm woff woff2 ttf otf eot mp3 mp4 m4a wav ogg flac mov avi mkv webm sqlite db bin dat pyc node'
  ).split(' '),
);

/**
 * Tracked files of `dir` (from the git index; a directory that is not a repository is walked,
 * skipping .git and node_modules), binary files left out, as an indented tree no longer than
 * `budgetChars`. Shallow directories are expanded first; a directory that does not fit is shown
 * as one line with its file count and size.
 */
export async function repoMap(dir: string, budgetChars: number, options: RepoMapOptions = {}): Promise<string> {
  const paths = await trackedFiles(dir);
  const maxFiles = options.maxFiles ?? 20_000;
  const files: MapFile[] = [];
  let binaries = 0;
  for (const path of paths.slice(0, maxFiles)) {
    const size = await textFileSize(join(dir, path));
    if (size === 'binary') binaries += 1;
    if (typeof size === 'number') files.push({ path, size });
  }
  const notes = [binaries ? `${binaries} binary left out` : '', paths.length > maxFiles ? `${paths.length - maxFiles} not mapped` : ''];
  return renderRepoMap(files, budgetChars, notes.filter(Boolean));
}

export interface MapFile {
  /** Repository-relative, "/"-separated. */
  path: string;
  size: number;
}

/** The pure half of repoMap: lay out `files` as a tree of at most `budgetChars` characters. */
export function renderRepoMap(files: readonly MapFile[], budgetChars: number, notes: readonly string[] = []): string {
  const root: DirNode = { name: '', depth: -1, dirs: new Map(), files: [], fileCount: 0, bytes: 0 };
  for (const { path, size } of files) {
    const parts = path.split('/');
    const name = parts.pop() as string;
    let node = root;
    node.fileCount += 1;
    node.bytes += size;
    for (const part of parts) {
      let child = node.dirs.get(part);
      if (!child) {
        child = { name: part, depth: node.depth + 1, dirs: new Map(), files: [], fileCount: 0, bytes: 0 };
        node.dirs.set(part, child);
      }
      child.fileCount += 1;
      child.bytes += size;
      node = child;
    }
    node.files.push({ name, size });
  }

  const header = `${root.fileCount} file${root.fileCount === 1 ? '' : 's'}, ${humanSize(root.bytes)}${notes.length ? ` (${notes.join(', ')})` : ''}\n`;
  if (header.length > budgetChars) return header.slice(0, Math.max(0, budgetChars));

  // Greedy, breadth-first: expand a directory only if its children fit in what is left.
  const expanded = new Set<DirNode>([root]);
  let used = header.length + childrenCost(root);
  if (used > budgetChars) return header + topLevelWithin(root, budgetChars - header.length);
  const queue = sortedDirs(root);
  while (queue.length > 0) {
    const candidate = queue.shift() as DirNode;
    const delta = childrenCost(candidate) + expandedLine(candidate).length - collapsedLine(candidate).length;
    if (used + delta > budgetChars) continue;
    used += delta;
    expanded.add(candidate);
    queue.push(...sortedDirs(candidate));
  }

  let out = header;
  const render = (node: DirNode): void => {
    for (const child of sortedDirs(node)) {
      if (expanded.has(child)) {
        out += expandedLine(child);
        render(child);
      } else {
        out += collapsedLine(child);
      }
    }
    for (const file of sortedFiles(node)) out += fileLine(file, node.depth + 1);
  };
  render(root);
  return out;
}

const indent = (depth: number): string => '  '.repeat(depth);
const expandedLine = (node: DirNode): string => `${indent(node.depth)}${node.name}/\n`;
const collapsedLine = (node: DirNode): string =>
  `${indent(node.depth)}${node.name}/ (${node.fileCount} file${node.fileCount === 1 ? '' : 's'}, ${humanSize(node.bytes)})\n`;
const fileLine = (file: { name: string; size: number }, depth: number): string =>
  `${indent(depth)}${file.name} ${humanSize(file.size)}\n`;

const sortedDirs = (node: DirNode): DirNode[] => [...node.dirs.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
const sortedFiles = (node: DirNode) => [...node.files].sort((a, b) => (a.name < b.name ? -1 : 1));

/** Characters the direct children of an expanded directory take (subdirectories collapsed). */
function childrenCost(node: DirNode): number {
  let cost = 0;
  for (const child of node.dirs.values()) cost += collapsedLine(child).length;
  for (const file of node.files) cost += fileLine(file, node.depth + 1).length;
  return cost;
}

/** When even the top level does not fit: as many top-level lines as fit, then a count of the rest. */
function topLevelWithin(root: DirNode, budget: number): string {
  const lines = [...sortedDirs(root).map(collapsedLine), ...sortedFiles(root).map((f) => fileLine(f, 0))];
  const more = (count: number): string => (count > 0 ? `... ${count} more\n` : '');
  let out = '';
  for (const [i, line] of lines.entries()) {
    // Only take a line if the "more" note for whatever is left after it still fits.
    if (out.length + line.length + more(lines.length - i - 1).length > budget) {
      const note = more(lines.length - i);
      return out.length + note.length <= budget ? out + note : out;
    }
    out += line;
  }
  return out;
}

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)}K`;
  return `${(bytes / 1024 / 1024).toFixed(1)}M`;
}

async function trackedFiles(dir: string): Promise<string[]> {
  const isRepository = await fsp.stat(join(dir, '.git')).then(
    () => true,
    () => false,
  );
  if (isRepository) return git.listFiles({ fs: gitFs, dir, gitdir: join(dir, '.git') });
  // Not a repository: map what is on disk.
  const found: string[] = [];
  const walk = async (absolute: string, relative: string): Promise<void> => {
    for (const dirent of await fsp.readdir(absolute, { withFileTypes: true })) {
      if (dirent.name === '.git' || dirent.name === 'node_modules') continue;
      const path = relative ? `${relative}/${dirent.name}` : dirent.name;
      if (dirent.isDirectory()) await walk(join(absolute, dirent.name), path);
      else if (dirent.isFile()) found.push(path);
    }
  };
  await walk(dir, '');
  return found.sort();
}

/** Size of a text file; 'binary'; or 'absent' for symbolic links and files deleted since they were staged. */
async function textFileSize(path: string): Promise<number | 'binary' | 'absent'> {
  const stat = await fsp.lstat(path).catch(() => undefined);
  if (!stat?.isFile()) return 'absent';
  if (BINARY_EXTENSIONS.has(extname(path).slice(1).toLowerCase())) return 'binary';
  const handle = await fsp.open(path, 'r');
  try {
    const sample = Buffer.alloc(Math.min(8000, stat.size));
    await handle.read(sample, 0, sample.length, 0);
    return sample.includes(0) ? 'binary' : stat.size;
  } finally {
    await handle.close();
  }
}
