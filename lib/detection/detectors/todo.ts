// TODO, FIXME and HACK comments as debt: where they are and how old (git blame's author time of
// the line). The fingerprint is the file, the marker and the comment's words, so the finding stays
// the same while code above it moves.
import { runDetectorCommand } from '../command';
import { type Detector, type DetectedFinding, excerpt, fingerprintOf } from '../types';

type Marker = 'TODO' | 'FIXME' | 'HACK';
/** Files blamed per run; a repository with debt everywhere still gets a bounded run. */
const MAX_FILES = 50;
const MAX_FINDINGS = 200;
const DAY_MS = 86_400_000;

interface Hit {
  file: string;
  line: number;
  marker: Marker;
  text: string;
}

/** Parses `git grep -n` output: `path:line:content`. */
export function parseGrep(output: string): Hit[] {
  const hits: Hit[] = [];
  for (const row of output.split('\n')) {
    const match = /^(.+?):(\d+):(.*)$/.exec(row);
    if (!match) continue;
    const content = match[3]!;
    const marker = /\b(TODO|FIXME|HACK)\b/.exec(content);
    if (!marker) continue;
    hits.push({ file: match[1]!, line: Number(match[2]), marker: marker[1] as Marker, text: content.slice(marker.index).trim() });
  }
  return hits;
}

/** Author time (ms) of each final line number, from `git blame --line-porcelain`. */
export function parseBlameTimes(output: string): Map<number, number> {
  const times = new Map<number, number>();
  let currentLine: number | undefined;
  for (const row of output.split('\n')) {
    const header = /^[0-9a-f]{40} \d+ (\d+)/.exec(row);
    if (header) {
      currentLine = Number(header[1]);
      continue;
    }
    const time = /^author-time (\d+)$/.exec(row);
    if (time && currentLine !== undefined) times.set(currentLine, Number(time[1]) * 1000);
  }
  return times;
}

const normalized = (text: string) => text.replace(/\s+/g, ' ').replace(/\*\/\s*$/, '').trim();

export const todoDetector: Detector = {
  name: 'todo',
  needsDependencies: false,
  async detect(context) {
    const grep = await runDetectorCommand('todo', context, ['git', 'grep', '-n', '-I', '-w', '-E', '-e', '(TODO|FIXME|HACK)']);
    // git grep exits 1 when nothing matches.
    if (grep.exitCode === 1 && grep.stdout.trim() === '') return { findings: [] };
    const hits = parseGrep(grep.stdout).slice(0, MAX_FINDINGS);
    const files = [...new Set(hits.map((hit) => hit.file))].slice(0, MAX_FILES);
    const blamed = new Map<string, Map<number, number>>();
    for (const file of files) {
      const blame = await runDetectorCommand('todo', context, ['git', 'blame', '--line-porcelain', '--'], [file]);
      blamed.set(file, blame.exitCode === 0 ? parseBlameTimes(blame.stdout) : new Map());
    }
    const seen = new Map<string, number>();
    const findings: DetectedFinding[] = [];
    for (const hit of hits) {
      const text = normalized(hit.text);
      // The same comment twice in one file is two findings; the occurrence tells them apart.
      const key = `${hit.file}\u0000${text}`;
      const occurrence = (seen.get(key) ?? 0) + 1;
      seen.set(key, occurrence);
      const authoredAt = blamed.get(hit.file)?.get(hit.line);
      const ageDays = authoredAt === undefined ? undefined : Math.max(0, Math.floor((context.now.getTime() - authoredAt) / DAY_MS));
      const isFix = hit.marker !== 'TODO';
      findings.push({
        fingerprint: fingerprintOf('todo', hit.file, text, String(occurrence)),
        title: `${hit.marker} in ${hit.file}: ${excerpt(text.replace(/^(TODO|FIXME|HACK)\b[:\s-]*/, ''), 120) || hit.marker}`,
        detail: `${hit.file}:${hit.line}: ${excerpt(text, 500)}${ageDays === undefined ? '' : `\nwritten ${ageDays} day(s) ago (git blame)`}`,
        severity: isFix ? 'medium' : 'low',
        effort: 'small',
        // Old debt is more likely to be forgotten than in progress.
        confidence: Math.min(0.9, (isFix ? 0.5 : 0.3) + (ageDays !== undefined && ageDays > 90 ? 0.2 : 0)),
        location: { file: hit.file, line: hit.line },
      });
    }
    return { findings };
  },
};
