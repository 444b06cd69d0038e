// Lint problems from the project's own `lint` script (package.json), run through the command port.
// When the script is a plain `eslint …` call it is asked for JSON (`--format json`); otherwise the
// output is read in ESLint's stylish layout (a file line, then `line:col  error  message  rule`)
// or the one-line `file:line:col  error  message  rule` form. One finding per rule per file,
// fingerprinted without line numbers, so fixing one of several hits keeps the finding.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as z from 'zod';
import { runDetectorCommand } from '../command';
import { type Detector, type DetectedFinding, DetectorFailedError, excerpt, fingerprintOf } from '../types';

export interface LintProblem {
  file: string;
  line: number;
  column: number;
  level: 'error' | 'warning';
  message: string;
  /** The rule's name; problems without one (a parse error) are grouped under `(no rule)`. */
  rule: string;
}

const NO_RULE = '(no rule)';
const MAX_FINDINGS = 100;

function strip(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

/** Reads stylish output (file header, indented problems) and the one-line `file:line:col  level  message  rule` form. */
export function parseLintText(raw: string): LintProblem[] {
  const problems: LintProblem[] = [];
  let currentFile: string | undefined;
  for (const line of strip(raw).split('\n')) {
    const oneLine = /^(\S[^:]*?):(\d+):(\d+):?\s+(error|warning)\s+(.+?)(?:\s{2,}(\S+))?\s*$/.exec(line);
    if (oneLine) {
      problems.push({ file: oneLine[1]!, line: Number(oneLine[2]), column: Number(oneLine[3]), level: oneLine[4] as LintProblem['level'], message: oneLine[5]!.trim(), rule: oneLine[6] ?? NO_RULE });
      continue;
    }
    const indented = /^\s+(\d+):(\d+)\s+(error|warning)\s+(.+?)(?:\s{2,}(\S+))?\s*$/.exec(line);
    if (indented && currentFile) {
      problems.push({ file: currentFile, line: Number(indented[1]), column: Number(indented[2]), level: indented[3] as LintProblem['level'], message: indented[4]!.trim(), rule: indented[5] ?? NO_RULE });
      continue;
    }
    // A file header: a path alone on its line (stylish prints it before the file's problems).
    if (/^\S+\.[A-Za-z0-9]+$/.test(line.trim()) && !/^\s/.test(line)) currentFile = line.trim();
    else if (line.trim() === '') currentFile = undefined;
  }
  return problems;
}

const EslintJsonSchema = z.array(
  z.looseObject({
    filePath: z.string(),
    messages: z.array(z.looseObject({ ruleId: z.string().nullable().optional(), severity: z.number(), message: z.string(), line: z.number().optional(), column: z.number().optional() })),
  }),
);

/** Reads ESLint's `--format json` report; undefined when the output is not one. */
export function parseEslintJson(raw: string): LintProblem[] | undefined {
  const start = raw.indexOf('[');
  if (start < 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw.slice(start));
  } catch {
    return undefined;
  }
  const report = EslintJsonSchema.safeParse(json);
  if (!report.success) return undefined;
  return report.data.flatMap((file) =>
    file.messages
      .filter((message) => message.severity > 0)
      .map((message) => ({
        file: file.filePath,
        line: message.line ?? 1,
        column: message.column ?? 1,
        level: message.severity >= 2 ? ('error' as const) : ('warning' as const),
        message: message.message,
        rule: message.ruleId ?? NO_RULE,
      })),
  );
}

/** The project's lint script, if package.json has one. */
export function projectLintScript(dir: string): string | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  const script = (JSON.parse(readFileSync(file, 'utf8')) as { scripts?: Record<string, unknown> }).scripts?.lint;
  return typeof script === 'string' && script.trim() !== '' ? script : undefined;
}

/** Whether extra arguments reach eslint itself: the script is one `eslint` call, nothing chained or piped after it. */
export function acceptsEslintFormat(script: string): boolean {
  return /^\s*eslint(\s|$)/.test(script) && !/[;&|<>`$]|--format|(^|\s)-f(\s|$)/.test(script);
}

/** A path relative to the snapshot: ESLint prints absolute paths as the sandbox sees them. */
function relativePath(file: string, workingCopy: string, dir: string): string {
  const normalized = file.split('\\').join('/');
  const marker = `/${workingCopy}/`;
  const at = normalized.indexOf(marker);
  if (at >= 0) return normalized.slice(at + marker.length);
  if (isAbsolute(normalized) && normalized.startsWith(`${dir}/`)) return normalized.slice(dir.length + 1);
  return normalized.replace(/^\.\//, '');
}

export function findingsFromLint(problems: readonly LintProblem[]): DetectedFinding[] {
  const groups = new Map<string, LintProblem[]>();
  for (const problem of problems) {
    const key = `${problem.file}\u0000${problem.rule}`;
    groups.set(key, [...(groups.get(key) ?? []), problem]);
  }
  return [...groups.values()].slice(0, MAX_FINDINGS).map((group) => {
    const first = group[0]!;
    const errors = group.some((problem) => problem.level === 'error');
    return {
      fingerprint: fingerprintOf('lint', first.file, first.rule),
      title: `${first.rule} in ${first.file}: ${excerpt(first.message, 120)}${group.length > 1 ? ` (${group.length} places)` : ''}`,
      detail: excerpt(group.map((problem) => `${first.file}:${problem.line}:${problem.column} ${problem.level} ${problem.message} ${problem.rule}`).join('\n'), 2500),
      severity: 'medium',
      effort: group.length > 10 ? 'small' : 'trivial',
      // A warning is the project's own "maybe"; an error is its rule broken.
      confidence: errors ? 0.9 : 0.6,
      location: { file: first.file, line: first.line },
    };
  });
}

export const lintDetector: Detector = {
  name: 'lint',
  needsDependencies: true,
  async detect(context) {
    const script = projectLintScript(context.dir);
    if (!script) return { findings: [], skipped: 'no lint script in package.json' };
    const asJson = acceptsEslintFormat(script);
    // --silent keeps npm's own banner out of the output the report is read from.
    const command = asJson ? ['npm', 'run', '--silent', 'lint', '--', '--format', 'json'] : ['npm', 'run', '--silent', 'lint'];
    const outcome = await runDetectorCommand('lint', context, command);
    const parsed = (asJson ? parseEslintJson(outcome.stdout) : undefined) ?? parseLintText(`${outcome.stdout}\n${outcome.stderr}`);
    if (outcome.exitCode !== 0 && parsed.length === 0) {
      throw new DetectorFailedError('lint', `npm run lint exited with ${outcome.exitCode ?? outcome.signal} without reporting problems it could read: ${excerpt(outcome.stderr || outcome.stdout, 500)}`);
    }
    const problems = parsed.map((problem) => ({ ...problem, file: relativePath(problem.file, context.workingCopy, context.dir) }));
    return { findings: findingsFromLint(problems) };
  },
};
