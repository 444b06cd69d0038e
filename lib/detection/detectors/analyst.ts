// The analyst: a model reads the repository map, the recent history (the last commits and the
// files they changed) and the most-changed files, and proposes improvements, each with evidence
// quoted from the snapshot. Evidence is checked here, not trusted: a proposal quoting text its file
// does not hold, or naming a file outside the snapshot, is dropped. What is left is filed as
// proposals, which detection never turns into goals by itself (goals.ts).
//
// One bounded model call (plus one repair round) through the model gateway, with a single
// `propose` tool as its structured answer, rather than the agent loop: the loop is built around a
// goal's task (run records, checkpoints, events keyed by goal and task), which a detection run does
// not have. The model therefore sees the files it may quote instead of reading them itself.
import { lstat, readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import * as z from 'zod';
import { createFixedBudget, type FixedBudget } from '../../agents/budget';
import { BudgetExceededError } from '../../agents/errors';
import { modelJsonSchema } from '../../agents/finish-schemas';
import { redact, UNTRUSTED_CONTENT_POLICY, wrapUntrusted } from '../../agents/redaction';
import { EFFORTS, SEVERITIES } from '../../domain/finding';
import { ANALYST_MODEL_ROLE, analystSettingsOf } from '../../domain/project';
import { estimateTokens, ModelCallAbortedError, ModelUnavailableError, type ContentBlock, type ConverseRequest, type Message, type ModelGateway, type ToolUseBlock } from '../../models/index';
import { logger } from '../../powertools';
import { repoMap } from '../../workspace/index';
import { runDetectorCommand } from '../command';
import { DetectorFailedError, excerpt, fingerprintOf, type DetectedFinding, type Detector, type DetectorContext, type DetectorModels } from '../types';

/** Commits of recent history the analyst reads. */
export const HISTORY_COMMITS = 50;
/** The most-changed files whose text the model is shown (what it can quote). */
const EVIDENCE_FILES = 8;
const MAX_FILE_CHARS = 6_000;
const MAX_FILE_BYTES = 512 * 1024;
const REPO_MAP_CHARS = 12_000;
const MAX_HISTORY_CHARS = 8_000;
/** Earlier proposals the model is reminded of, so it keeps their titles. */
const MAX_EARLIER_PROPOSALS = 30;
const MAX_OUTPUT_TOKENS = 4_096;
/** The first answer and one repair round after an invalid one. */
const MAX_CALLS = 2;
/** How long the model calls may take together. */
const MAX_WALL_MS = 10 * 60_000;
const PROPOSE_TOOL = 'propose';

const EvidenceSchema = z.object({
  file: z.string().trim().min(1).max(300).describe('Path of the file, relative to the repository root, exactly as listed'),
  line: z.number().int().min(1).optional().describe('Line the quote starts on'),
  quote: z.string().trim().min(8).max(400).describe('Text copied verbatim from that file (at least 8 characters), which shows the point'),
});

const ProposalSchema = z.object({
  title: z.string().trim().min(8).max(150).describe('The improvement, as a short imperative sentence'),
  rationale: z.string().trim().min(20).max(1500).describe('Why it is worth doing: what goes wrong or costs time today, and what changes'),
  severity: z.enum(SEVERITIES).describe('Impact if left as is'),
  effort: z.enum(EFFORTS).describe('Size of the change'),
  confidence: z.number().min(0).max(1).describe('How sure you are that this is worth a change, 0–1'),
  evidence: z.array(EvidenceSchema).min(1).max(5),
});
export type Proposal = z.infer<typeof ProposalSchema>;

export const proposalsSchema = (maxProposals: number) => z.object({ proposals: z.array(ProposalSchema).max(maxProposals) });

export interface Commit {
  sha: string;
  date: string;
  subject: string;
  files: string[];
}

const RECORD = '\u001e';

/** Parses `git log --name-only --date=short --format=%x1e%h%x09%ad%x09%s`: one record per commit. */
export function parseHistory(output: string): Commit[] {
  const commits: Commit[] = [];
  for (const record of output.split(RECORD)) {
    const [header, ...files] = record.split('\n');
    const match = /^(\S+)\t(\S+)\t(.*)$/.exec(header?.trim() ?? '');
    if (!match) continue;
    commits.push({ sha: match[1]!, date: match[2]!, subject: match[3]!, files: files.map((f) => f.trim()).filter(Boolean) });
  }
  return commits;
}

/** Files by how many of the commits changed them, most first (ties by path). */
export function mostChanged(commits: readonly Commit[]): Array<{ file: string; changes: number }> {
  const counts = new Map<string, number>();
  for (const commit of commits) for (const file of new Set(commit.files)) counts.set(file, (counts.get(file) ?? 0) + 1);
  return [...counts].map(([file, changes]) => ({ file, changes })).sort((a, b) => b.changes - a.changes || a.file.localeCompare(b.file));
}

/** The text of a regular file inside the snapshot, or undefined for anything else (outside, a link, .git, binary, too big). */
export async function snapshotFileText(dir: string, file: string): Promise<string | undefined> {
  if (isAbsolute(file) || file.includes('\0') || file.split(/[\\/]/).some((part) => part === '..' || part === '.git')) return undefined;
  try {
    const root = await realpath(dir);
    const path = await realpath(join(root, file));
    const inside = relative(root, path);
    if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) return undefined;
    const stat = await lstat(path);
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return undefined;
    const text = await readFile(path, 'utf8');
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * Where `quote` stands in `text`, whitespace normalised on both sides: the line of the occurrence
 * nearest to `nearLine` (the model's line is a hint, the file decides). Undefined: not there.
 */
export function locateQuote(text: string, quote: string, nearLine?: number): number | undefined {
  const wanted = squash(quote);
  if (wanted === '') return undefined;
  const lines = text.split('\n');
  const starts: number[] = [];
  let flat = '';
  for (const line of lines) {
    starts.push(flat.length);
    const squashed = squash(line);
    if (squashed !== '') flat += `${squashed} `;
  }
  let best: number | undefined;
  for (let at = flat.indexOf(wanted); at >= 0; at = flat.indexOf(wanted, at + 1)) {
    let line = starts.length;
    while (line > 1 && starts[line - 1]! > at) line--;
    if (best === undefined || (nearLine !== undefined && Math.abs(line - nearLine) < Math.abs(best - nearLine))) best = line;
    if (nearLine === undefined) break;
  }
  return best;
}

interface CheckedEvidence {
  file: string;
  line: number;
  quote: string;
}

/** The proposal's evidence with the lines where it stands, or why it does not hold. */
async function checkEvidence(dir: string, proposal: Proposal): Promise<{ evidence: CheckedEvidence[] } | { reason: string }> {
  const checked: CheckedEvidence[] = [];
  for (const item of proposal.evidence) {
    const text = await snapshotFileText(dir, item.file);
    if (text === undefined) return { reason: `${item.file} is not a file of the snapshot` };
    const line = locateQuote(text, item.quote, item.line);
    if (line === undefined) return { reason: `${item.file} does not contain the quoted text` };
    checked.push({ file: item.file, line, quote: squash(item.quote) });
  }
  return { evidence: checked };
}

/** The same proposal found again is the same finding: its words and first file, never its lines. */
export function proposalFingerprint(title: string, firstFile: string): string {
  const words = title.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  return fingerprintOf('analyst', words, firstFile);
}

function findingOf(proposal: Proposal, evidence: CheckedEvidence[]): DetectedFinding {
  const first = evidence[0]!;
  const quotes = evidence.map((e) => `- ${e.file}:${e.line}: "${excerpt(e.quote, 400)}"`).join('\n');
  return {
    fingerprint: proposalFingerprint(proposal.title, first.file),
    kind: 'proposal',
    title: proposal.title,
    detail: excerpt(`${excerpt(proposal.rationale, 1500)}\n\nEvidence:\n${quotes}`, 3900),
    severity: proposal.severity,
    effort: proposal.effort,
    confidence: proposal.confidence,
    location: { file: first.file, line: first.line },
  };
}

const SYSTEM_PROMPT = [
  'You are the analyst of Cahoots, an AI software team. You review a repository the way a senior engineer new to it would, and propose improvements worth a change.',
  'You are given the repository map, its recent history (commits and the files they changed) and the text of the files changed most often, with line numbers.',
  'Propose what makes the code safer, more correct or cheaper to change: fragile code in files that change often, missing error handling, missing tests for changing code, duplicated logic, security risks, confusing structure. Not style nits, not formatting, and not what a linter, the compiler, failing tests or TODO comments already report.',
  'Every proposal needs evidence: quotes copied verbatim from the files shown (never from memory, never paraphrased), each naming its file and the line it starts on. Quotes are checked against the repository; a proposal with a quote that is not there is thrown away.',
  'Fewer, better proposals beat many weak ones. When nothing is worth proposing, propose nothing.',
  `Answer only by calling the ${PROPOSE_TOOL} tool, exactly once.`,
  '',
  UNTRUSTED_CONTENT_POLICY,
].join('\n');

function renderHistory(commits: readonly Commit[]): string {
  const text = commits.map((c) => `${c.sha} ${c.date} ${c.subject}\n${c.files.map((f) => `  ${f}`).join('\n')}`).join('\n');
  return excerpt(text, MAX_HISTORY_CHARS);
}

const numbered = (text: string) =>
  excerpt(text, MAX_FILE_CHARS)
    .split('\n')
    .map((line, i) => `${String(i + 1).padStart(4)}  ${line}`)
    .join('\n');

async function openingMessage(context: DetectorContext, maxProposals: number): Promise<Message> {
  const history = await runDetectorCommand('analyst', context, [
    'git',
    'log',
    `-n${HISTORY_COMMITS}`,
    '--no-merges',
    '--name-only',
    '--date=short',
    // Placeholders rather than the characters themselves: the argv stays free of spaces.
    '--format=%x1e%h%x09%ad%x09%s',
  ]);
  if (history.exitCode !== 0) throw new DetectorFailedError('analyst', `git log failed: ${excerpt(history.stderr || history.stdout, 300)}`);
  const commits = parseHistory(history.stdout);
  const files: Array<{ file: string; changes: number; text: string }> = [];
  for (const { file, changes } of mostChanged(commits)) {
    if (files.length >= EVIDENCE_FILES) break;
    const text = await snapshotFileText(context.dir, file);
    if (text !== undefined && text.trim() !== '') files.push({ file, changes, text });
  }
  const map = await repoMap(context.dir, REPO_MAP_CHARS);
  const earlier = (await context.earlierFindings()).slice(0, MAX_EARLIER_PROPOSALS);
  const sections = [
    wrapUntrusted('repository-map', map),
    wrapUntrusted('git-log', renderHistory(commits)),
    ...files.map(({ file, changes, text }) => wrapUntrusted(`file:${file} (changed in ${changes} of the last ${commits.length} commits)`, numbered(text))),
    ...(earlier.length > 0
      ? [
          // A proposal made again under the same title and first file is the same finding; reworded, it would be filed anew and the old one resolved.
          'Proposals already on file. When you propose one of these again, reuse its title exactly and cite the same file first; do not propose the dismissed ones again.',
          wrapUntrusted('earlier-proposals', earlier.map((f) => `- [${f.status}] ${f.title}${f.location.file ? ` (${f.location.file})` : ''}`).join('\n')),
        ]
      : []),
    `Propose at most ${maxProposals} improvement(s) with the ${PROPOSE_TOOL} tool.`,
  ];
  return { role: 'user', content: [{ type: 'text', text: redact(sections.join('\n\n')) }] };
}

/** Refuses a call that could overrun the analyst's own budget or what is left of the project's. */
async function checkBudgets(models: DetectorModels, analyst: FixedBudget, worstCaseUsd: number): Promise<void> {
  await analyst.check(worstCaseUsd);
  for (const { scope, limitUsd, spentUsd } of await models.projectBudgets()) {
    if (spentUsd + worstCaseUsd > limitUsd) throw new BudgetExceededError(worstCaseUsd, limitUsd - spentUsd, limitUsd, scope);
  }
}

function worstCaseUsd(gateway: ModelGateway, request: ConverseRequest): number {
  const inputTokens = estimateTokens(request);
  return Math.max(...gateway.policy.map((spec) => gateway.prices.worstCaseUsd(spec, inputTokens, MAX_OUTPUT_TOKENS)));
}

/** Asks the model (a repair round at most) until it answers with valid proposals; returns them and what it cost. */
async function askForProposals(context: DetectorContext, maxProposals: number, budgetUsd: number): Promise<{ proposals: Proposal[]; costUsd: number }> {
  const policy = context.models.policyFor(ANALYST_MODEL_ROLE);
  if (policy.length === 0) {
    throw new DetectorFailedError('analyst', `no model is configured for it: set the project's modelPolicy.${ANALYST_MODEL_ROLE} (or the deployment's default models)`);
  }
  const gateway = context.models.gateway(policy);
  const schema = proposalsSchema(maxProposals);
  const budget = createFixedBudget(budgetUsd, { scope: 'analyst' });
  // Retries and fallbacks included, within RunDetector's fifteen minutes.
  const deadline = AbortSignal.timeout(MAX_WALL_MS);
  const messages: Message[] = [await openingMessage(context, maxProposals)];
  const tools = [{ name: PROPOSE_TOOL, description: `Submit your proposals: {proposals[{title, rationale, severity, effort, confidence, evidence[{file, line, quote}]}]}, at most ${maxProposals}.`, inputSchema: modelJsonSchema(schema) }];
  let problem = '';
  for (let call = 1; call <= MAX_CALLS; call++) {
    const request: ConverseRequest = { system: SYSTEM_PROMPT, messages, tools, maxTokens: MAX_OUTPUT_TOKENS, signal: deadline, tags: { detector: 'analyst', projectId: context.project.id } };
    try {
      await checkBudgets(context.models, budget, worstCaseUsd(gateway, request));
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      throw new DetectorFailedError('analyst', `stopped before ${call === 1 ? 'asking the model' : 'its repair round'}: ${error.message} (spent $${budget.spentUsd().toFixed(6)})`);
    }
    let reply;
    try {
      reply = await gateway.converse(request);
    } catch (error) {
      if (error instanceof ModelUnavailableError) throw new DetectorFailedError('analyst', error.message);
      if (error instanceof ModelCallAbortedError) throw new DetectorFailedError('analyst', `the model did not answer within ${MAX_WALL_MS / 60_000} minutes`);
      throw error;
    }
    await budget.charge(reply.costUsd);
    const use = reply.content.find((block): block is ToolUseBlock => block.type === 'toolUse' && block.name === PROPOSE_TOOL);
    const parsed = use ? schema.safeParse(use.input) : undefined;
    if (parsed?.success) return { proposals: parsed.data.proposals, costUsd: budget.spentUsd() };
    problem = parsed ? parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ') : `no call of ${PROPOSE_TOOL}`;
    messages.push({ role: 'assistant', content: reply.content.length > 0 ? (reply.content as ContentBlock[]) : [{ type: 'text', text: '(empty reply)' }] });
    const repair = `Your answer was not accepted: ${problem}. Call ${PROPOSE_TOOL} once more with a corrected input.`;
    // Every tool call of the reply needs its result before the conversation may go on.
    const uses = reply.content.filter((block): block is ToolUseBlock => block.type === 'toolUse');
    messages.push({
      role: 'user',
      content: uses.length > 0 ? uses.map((u) => ({ type: 'toolResult', toolUseId: u.id, content: repair, isError: true })) : [{ type: 'text', text: repair }],
    });
  }
  throw new DetectorFailedError('analyst', `the model gave no valid proposals after a repair round (${excerpt(problem, 500)}; spent $${budget.spentUsd().toFixed(6)})`);
}

export const analystDetector: Detector = {
  name: 'analyst',
  needsDependencies: false,
  async detect(context) {
    const settings = analystSettingsOf(context.project);
    const { proposals, costUsd } = await askForProposals(context, settings.maxProposals, settings.budgetUsd);
    const findings: DetectedFinding[] = [];
    let dropped = 0;
    for (const proposal of proposals) {
      const checked = await checkEvidence(context.dir, proposal);
      if ('reason' in checked) {
        dropped++;
        logger.info('analyst proposal dropped', { projectId: context.project.id, title: redact(proposal.title), reason: redact(checked.reason) });
        continue;
      }
      const finding = findingOf(proposal, checked.evidence);
      if (!findings.some((f) => f.fingerprint === finding.fingerprint)) findings.push(finding);
    }
    logger.info('analyst finished', { projectId: context.project.id, proposals: proposals.length, kept: findings.length, dropped, costUsd });
    return { findings, dropped, costUsd };
  },
};
