// The agent's side of the workspace tools: each WorkspaceTool becomes a model tool (JSON schema
// from its zod schema), its result is rendered as readable text, and the agent-specific guards
// (no redaction markers written to disk, QA writes confined to test files) are applied here.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { canonicalJson } from '../domain/canonical-json';
import type { ToolSpec } from '../models/index';
import {
  ToolError,
  invokeTool,
  workspaceTools,
  type CommandResult,
  type ListedEntry,
  type ReadFileResult,
  type SearchMatch,
  type WorkspaceTool,
  type WorkspaceToolContext,
} from '../workspace/index';
import { modelJsonSchema } from './finish-schemas';
import { containsRedactionMarker } from './redaction';

/** A write would put a `[REDACTED:…]` marker on disk in place of the real secret. */
export class RedactionMarkerWriteError extends ToolError {
  readonly code = 'RedactionMarkerWrite';
  constructor(readonly path: string) {
    super(
      `refusing to write a [REDACTED:…] marker into "${path}": the marker stands for a secret that is still in the file. ` +
        'Use edit_file on the lines around it instead of rewriting them.',
    );
  }
}

/** QA may only write test files when a project lets it write at all. */
export class TestFilesOnlyError extends ToolError {
  readonly code = 'TestFilesOnly';
  constructor(readonly path: string) {
    super(
      `"${path}" is not a test file; you may only create or edit files under test/, tests/ or __tests__/, or named *.test.* or *.spec.*`,
    );
  }
}

/** Refused because the role was not given the tool (e.g. write_file for the reviewer). */
export class ToolNotAvailableError extends ToolError {
  readonly code = 'ToolNotAvailable';
  constructor(
    readonly tool: string,
    readonly role: string,
    readonly available: readonly string[],
  ) {
    super(`the tool ${tool} is not available to the ${role}. Available tools: ${available.join(', ')}`);
  }
}

export interface AgentTool {
  name: string;
  readOnly: boolean;
  spec: ToolSpec;
  /** Validates and runs the call; ToolErrors are meant for the model, anything else is a bug. */
  run(context: WorkspaceToolContext, input: unknown): Promise<unknown>;
  /** The result as text for the model. */
  render(result: unknown): string;
}

const TEST_PATH = /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[A-Za-z0-9]+$/;

