// The analyst on a planted repository, with its model answered by a loopback fake of an
// OpenAI-compatible server: proposals whose evidence holds become findings of kind `proposal`,
// fabricated evidence is dropped, the budgets stop it before the model is asked, it runs only where
// a project enables it, and detection never starts a goal from a proposal.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analystDetector, locateQuote, parseHistory } from '../../lib/detection/detectors/analyst';
import { allFindings } from '../../lib/detection/findings';
import { detectorWeights } from '../../lib/detection/precision';
import type { DetectionSummary } from '../../lib/detection/inputs';
import { detectorModels } from '../../lib/detection/models';
import { DetectorFailedError } from '../../lib/detection/types';
import { runnableDetectors } from '../../lib/detection/workflow';
import { dayOf } from '../../lib/domain/common';
import { CreateProjectInputSchema, UpdateProjectSettingsInputSchema, type CreateProjectInput, type Project } from '../../lib/domain/project';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime';
import { openaiText, openaiToolCalls, startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import type { TempRepo } from '../support/temp-repo';
import { detectorContextFor } from './detector-context';
import { commitChange, createPlantedRepo, PLANTED_FILES } from './planted-repo';

let repo: TempRepo;
let local: LocalRuntime;
let model: FakeOpenAI;
let spec: string;

beforeEach(async () => {
  repo = createPlantedRepo();
  commitChange(repo, { 'src/math.js': `${PLANTED_FILES['src/math.js']}\nexport function multiply(a, b) {\n  return a * b;\n}\n` }, 'Add multiply');
  model = await startFakeOpenAI();
  spec = `openai:analyst-model@${model.baseUrl}`;
  // A loopback server is free by rule; priced here so budgets have something to count.
  local = await startLocalRuntime({ config: { workspaceRoot: repo.scratch, prices: { 'openai:analyst-model': { input: 3, output: 15 } } }, retryIntervalOverrides: {} });
});

afterEach(async () => {
  await local.stop();
  await model.close();
  repo.cleanup();
});

function createProject(settings: Partial<CreateProjectInput> = {}): Promise<Project> {
  return local.store.projects.create({
    name: 'Planted',
    repo: { path: repo.dir, defaultBranch: 'main' },
    modelPolicy: { reviewer: [spec] },
    detection: { detectors: ['analyst'], maxGoalsPerDay: 2 },
    ...settings,
  });
}

const TRUE_EVIDENCE = {
  title: 'Guard divide against a zero divisor',
  rationale: 'divide returns Infinity for a zero divisor, and a FIXME says so; callers get a silent wrong number instead of an error.',
  severity: 'medium',
  effort: 'small',
  confidence: 0.8,
  // Spread over three lines with other indentation than the file's: whitespace does not matter.
  evidence: [{ file: 'src/math.js', line: 6, quote: 'export function divide(a, b) {\n// FIXME handle division by zero\n    return a / b;' }],
};
const FABRICATED = {
  title: 'Validate the operands of add',
  rationale: 'add accepts anything and concatenates strings; it should check its operands are numbers.',
  severity: 'low',
  effort: 'trivial',
  confidence: 0.6,
  evidence: [{ file: 'src/math.js', line: 2, quote: 'if (typeof a !== "number") throw new TypeError()' }],
};
const OUTSIDE = {
  title: 'Rotate the machine password file',
  rationale: 'The password file is readable by everyone and should not be part of the project at all.',
  severity: 'high',
  effort: 'small',
  confidence: 0.9,
  evidence: [{ file: '../../../etc/passwd', quote: 'root:x:0:0:root:/root:/bin/bash' }],
};

const proposing = (...proposals: object[]) => openaiToolCalls([{ name: 'propose', arguments: { proposals } }], { prompt_tokens: 2_000, completion_tokens: 300 });

async function detect(project: Project): Promise<DetectionSummary> {
  const { executionId } = await local.runtime.ports.detection.startDetection({ projectId: project.id, trigger: 'manual' });
  const outcome = await local.detectionRunner.waitForExecution(executionId);
  if (outcome.status !== 'SUCCEEDED') throw new Error(`DetectWork ended ${outcome.status}: ${JSON.stringify(outcome)}`);
  return outcome.output as DetectionSummary;
}

describe('analyst detector', () => {
  it('files a proposal whose evidence is in the snapshot, drops fabricated evidence, and records what it spent', async () => {
    const project = await createProject();
    model.reply(proposing(TRUE_EVIDENCE, FABRICATED, OUTSIDE));
    const context = { ...detectorContextFor(repo), project, models: detectorModels(local.runtime, project) };

    const outcome = await analystDetector.detect(context);

    expect(outcome.dropped).toBe(2);
    expect(outcome.findings).toHaveLength(1);
    const [finding] = outcome.findings;
    expect(finding).toMatchObject({ kind: 'proposal', title: TRUE_EVIDENCE.title, severity: 'medium', effort: 'small', confidence: 0.8, location: { file: 'src/math.js', line: 6 } });
    expect(finding!.fingerprint).toMatch(/^analyst:[0-9a-f]{32}$/);
    expect(finding!.detail).toContain(TRUE_EVIDENCE.rationale);
    expect(finding!.detail).toContain('src/math.js:6: "export function divide(a, b) { // FIXME handle division by zero return a / b;"');

    // One call, which saw the repository map, the history and the most-changed file with line numbers.
    expect(model.requests).toHaveLength(1);
    const sent = JSON.stringify(model.requests[0]!.body);
    expect(sent).toContain('Add multiply');
    expect(sent).toContain('package.json');
    expect(sent).toContain('   7    // FIXME handle division by zero');
    expect(model.requests[0]!.body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['propose']);

    // 2000 input tokens at $3/M and 300 output tokens at $15/M, in the project's usage.
    expect(outcome.costUsd).toBeCloseTo(0.0105, 9);
    const today = dayOf(new Date().toISOString());
    const usage = await local.store.usage.getUsage(project.id, today, today);
    expect(usage.total).toMatchObject({ calls: 1, inputTokens: 2_000, outputTokens: 300 });
    expect(usage.total.usd).toBeCloseTo(0.0105, 9);
  });

  it('keeps the same fingerprint when the proposal is made again about moved code', async () => {
    const project = await createProject();
    model.reply(proposing(TRUE_EVIDENCE));
    const first = await analystDetector.detect({ ...detectorContextFor(repo), project, models: detectorModels(local.runtime, project) });
    commitChange(repo, { 'src/math.js': `// Arithmetic helpers.\n\n${PLANTED_FILES['src/math.js']}` }, 'Add a header');
    model.reply(proposing({ ...TRUE_EVIDENCE, evidence: [{ ...TRUE_EVIDENCE.evidence[0]!, line: 8 }] }));
    const second = await analystDetector.detect({ ...detectorContextFor(repo), project, models: detectorModels(local.runtime, project) });
    expect(second.findings[0]!.fingerprint).toBe(first.findings[0]!.fingerprint);
    expect(second.findings[0]!.location).toEqual({ file: 'src/math.js', line: 8 });
  });

  it('asks once more after an answer without proposals, then fails with the reason', async () => {
    const project = await createProject();
    model.reply(openaiText('Here are my thoughts.'), proposing(TRUE_EVIDENCE));
    const repaired = await analystDetector.detect({ ...detectorContextFor(repo), project, models: detectorModels(local.runtime, project) });
    expect(repaired.findings).toHaveLength(1);
    expect(model.requests).toHaveLength(2);

    model.reply(openaiToolCalls([{ id: 'call_bad', name: 'propose', arguments: { proposals: 'none' } }]), openaiText('Nothing to add.'));
    const failure = analystDetector.detect({ ...detectorContextFor(repo), project, models: detectorModels(local.runtime, project) });
    await expect(failure).rejects.toThrow(DetectorFailedError);
    await expect(failure).rejects.toThrow(/no valid proposals after a repair round \(no call of propose; spent \$/);
    // The invalid call was answered with its problem, as the tool's result.
    const repairRound = model.requests[3]!.body.messages.at(-1);
    expect(repairRound).toMatchObject({ role: 'tool', tool_call_id: 'call_bad' });
    expect(repairRound.content).toContain('Your answer was not accepted: proposals: ');
  });

  it('stops before asking the model when a call could overrun its own budget or the project\'s', async () => {
    const tiny = await createProject({ detection: { detectors: ['analyst'], maxGoalsPerDay: 2, analyst: { budgetUsd: 0.001 } } });
    model.reply(proposing(TRUE_EVIDENCE));
    const overAnalyst = analystDetector.detect({ ...detectorContextFor(repo), project: tiny, models: detectorModels(local.runtime, tiny) });
    await expect(overAnalyst).rejects.toThrow(DetectorFailedError);
    await expect(overAnalyst).rejects.toThrow(/stopped before asking the model: .*the analyst budget has \$0\.001000 left/);

    const daily = await createProject({ budgets: { perProjectDailyUsd: 0.01 } });
    const overProject = analystDetector.detect({ ...detectorContextFor(repo), project: daily, models: detectorModels(local.runtime, daily) });
    await expect(overProject).rejects.toThrow(/the project-daily budget has \$0\.010000 left/);

    expect(model.requests).toHaveLength(0);
  });

  it('fails with the reason when no model is configured for it', async () => {
    const project = await createProject({ modelPolicy: {} });
    await expect(analystDetector.detect({ ...detectorContextFor(repo), project, models: detectorModels(local.runtime, project) })).rejects.toThrow(
      /no model is configured for it: set the project's modelPolicy.reviewer/,
    );
  });
});

describe('the analyst in DetectWork', () => {
  it('is off by default: a project that does not name it never calls the model', async () => {
    const project = await local.store.projects.create(
      CreateProjectInputSchema.parse({ name: 'Planted', repo: { path: repo.dir }, modelPolicy: { reviewer: [spec] }, autonomyLevel: 4 }),
    );
    expect(project.detection?.detectors).not.toContain('analyst');
    expect(runnableDetectors(project)).not.toContain('analyst');
    const summary = await detect({ ...project });
    expect(summary.detectors.map((d) => d.detector)).not.toContain('analyst');
    expect(model.requests).toHaveLength(0);
  });

  it('at level 4 files proposals but starts goals only from problems; the summary counts the dropped', async () => {
    const project = await createProject({ autonomyLevel: 4, detection: { detectors: ['todo', 'analyst'], maxGoalsPerDay: 5 } });
    // A critical, certain, trivial proposal outranks every problem, and still is not started.
    model.reply(proposing({ ...TRUE_EVIDENCE, severity: 'critical', effort: 'trivial', confidence: 1 }, FABRICATED));

    const summary = await detect(project);

    expect(summary.detectors).toEqual(
      expect.arrayContaining([
        { detector: 'todo', ok: true, count: 2 },
        { detector: 'analyst', ok: true, count: 1, dropped: 1, costUsd: expect.closeTo(0.0105, 9) },
      ]),
    );
    const findings = await allFindings(local.store, project.id);
    const proposal = findings.find((f) => f.detector === 'analyst')!;
    expect(proposal).toMatchObject({ kind: 'proposal', status: 'open', score: 1000 });
    expect(proposal.goalId).toBeUndefined();
    expect(findings.filter((f) => f.detector === 'todo').every((f) => f.kind === 'problem')).toBe(true);
    expect(summary.goals?.mode).toBe('start');
    expect(summary.goals?.goals.map((g) => g.fingerprint.split(':')[0])).toEqual(['todo', 'todo']);

    // The findings API filters by kind.
    const proposals = await local.store.findings.list(project.id, { kind: 'proposal' });
    expect(proposals.items.map((f) => f.fingerprint)).toEqual([proposal.fingerprint]);
    const problems = await local.store.findings.list(project.id, { kind: 'problem' });
    expect(problems.items.map((f) => f.detector)).toEqual(['todo', 'todo']);

    // The next run reminds the model of the proposal on file, so it keeps its title (and fingerprint).
    model.reply(proposing({ ...TRUE_EVIDENCE, severity: 'critical', effort: 'trivial', confidence: 1 }));
    const again = await detect(project);
    expect(JSON.stringify(model.requests[1]!.body)).toContain(`- [open] ${TRUE_EVIDENCE.title} (src/math.js)`);
    expect(again.merged).toMatchObject({ created: [], resolved: [] });
    expect((await local.store.findings.get(project.id, proposal.fingerprint)).seenCount).toBe(2);
  });
});

describe('analyst precision', () => {
  it('weighs the analyst at level 5 like any detector: dismissed proposals count against it', async () => {
    const project = await createProject({ autonomyLevel: 5 });
    for (const n of [1, 2]) {
      await local.store.findings.upsert({ projectId: project.id, detector: 'analyst', kind: 'proposal', fingerprint: `analyst:ffffffff${n}`, title: `Proposal ${n}`, severity: 'medium', effort: 'small', score: 150 });
    }
    await local.store.findings.setStatus(project.id, 'analyst:ffffffff1', 'dismissed');
    expect((await detectorWeights(local.store, project.id)).get('analyst')).toBeCloseTo(2 / 3, 9);
  });
});

describe('analyst settings', () => {
  it('rejects bad values with messages naming the field', () => {
    const issuesOf = (analyst: unknown) => {
      const parsed = UpdateProjectSettingsInputSchema.safeParse({ detection: { analyst } });
      expect(parsed.success).toBe(false);
      return parsed.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(issuesOf({ budgetUsd: 0 })).toEqual(['detection.analyst.budgetUsd: analyst budgetUsd must be more than 0']);
    expect(issuesOf({ budgetUsd: 25 })).toEqual(['detection.analyst.budgetUsd: analyst budgetUsd must be at most 20']);
    expect(issuesOf({ budgetUsd: 'lots' })).toEqual(['detection.analyst.budgetUsd: analyst budgetUsd must be a number of USD']);
    expect(issuesOf({ maxProposals: 11 })).toEqual(['detection.analyst.maxProposals: analyst maxProposals must be at most 10']);
    expect(issuesOf({ maxProposals: 2.5 })).toEqual(['detection.analyst.maxProposals: analyst maxProposals must be a whole number']);
    expect(UpdateProjectSettingsInputSchema.parse({ detection: { detectors: ['analyst'], analyst: { budgetUsd: 1 } } }).detection).toEqual({
      detectors: ['analyst'],
      analyst: { budgetUsd: 1 },
    });
  });
});

describe('evidence helpers', () => {
  it('finds a quote whitespace-normalised, on the occurrence nearest the hinted line', () => {
    const text = 'a();\n  return x;\n\nb();\n    return   x;\n';
    expect(locateQuote(text, 'return x;')).toBe(2);
    expect(locateQuote(text, 'return x;', 5)).toBe(5);
    expect(locateQuote(text, 'b(); return x;')).toBe(4);
    expect(locateQuote(text, 'return y;')).toBeUndefined();
  });

  it('reads commits and their files from git log', () => {
    const log = '\u001eabc1234\t2026-11-30\tAdd multiply\n\nsrc/math.js\n\u001edef5678\t2026-11-29\tFirst\n\nsrc/math.js\npackage.json\n';
    expect(parseHistory(log)).toEqual([
      { sha: 'abc1234', date: '2026-11-30', subject: 'Add multiply', files: ['src/math.js'] },
      { sha: 'def5678', date: '2026-11-29', subject: 'First', files: ['src/math.js', 'package.json'] },
    ]);
  });
});
