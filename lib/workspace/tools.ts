// Model-facing tools over one working copy: list, read, write, edit and search files, and run an
// allow-listed command. Each tool is a name, a description, a zod input schema, a read-only flag
// and a function; the agent loop turns the schema into the provider's tool format.
import { promises as fsp } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import * as z from 'zod';
import {
  BinaryFileError,
  EditMatchError,
  FileNotFoundError,
  FileTooLargeError,
  InvalidSearchPatternError,
  NotADirectoryError,
  NotAFileError,
  ToolError,
  ToolInputError,
  WorkingCopyOutsideWorkspaceError,
} from './errors';
import { looksBinary } from './git';
import { resolveInside } from './paths';
import { RegexLineMatcher } from './regex-search';
import type { CommandRunner } from '../domain/commands';
import { SANDBOX_DEFAULTS, type CommandResult } from './sandbox';
import { SandboxCommandRunner } from './sandbox-runner';

export interface ToolLimits {
  /** Largest text read_file returns at once. */
  readMaxBytes: number;
  /** Files above this are never loaded (read, edit). */
  fileMaxBytes: number;
  writeMaxBytes: number;
  listMaxEntries: number;
  searchMaxResults: number;
  /** Files above this are skipped by search_files. */
  searchMaxFileBytes: number;
  searchMaxFiles: number;
  /** Time budget of one regex search; it is stopped with SearchTimeoutError after that. */
  searchTimeoutMs: number;
}

export const DEFAULT_TOOL_LIMITS: ToolLimits = {
  readMaxBytes: 256 * 1024,
  fileMaxBytes: 8 * 1024 * 1024,
  writeMaxBytes: 1024 * 1024,
  listMaxEntries: 500,
  searchMaxResults: 100,
  searchMaxFileBytes: 1024 * 1024,
  searchMaxFiles: 10_000,
  searchTimeoutMs: 10_000,
};

export interface WorkspaceToolContext {
  /** The task's working copy; every path is relative to it and confined to it. */
  root: string;
  limits?: Partial<ToolLimits>;
  /** Project allow-list for run_command (Project.allowedCommands). */
  allowedCommands?: readonly string[];
  /** Upper bound for run_command; the model may ask for less. */
  commandTimeoutMs?: number;
  maxOutputBytes?: number;
  /**
   * Where run_command runs: the runtime's CommandRunner (the sandbox function in a cell). The
   * working copy must lie under its workspace root. Without one, commands run here, in the
   * sandbox runner, with `network`.
   */
  commands?: CommandRunner;
  network?: 'inherit' | 'none';
}

export interface WorkspaceTool<Schema extends z.ZodType = z.ZodType, Result = unknown> {
  name: string;
  description: string;
  inputSchema: Schema;
  /** Read-only tools change nothing on disk; reviewer and QA get only these file tools. */
  readOnly: boolean;
  run(context: WorkspaceToolContext, input: z.output<Schema>): Promise<Result>;
}

const limitsOf = (context: WorkspaceToolContext): ToolLimits => ({ ...DEFAULT_TOOL_LIMITS, ...context.limits });