export function isTestPath(path: string): boolean {
  return TEST_PATH.test(path.replace(/^\.\//, ''));
}

export interface AgentToolOptions {
  /** Confine write_file/edit_file to test files (QA with qaMayWriteTests). */
  testFilesOnly?: boolean;
}

/** Turns a workspace tool into an agent tool with the agent's guards. */
export function toAgentTool(tool: WorkspaceTool, options: AgentToolOptions = {}): AgentTool {
  return {
    name: tool.name,
    readOnly: tool.readOnly,
    spec: { name: tool.name, description: tool.description, inputSchema: modelJsonSchema(tool.inputSchema as z.ZodType) },
    async run(context, input) {
      if (tool.name === 'write_file' || tool.name === 'edit_file') guardWrite(tool.name, input, options);
      return invokeTool(tool, context, input);
    },
    render: (result) => renderToolResult(tool.name, result),
  };
}

function guardWrite(name: string, input: unknown, options: AgentToolOptions): void {
  const record = (input ?? {}) as Record<string, unknown>;
  const path = typeof record.path === 'string' ? record.path : '';
  const written = name === 'write_file' ? record.content : record.newString;
  if (options.testFilesOnly && path && !isTestPath(path)) throw new TestFilesOnlyError(path);
  if (typeof written === 'string' && containsRedactionMarker(written)) throw new RedactionMarkerWriteError(path);
}

/** The agent tools with the given names, in the order given. Unknown names are a programming error. */
export function agentToolsByName(names: readonly string[], options: AgentToolOptions = {}): AgentTool[] {
  const byName = new Map<string, WorkspaceTool>(workspaceTools.map((tool) => [tool.name, tool as WorkspaceTool]));
  return names.map((name) => {
    const tool = byName.get(name);
    if (!tool) throw new RangeError(`no workspace tool named ${name}`);
    return toAgentTool(tool, options);
  });
}

// ---------------------------------------------------------------- rendering

/** Tool results as a model reads them best: file text as text, command output as a transcript. */
export function renderToolResult(name: string, result: unknown): string {
  switch (name) {
    case 'read_file':
      return renderRead(result as ReadFileResult);
    case 'run_command':
      return renderCommand(result as CommandResult);
    case 'list_files':
      return renderList(result as { path: string; entries: ListedEntry[]; truncated: boolean });
    case 'search_files':
      return renderSearch(result as { matches: SearchMatch[]; truncated: boolean; filesSearched: number });
    case 'write_file': {
      const r = result as { path: string; bytes: number; created: boolean };
      return `${r.created ? 'created' : 'overwrote'} ${r.path} (${r.bytes} bytes)`;
    }
    case 'edit_file': {
      const r = result as { path: string; line: number };
      return `edited ${r.path} at line ${r.line}`;
    }
    default:
      return JSON.stringify(result, null, 2);
  }
}

function renderRead(r: ReadFileResult): string {
  const header =
    r.totalLines === 0
      ? `${r.path} is empty`
      : `${r.path}, lines ${r.startLine}-${r.endLine} of ${r.totalLines}` +
        (r.truncated ? ` (cut at the size limit; read on from line ${r.endLine + 1})` : '');
  return r.content === '' ? header : `${header}\n${r.content}`;
}

function renderCommand(r: CommandResult): string {
  const status = r.timedOut ? `timed out after ${r.durationMs} ms` : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
  const lines = [`$ ${r.argv.join(' ')}`, `${status} (${r.durationMs} ms)${r.truncated ? ', output cut in the middle' : ''}`];
  lines.push('--- stdout ---', r.stdout === '' ? '(empty)' : r.stdout.replace(/\n$/, ''));
  lines.push('--- stderr ---', r.stderr === '' ? '(empty)' : r.stderr.replace(/\n$/, ''));
  return lines.join('\n');
}

function renderList(r: { path: string; entries: ListedEntry[]; truncated: boolean }): string {
  const lines = r.entries.map((e) => (e.type === 'file' ? `${e.path} (${e.size} B)` : e.type === 'symlink' ? `${e.path} -> (symlink)` : e.path));
  return [`${r.path}: ${r.entries.length} entries${r.truncated ? ' (truncated)' : ''}`, ...lines].join('\n');
}

function renderSearch(r: { matches: SearchMatch[]; truncated: boolean; filesSearched: number }): string {
  const head = `${r.matches.length} match(es) in ${r.filesSearched} file(s) searched${r.truncated ? ' (truncated: narrow the search)' : ''}`;
  return [head, ...r.matches.map((m) => `${m.path}:${m.line}: ${m.text}`)].join('\n');
}

/** Cuts the middle out of long text: the start says what it is, the end is where failures print. */
export function clipMiddle(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const keep = Math.max(0, maxChars - 80);
  const head = text.slice(0, Math.ceil(keep / 2));
  const tail = text.slice(text.length - Math.floor(keep / 2));
  return `${head}\n[... ${text.length - head.length - tail.length} characters cut to fit the context ...]\n${tail}`;
}

// ---------------------------------------------------------------- canonical forms for stuck detection

// Fields that differ between two otherwise identical runs of a command.
const VOLATILE_KEYS = new Set(['durationMs']);

/** A fingerprint of a tool result that ignores timing, so two identical test failures compare equal. */
export function resultFingerprint(result: unknown, isError: boolean): string {
  const stable = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(stable);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([k]) => !VOLATILE_KEYS.has(k))
          .map(([k, v]) => [k, stable(v)]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(`${isError ? 'error' : 'ok'}\u0000${canonicalJson(stable(result))}`)
    .digest('hex')
    .slice(0, 32);
}
