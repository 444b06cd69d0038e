import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CommandRefusedError,
  BinaryFileError,
  EditMatchError,
  FileNotFoundError,
  FileTooLargeError,
  InvalidSearchPatternError,
  NotAFileError,
  PathOutsideWorkspaceError,
  SearchTimeoutError,
  ToolError,
  ToolInputError,
  editFileTool,
  fileTools,
  invokeTool,
  listFilesTool,
  readFileTool,
  readOnlyFileTools,
  resolveInside,
  runCommandTool,
  searchFilesTool,
  workspaceTools,
  writeFileTool,
  type WorkspaceTool,
  type WorkspaceToolContext,
} from '../../lib/workspace';

let base: string;
let root: string;
let outside: string;
let ctx: WorkspaceToolContext;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'cahoots-tools-'));
  root = join(base, 'wc');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'src/deep'), { recursive: true });
  mkdirSync(join(root, '.git'), { recursive: true });
  mkdirSync(join(root, 'node_modules/dep'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'outside secret\n');
  writeFileSync(join(root, '.git/config'), '[core]\n');
  writeFileSync(join(root, 'README.md'), '# Title\n\nneedle in README\n');
  writeFileSync(join(root, 'src/a.ts'), 'const a = 1;\nconst b = 2;\nconst a2 = 1;\n');
  writeFileSync(join(root, 'src/deep/b.ts'), 'export const NEEDLE = "x";\n');
  writeFileSync(join(root, 'node_modules/dep/index.js'), 'needle in node_modules\n');
  writeFileSync(join(root, 'image.bin'), Buffer.from([1, 2, 0, 3, 110, 101, 101, 100, 108, 101]));
  writeFileSync(join(root, 'many.txt'), Array.from({ length: 150 }, (_, i) => `needle ${i}`).join('\n') + '\n');
  symlinkSync(outside, join(root, 'link-out'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link'));
  symlinkSync(join(outside, 'not-yet.txt'), join(root, 'dangling-out'));
  symlinkSync('.git', join(root, 'git-link'));
  symlinkSync('src/a.ts', join(root, 'inside-link.ts'));
  ctx = { root, allowedCommands: ['node -e'] };
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const run = <S extends z.ZodType, R>(tool: WorkspaceTool<S, R>, input: unknown, context = ctx) => invokeTool(tool, context, input);

describe('path confinement', () => {
  it.each([
    ['../outside/secret.txt', /"\.\." is not allowed/],
    ['src/../../outside/secret.txt', /"\.\." is not allowed/],
    ['src/../README.md', /"\.\." is not allowed/],
    ['/etc/passwd', /absolute paths/],
    ['~/.ssh/id_rsa', /absolute paths/],
    ['C:/Windows/win.ini', /absolute paths/],
    ['src\\a.ts', /use "\/"/],
    ['.git/config', /\.git directory is off limits/],
    ['src/.GIT/x', /\.git directory is off limits/],
    ['link-out/secret.txt', /outside the working copy/],
    ['link-out', /outside the working copy/],
    ['secret-link', /outside the working copy/],
    ['link-out/new/deeper.txt', /outside the working copy/],
    ['dangling-out', /symbolic link whose target does not exist/],
    ['git-link/config', /into the \.git directory/],
  ])('refuses %s', async (path, reason) => {
    const error = await run(readFileTool, { path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathOutsideWorkspaceError);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).toMatch(/relative to the root of the working copy/);
  });

  it('refuses writes that would land outside, and creates nothing there', async () => {
    for (const path of ['link-out/new.txt', 'dangling-out', '../escape.txt', '.git/hooks/pre-commit', 'git-link/hooks/x']) {
      await expect(run(writeFileTool, { path, content: 'x' })).rejects.toBeInstanceOf(PathOutsideWorkspaceError);
    }
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(existsSync(join(outside, 'not-yet.txt'))).toBe(false);
    expect(existsSync(join(base, 'escape.txt'))).toBe(false);
    expect(existsSync(join(root, '.git/hooks'))).toBe(false);
  });

  it('follows symbolic links that stay inside', async () => {
    expect((await run(readFileTool, { path: 'inside-link.ts' })).content).toContain('const a = 1;');
    const resolved = await resolveInside(root, './src//deep/new.ts');
    expect(resolved).toMatchObject({ relative: 'src/deep/new.ts', exists: false });
  });
});

describe('read_file', () => {
  it('reads a whole file or a line range', async () => {
    expect(await run(readFileTool, { path: 'src/a.ts' })).toEqual({
      path: 'src/a.ts',
      content: 'const a = 1;\nconst b = 2;\nconst a2 = 1;\n',
      startLine: 1,
      endLine: 3,
      totalLines: 3,
      truncated: false,
    });
    expect(await run(readFileTool, { path: 'src/a.ts', startLine: 2, endLine: 2 })).toMatchObject({ content: 'const b = 2;\n', startLine: 2, endLine: 2 });
    expect(await run(readFileTool, { path: 'src/a.ts', startLine: 3, endLine: 99 })).toMatchObject({ content: 'const a2 = 1;\n', endLine: 3 });
  });

  it('refuses a large file without a range, and cuts a range at the limit', async () => {
    const small = { ...ctx, limits: { readMaxBytes: 1000 } };
    const error = await run(readFileTool, { path: 'many.txt' }, small).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileTooLargeError);
    expect((error as Error).message).toMatch(/startLine\/endLine \(it has 150 lines\)/);
    const part = await run(readFileTool, { path: 'many.txt', startLine: 1, endLine: 150 }, small);
    expect(part.truncated).toBe(true);
    expect(Buffer.byteLength(part.content)).toBeLessThanOrEqual(1000);
    expect(part.content.endsWith('\n')).toBe(true);
    expect(part.content.split('\n').length - 1).toBe(part.endLine);
  });

  it('names missing, binary and directory paths', async () => {
    await expect(run(readFileTool, { path: 'nope.ts' })).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(run(readFileTool, { path: 'image.bin' })).rejects.toBeInstanceOf(BinaryFileError);
    await expect(run(readFileTool, { path: 'src' })).rejects.toBeInstanceOf(NotAFileError);
    await expect(run(readFileTool, { path: 'src/a.ts', startLine: 3, endLine: 2 })).rejects.toBeInstanceOf(ToolInputError);
  });
});

describe('write_file and edit_file', () => {
  it('writes a file, creating parent directories', async () => {
    expect(await run(writeFileTool, { path: 'gen/nested/out.ts', content: 'export {};\n' })).toEqual({
      path: 'gen/nested/out.ts',
      bytes: 11,
      created: true,
    });
    expect(readFileSync(join(root, 'gen/nested/out.ts'), 'utf8')).toBe('export {};\n');
    expect((await run(writeFileTool, { path: 'gen/nested/out.ts', content: 'x' })).created).toBe(false);
    await expect(run(writeFileTool, { path: 'src', content: 'x' })).rejects.toBeInstanceOf(NotAFileError);
  });

  it('replaces exactly one occurrence, literally', async () => {
    writeFileSync(join(root, 'edit.ts'), 'one\ntwo\nthree\n');
    expect(await run(editFileTool, { path: 'edit.ts', oldString: 'two\n', newString: 'TWO $& $1\n' })).toEqual({ path: 'edit.ts', line: 2 });
    expect(readFileSync(join(root, 'edit.ts'), 'utf8')).toBe('one\nTWO $& $1\nthree\n');
  });

  it('says 0 matches or N matches instead of guessing', async () => {
    const none = await run(editFileTool, { path: 'src/a.ts', oldString: 'const c', newString: 'x' }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(EditMatchError);
    expect((none as EditMatchError).matches).toBe(0);
    expect((none as Error).message).toMatch(/0 matches/);

    const two = await run(editFileTool, { path: 'src/a.ts', oldString: ' = 1;', newString: ' = 9;' }).catch((e: unknown) => e);
    expect((two as EditMatchError).matches).toBe(2);
    expect((two as Error).message).toMatch(/occurs 2 times.*exactly once/);
    expect(readFileSync(join(root, 'src/a.ts'), 'utf8')).toBe('const a = 1;\nconst b = 2;\nconst a2 = 1;\n');

    await expect(run(editFileTool, { path: 'src/a.ts', oldString: '', newString: 'x' })).rejects.toBeInstanceOf(ToolInputError);
  });
});

describe('names that start with two dots', () => {
  it('are ordinary files and directories inside the working copy', async () => {
    mkdirSync(join(root, '..hidden'));
    writeFileSync(join(root, '..hidden/notes.txt'), 'kept\n');
    try {
      expect((await run(readFileTool, { path: '..hidden/notes.txt' })).content).toBe('kept\n');
      await run(writeFileTool, { path: '..hidden/new.txt', content: 'new\n' });
      expect(readFileSync(join(root, '..hidden/new.txt'), 'utf8')).toBe('new\n');
      expect((await run(listFilesTool, { path: '..hidden' })).entries.map((e) => e.path)).toEqual(['..hidden/new.txt', '..hidden/notes.txt']);
      expect((await resolveInside(root, '..hidden')).relative).toBe('..hidden');
      await expect(run(readFileTool, { path: '../..hidden/notes.txt' })).rejects.toBeInstanceOf(PathOutsideWorkspaceError);
    } finally {
      rmSync(join(root, '..hidden'), { recursive: true, force: true });
    }
  });
});

describe('search_files', () => {
  it('finds substrings with line numbers, skipping .git, node_modules and binary files', async () => {
    const result = await run(searchFilesTool, { query: 'needle', caseSensitive: false }, { ...ctx, limits: { searchMaxResults: 1000 } });
    const paths = new Set(result.matches.map((m) => m.path));
    expect(paths).toEqual(new Set(['README.md', 'many.txt', 'src/deep/b.ts']));
    expect(result.matches[0]).toEqual({ path: 'README.md', line: 3, text: 'needle in README' });
    expect(result.truncated).toBe(false);
  });

  it('supports regular expressions and reports a bad one', async () => {
    const result = await run(searchFilesTool, { query: 'const a\\d? =', regex: true, path: 'src' });
    expect(result.matches.map((m) => `${m.path}:${m.line}`)).toEqual(['src/a.ts:1', 'src/a.ts:3']);
    await expect(run(searchFilesTool, { query: '(', regex: true })).rejects.toBeInstanceOf(InvalidSearchPatternError);
  });

  it('stops a catastrophic regex with a clear error while the event loop stays free', async () => {
    writeFileSync(join(root, 'hostile.txt'), `${'a'.repeat(5000)}!\n`);
    // A server in this process: it can only answer while the search leaves the event loop alone.
    const server = createServer((_request, response) => response.end('still here'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      let searchSettled = false;
      const search = run(searchFilesTool, { query: '(a+)+$', regex: true, path: 'hostile.txt' }, { ...ctx, limits: { searchTimeoutMs: 2_000 } });
      search.then(
        () => (searchSettled = true),
        () => (searchSettled = true),
      );
      const reply = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
      expect(reply).toBe('still here');
      expect(searchSettled).toBe(false);
      const error = await search.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SearchTimeoutError);
      expect((error as Error).message).toMatch(/did not finish within 2 s and was stopped.*nested/);
      // The tool still works after a stopped search.
      const after = await run(searchFilesTool, { query: 'const a\\d? =', regex: true, path: 'src' });
      expect(after.matches).toHaveLength(2);
    } finally {
      server.close();
      rmSync(join(root, 'hostile.txt'));
    }
  });

  it('caps results and says so', async () => {
    const result = await run(searchFilesTool, { query: 'needle', path: 'many.txt', maxResults: 10 });
    expect(result.matches).toHaveLength(10);
    expect(result.truncated).toBe(true);
    const capped = await run(searchFilesTool, { query: 'needle' }, { ...ctx, limits: { searchMaxResults: 5 } });
    expect(capped.matches).toHaveLength(5);
    expect(capped.truncated).toBe(true);
  });
});

describe('list_files', () => {
  it('lists one level, or everything below except the inside of .git and node_modules', async () => {
    const top = await run(listFilesTool, {});
    const names = top.entries.map((e) => e.path);
    expect(names).toContain('src/');
    expect(names).toContain('node_modules/');
    expect(names).not.toContain('.git/');
    expect(top.entries.find((e) => e.path === 'README.md')).toEqual({ path: 'README.md', type: 'file', size: 26 });
    expect(top.entries.find((e) => e.path === 'link-out')).toEqual({ path: 'link-out', type: 'symlink' });

    const all = (await run(listFilesTool, { recursive: true })).entries.map((e) => e.path);
    expect(all).toContain('src/deep/b.ts');
    expect(all.some((p) => p.startsWith('node_modules/dep'))).toBe(false);
    expect(all.some((p) => p.includes('secret'))).toBe(true); // the link itself, not its target's content
    expect(all).not.toContain('link-out/secret.txt');

    const capped = await run(listFilesTool, { recursive: true, maxEntries: 3 });
    expect(capped.entries).toHaveLength(3);
    expect(capped.truncated).toBe(true);
  });
});

describe('registry', () => {
  it('exposes name, description, schema and read-only flag for each tool', () => {
    const all: readonly WorkspaceTool[] = workspaceTools;
    expect(all.map((t) => t.name)).toEqual(['list_files', 'read_file', 'write_file', 'edit_file', 'search_files', 'run_command']);
    expect(readOnlyFileTools.map((t) => t.name)).toEqual(['list_files', 'read_file', 'search_files']);
    expect(fileTools.filter((t) => !t.readOnly).map((t) => t.name)).toEqual(['write_file', 'edit_file']);
    for (const tool of all) {
      expect(tool.description.length).toBeGreaterThan(40);
      const schema = z.toJSONSchema(tool.inputSchema, { io: 'input' });
      expect(schema.type).toBe('object');
    }
  });

  it('turns bad input into a ToolInputError naming the field', async () => {
    const error = await run(readFileTool, { path: 42 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolInputError);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toMatch(/^invalid input for read_file: path:/);
  });

  it('run_command goes through the allow-list and the path rules', async () => {
    const result = await run(runCommandTool, { argv: ['node', '-e', 'console.log(require("fs").readdirSync(".").length > 0)'], cwd: 'src' });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'true\n' });
    // Refusals come back through the CommandRunner port, the same way from every adapter.
    const notAllowed = await run(runCommandTool, { argv: ['bash', '-c', 'id'] }).catch((e: unknown) => e);
    expect(notAllowed).toBeInstanceOf(CommandRefusedError);
    expect(notAllowed).toBeInstanceOf(ToolError);
    expect(notAllowed).toMatchObject({ reason: 'CommandNotAllowed' });
    await expect(run(runCommandTool, { argv: ['node', '-e', '1'], cwd: 'link-out' })).rejects.toMatchObject({ reason: 'PathOutsideWorkspace' });
    await expect(run(runCommandTool, { argv: [] })).rejects.toBeInstanceOf(ToolInputError);
  });
});