/** Validate raw model input against the tool's schema, then run it. Bad input is a ToolInputError. */
export async function invokeTool<S extends z.ZodType, R>(
  tool: WorkspaceTool<S, R>,
  context: WorkspaceToolContext,
  input: unknown,
): Promise<R> {
  const parsed = tool.inputSchema.safeParse(input);
  if (!parsed.success) {
    throw new ToolInputError(
      tool.name,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`),
    );
  }
  return tool.run(context, parsed.data);
}

const PathInput = z.string().max(1024).describe('Path relative to the root of the working copy, e.g. "src/index.ts"');
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

async function statOrThrow(absolute: string, relative: string) {
  try {
    return await fsp.stat(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(relative);
    throw error;
  }
}

/** Load a text file for read or edit, with the refusals a model can act on. */
async function loadText(context: WorkspaceToolContext, path: string): Promise<{ relative: string; absolute: string; text: string }> {
  const resolved = await resolveInside(context.root, path);
  if (!resolved.exists) throw new FileNotFoundError(resolved.relative);
  const stat = await statOrThrow(resolved.absolute, resolved.relative);
  if (!stat.isFile()) throw new NotAFileError(resolved.relative, stat.isDirectory() ? 'directory' : 'special file');
  const limits = limitsOf(context);
  if (stat.size > limits.fileMaxBytes) {
    throw new FileTooLargeError(resolved.relative, stat.size, limits.fileMaxBytes, 'it is too large for the file tools');
  }
  const bytes = await fsp.readFile(resolved.absolute);
  if (looksBinary(bytes)) throw new BinaryFileError(resolved.relative);
  return { relative: resolved.relative, absolute: resolved.absolute, text: bytes.toString('utf8') };
}

// ---------------------------------------------------------------- list_files

export const ListFilesInput = z.object({
  path: PathInput.default('.'),
  recursive: z.boolean().default(false).describe('List subdirectories too (never .git; node_modules is listed but not entered)'),
  maxEntries: z.number().int().min(1).max(5000).optional().describe('Stop after this many entries'),
});

export interface ListedEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size?: number;
}

export const listFilesTool: WorkspaceTool<typeof ListFilesInput, { path: string; entries: ListedEntry[]; truncated: boolean }> = {
  name: 'list_files',
  description:
    'List the entries of a directory in the working copy (sizes in bytes). Set recursive to include subdirectories. ' +
    'Symbolic links are shown, not followed. Output is capped; "truncated" says when entries were left out.',
  inputSchema: ListFilesInput,
  readOnly: true,
  async run(context, input) {
    const resolved = await resolveInside(context.root, input.path);
    if (!resolved.exists) throw new FileNotFoundError(resolved.relative);
    if (!(await fsp.stat(resolved.absolute)).isDirectory()) throw new NotADirectoryError(resolved.relative);
    const cap = Math.min(input.maxEntries ?? Infinity, limitsOf(context).listMaxEntries);
    const entries: ListedEntry[] = [];
    const prefix = resolved.relative === '.' ? '' : `${resolved.relative}/`;
    const queue: Array<[string, string]> = [[resolved.absolute, prefix]];
    let truncated = false;
    // Breadth-first so that a capped listing shows the top of the tree, not one deep corner.
    while (queue.length > 0 && !truncated) {
      const [absolute, relative] = queue.shift() as [string, string];
      const dirents = (await fsp.readdir(absolute, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const dirent of dirents) {
        if (dirent.name.toLowerCase() === '.git') continue;
        if (entries.length >= cap) {
          truncated = true;
          break;
        }
        const path = `${relative}${dirent.name}`;
        if (dirent.isDirectory()) {
          entries.push({ path: `${path}/`, type: 'directory' });
          if (input.recursive && !SKIPPED_DIRS.has(dirent.name)) queue.push([join(absolute, dirent.name), `${path}/`]);
        } else if (dirent.isSymbolicLink()) {
          entries.push({ path, type: 'symlink' });
        } else if (dirent.isFile()) {
          entries.push({ path, type: 'file', size: (await fsp.lstat(join(absolute, dirent.name))).size });
        } else {
          entries.push({ path, type: 'other' });
        }
      }
    }
    return { path: resolved.relative, entries, truncated };
  },
};

// ---------------------------------------------------------------- read_file

export const ReadFileInput = z
  .object({
    path: PathInput,
    startLine: z.number().int().min(1).optional().describe('First line to return, 1-based'),
    endLine: z.number().int().min(1).optional().describe('Last line to return, inclusive'),
  })
  .refine((i) => i.startLine === undefined || i.endLine === undefined || i.endLine >= i.startLine, {
    message: 'endLine must not be before startLine',
    path: ['endLine'],
  });

export interface ReadFileResult {
  path: string;
  content: string;
  startLine: number;
  endLine: number;
  totalLines: number;
  /** The range was cut short at the size limit; read on from endLine + 1. */
  truncated: boolean;
}

export const readFileTool: WorkspaceTool<typeof ReadFileInput, ReadFileResult> = {
  name: 'read_file',
  description:
    'Read a text file of the working copy, whole or a range of lines (1-based, inclusive). ' +
    'Large files must be read in ranges; a range that is still too large is cut and marked truncated.',
  inputSchema: ReadFileInput,
  readOnly: true,
  async run(context, input) {
    const { relative, text } = await loadText(context, input.path);
    const limit = limitsOf(context).readMaxBytes;
    const lines = splitLines(text);
    const ranged = input.startLine !== undefined || input.endLine !== undefined;
    if (!ranged && Buffer.byteLength(text) > limit) {
      throw new FileTooLargeError(
        relative,
        Buffer.byteLength(text),
        limit,
        `read it in parts with startLine/endLine (it has ${lines.length} lines)`,
      );
    }
    const startLine = input.startLine ?? 1;
    const lastLine = Math.min(input.endLine ?? lines.length, lines.length);
    let content = '';
    let endLine = startLine - 1;
    let truncated = false;
    for (let n = startLine; n <= lastLine; n += 1) {
      const line = lines[n - 1] as string;
      if (Buffer.byteLength(content) + Buffer.byteLength(line) > limit) {
        truncated = true;
        break;
      }
      content += line;
      endLine = n;
    }
    return { path: relative, content, startLine, endLine, totalLines: lines.length, truncated };
  },
};

/** Lines with their line endings kept, so that joining them gives the text back. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

// ---------------------------------------------------------------- write_file

export const WriteFileInput = z.object({
  path: PathInput,
  content: z.string().describe('The complete new content of the file'),
});

export const writeFileTool: WorkspaceTool<typeof WriteFileInput, { path: string; bytes: number; created: boolean }> = {
  name: 'write_file',
  description:
    'Create or overwrite a text file in the working copy with the given content; missing parent directories are created. ' +
    'To change part of an existing file, prefer edit_file.',
  inputSchema: WriteFileInput,
  readOnly: false,
  async run(context, input) {
    const resolved = await resolveInside(context.root, input.path);
    if (resolved.relative === '.') throw new NotAFileError('.', 'directory');
    const bytes = Buffer.byteLength(input.content);
    const limit = limitsOf(context).writeMaxBytes;
    if (bytes > limit) throw new FileTooLargeError(resolved.relative, bytes, limit, 'write smaller files');
    if (resolved.exists) {
      const stat = await fsp.stat(resolved.absolute);
      if (!stat.isFile()) throw new NotAFileError(resolved.relative, stat.isDirectory() ? 'directory' : 'special file');
    } else {
      await fsp.mkdir(dirname(resolved.absolute), { recursive: true });
    }
    // A plain write keeps the file's mode (an executable script stays executable).
    await fsp.writeFile(resolved.absolute, input.content);
    return { path: resolved.relative, bytes, created: !resolved.exists };
  },
};

// ---------------------------------------------------------------- edit_file

export const EditFileInput = z
  .object({
    path: PathInput,
    oldString: z.string().min(1).describe('Exact text to replace; must occur exactly once in the file'),
    newString: z.string().describe('Replacement text'),
  })
  .refine((i) => i.oldString !== i.newString, { message: 'newString is the same as oldString', path: ['newString'] });

export const editFileTool: WorkspaceTool<typeof EditFileInput, { path: string; line: number }> = {
  name: 'edit_file',
  description:
    'Replace one exact occurrence of oldString with newString in a text file. oldString must match the file exactly ' +
    '(whitespace included) and occur exactly once; include surrounding lines to make it unique.',
  inputSchema: EditFileInput,
  readOnly: false,
  async run(context, input) {
    const { relative, absolute, text } = await loadText(context, input.path);
    const matches = countOccurrences(text, input.oldString);
    if (matches !== 1) throw new EditMatchError(relative, matches);
    const at = text.indexOf(input.oldString);
    // Spliced by index: String.replace would read "$&" and friends in newString as patterns.
    const updated = text.slice(0, at) + input.newString + text.slice(at + input.oldString.length);
    await fsp.writeFile(absolute, updated);
    return { path: relative, line: text.slice(0, at).split('\n').length };
  },
};

/** Occurrences, overlapping ones included: "aa" is ambiguous in "aaa". */
function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) count += 1;
  return count;
}

// ---------------------------------------------------------------- search_files

export const SearchFilesInput = z.object({
  query: z.string().min(1).max(500).describe('Text to find, or a JavaScript regular expression when regex is true'),
  regex: z.boolean().default(false),
  caseSensitive: z.boolean().default(true),
  path: PathInput.default('.').describe('Directory (or file) to search in'),
  maxResults: z.number().int().min(1).max(1000).optional(),
});

export interface SearchMatch {
  path: string;
  line: number;
  text: string;
}

const MAX_LINE_CHARS = 300;
// Regular expressions only see this much of a line, which bounds the cost of a pathological pattern.
const MAX_SCANNED_LINE_CHARS = 10_000;

export const searchFilesTool: WorkspaceTool<
  typeof SearchFilesInput,
  { matches: SearchMatch[]; truncated: boolean; filesSearched: number }
> = {
  name: 'search_files',
  description:
    'Search the text files of the working copy for a substring (or a regular expression with regex: true). ' +
    'Returns path, 1-based line number and the line for each match. Skips .git, node_modules, binary and very large files; ' +
    'results are capped and "truncated" says when more exist.',
  inputSchema: SearchFilesInput,
  readOnly: true,
  async run(context, input) {
    const limits = limitsOf(context);
    const cap = Math.min(input.maxResults ?? Infinity, limits.searchMaxResults);
    // 0-based indexes of the matching lines of one file, at most `limit` of them.
    let matchingLines: (text: string, limit: number) => Promise<number[]>;
    let matcher: RegexLineMatcher | undefined;
    if (input.regex) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(input.query, input.caseSensitive ? '' : 'i');
      } catch (error) {
        throw new InvalidSearchPatternError(input.query, (error as Error).message);
      }
      // Matching runs in a worker under a deadline: a backtracking pattern must never hold the event loop.
      const regexMatcher = new RegexLineMatcher(pattern, { timeoutMs: limits.searchTimeoutMs, maxLineChars: MAX_SCANNED_LINE_CHARS });
      matcher = regexMatcher;
      matchingLines = (text, limit) => regexMatcher.matchingLines(text, limit);
    } else {
      // Substring search is linear, so it stays on this thread.
      const needle = input.caseSensitive ? input.query : input.query.toLowerCase();
      matchingLines = async (text, limit) => {
        const found: number[] = [];
        const lines = text.split('\n');
        for (let i = 0; i < lines.length && found.length < limit; i += 1) {
          const line = (lines[i] as string).replace(/\r$/, '');
          if ((input.caseSensitive ? line : line.toLowerCase()).includes(needle)) found.push(i);
        }
        return found;
      };
    }
    try {
      return await searchTree(context, input.path, cap, matchingLines);
    } finally {
      await matcher?.close();
    }
  },
};

async function searchTree(
  context: WorkspaceToolContext,
  path: string,
  cap: number,
  matchingLines: (text: string, limit: number) => Promise<number[]>,
): Promise<{ matches: SearchMatch[]; truncated: boolean; filesSearched: number }> {
  const limits = limitsOf(context);
  const resolved = await resolveInside(context.root, path);
  if (!resolved.exists) throw new FileNotFoundError(resolved.relative);
  const matches: SearchMatch[] = [];
  let filesSearched = 0;
  let truncated = false;
  const prefix = resolved.relative === '.' ? '' : resolved.relative;

  const searchFile = async (absolute: string, relative: string, size: number): Promise<void> => {
    if (size > limits.searchMaxFileBytes) return;
    if (filesSearched >= limits.searchMaxFiles) {
      truncated = true;
      return;
    }
    const bytes = await fsp.readFile(absolute);
    filesSearched += 1;
    if (looksBinary(bytes)) return;
    const text = bytes.toString('utf8');
    const found = await matchingLines(text, cap - matches.length + 1);
    const lines = text.split('\n');
    for (const index of found) {
      if (matches.length >= cap) {
        truncated = true;
        return;
      }
      const line = (lines[index] as string).replace(/\r$/, '');
      matches.push({ path: relative, line: index + 1, text: line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line });
    }
  };

  const walk = async (absolute: string, relative: string): Promise<void> => {
    const dirents = (await fsp.readdir(absolute, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const dirent of dirents) {
      if (truncated) return;
      const childRelative = relative ? `${relative}/${dirent.name}` : dirent.name;
      const childAbsolute = join(absolute, dirent.name);
      // Symbolic links are not followed: they could lead outside the working copy or loop.
      if (dirent.isDirectory()) {
        if (!SKIPPED_DIRS.has(dirent.name.toLowerCase())) await walk(childAbsolute, childRelative);
      } else if (dirent.isFile()) {
        await searchFile(childAbsolute, childRelative, (await fsp.lstat(childAbsolute)).size);
      }
    }
  };

  const stat = await fsp.stat(resolved.absolute);
  if (stat.isDirectory()) await walk(resolved.absolute, prefix);
  else if (stat.isFile()) await searchFile(resolved.absolute, resolved.relative, stat.size);
  return { matches, truncated, filesSearched };
}

// ---------------------------------------------------------------- run_command

export const RunCommandInput = z.object({
  argv: z
    .array(z.string().min(1).max(4096).refine((a) => !a.includes('\0'), 'arguments must not contain NUL'))
    .min(1)
    .max(200)
    .describe('Program and arguments as separate strings, e.g. ["npm", "test", "--", "--run"]. No shell is used.'),
  cwd: PathInput.default('.').describe('Directory to run in, relative to the working copy root'),
  timeoutSeconds: z.number().int().min(1).max(3600).optional().describe('Give up after this many seconds (capped by the project)'),
});

export const runCommandTool: WorkspaceTool<typeof RunCommandInput, CommandResult> = {
  name: 'run_command',
  description:
    'Run a command in the working copy, e.g. the tests. Only commands that start with an entry of the project allow-list run, ' +
    'followed by nothing but file or test-name arguments (relative paths, no options such as "--flag"); ' +
    'argv is matched word by word and no shell is used (no pipes, redirects, "&&", globs or variables). ' +
    'Returns exit code, stdout, stderr (long output is cut in the middle), whether it timed out, and the duration. ' +
    'The environment holds no credentials; do not expect network access.',
  inputSchema: RunCommandInput,
  readOnly: false,
  async run(context, input) {
    const ceiling = context.commandTimeoutMs ?? SANDBOX_DEFAULTS.timeoutMs;
    const runner = context.commands ?? new SandboxCommandRunner(context.root, context.network ? { network: context.network } : {});
    return runner.run({
      workingCopy: await workingCopyUnder(runner.workspaceRoot, context.root),
      cwd: input.cwd,
      argv: input.argv,
      allowedCommands: [...(context.allowedCommands ?? [])],
      timeoutMs: input.timeoutSeconds ? Math.min(input.timeoutSeconds * 1000, ceiling) : ceiling,
      ...(context.maxOutputBytes ? { maxOutputBytes: context.maxOutputBytes } : {}),
    });
  },
};

/** The working copy as the runner names it: relative to its workspace root ("." when it is the root). */
async function workingCopyUnder(workspaceRoot: string, workingCopy: string): Promise<string> {
  const [root, copy] = await Promise.all([fsp.realpath(workspaceRoot), fsp.realpath(workingCopy)]);
  const inside = relative(root, copy);
  if (inside.startsWith('..') || isAbsolute(inside)) throw new WorkingCopyOutsideWorkspaceError(workingCopy, workspaceRoot);
  return inside === '' ? '.' : inside.split(sep).join('/');
}

// ---------------------------------------------------------------- registries

export const fileTools = [listFilesTool, readFileTool, writeFileTool, editFileTool, searchFilesTool] as const;
/** For reviewer and QA: files can be looked at, not changed. */
export const readOnlyFileTools = fileTools.filter((tool) => tool.readOnly);
export const workspaceTools = [...fileTools, runCommandTool] as const;

/** Whether an error is one to show the model (as opposed to a bug or an infrastructure failure). */
export const isToolError = (error: unknown): error is ToolError => error instanceof ToolError;
