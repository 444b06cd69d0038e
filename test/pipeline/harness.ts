// A goal pipeline on the local runtime for tests: a real git repository with a small Node project,
// dynalite, the real state machine JSON run by aws-local-stepfunctions, in-process queues and the
// real handlers. Only the model is scripted (replay files written per test).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateProjectInput, EventEnvelope, Goal, Project } from '../../lib/domain/index';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../lib/local/runtime';
import type { ExecutionOutcome } from '../../lib/local/state-machine-runner';
import { goalStream } from '../../lib/store/index';
import { createTempRepo, type TempRepo } from '../support/temp-repo';

/** A tiny Node project whose own tests run with `node --test`. */
export const EXAMPLE_FILES: Record<string, string> = {
  'package.json': '{\n  "name": "example",\n  "type": "module",\n  "scripts": { "test": "node --test" }\n}\n',
  'src/math.js': 'export function add(a, b) {\n  return a + b;\n}\n',
  'test/math.test.js': "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { add } from '../src/math.js';\n\ntest('add', () => assert.equal(add(2, 3), 5));\n",
  'AGENTS.md': '# Example\n\nRun the tests with `node --test`.\n',
};

/** Every Task state that can retry: their pauses are zeroed so retry tests do not wait. */
const NO_RETRY_PAUSE = Object.fromEntries(
  ['DispatchTask', 'DispatchGateTask', 'Plan', 'StartGoal', 'SelectReadyTasks', 'RecordTaskFailure', 'RecordGateTaskFailure', 'OpenQualityGate', 'EvaluateQualityGate', 'Deliver', 'AssessGoal', 'DecidePlanApproval'].map((s) => [s, 0]),
);

export interface ReplayConversation {
  name?: string;
  match?: Record<string, unknown>;
  turns: Array<Record<string, unknown>>;
}

export interface Harness {
  local: LocalRuntime;
  repo: TempRepo;
  project: Project;
  /** Writes a replay script and returns its model spec. */
  replay(name: string, conversations: ReplayConversation[]): string;
  startGoal(
    title: string,
    options?: { description?: string; autonomyOverride?: number; budgetOverrideUsd?: number; source?: Goal['source']; sourceRef?: string },
  ): Promise<{ goal: Goal; executionId: string }>;
  wait(executionId: string): Promise<ExecutionOutcome>;
  events(goalId: string): Promise<EventEnvelope[]>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Model specs per role or for all roles (project modelPolicy); scripts are written with `replay`. */
  models: (replay: Harness['replay']) => { all?: string[]; byRole?: Partial<Record<string, string[]>> };
  project?: Partial<CreateProjectInput>;
  runtime?: LocalRuntimeOptions;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const repo = createTempRepo(EXAMPLE_FILES);
  const scripts = mkdtempSync(join(tmpdir(), 'cahoots-replay-'));
  const replay = (name: string, conversations: ReplayConversation[]) => {
    const path = join(scripts, `${name}.json`);
    writeFileSync(path, JSON.stringify({ version: 1, conversations }, null, 2));
    return `replay:${path}`;
  };
  const models = options.models(replay);
  const local = await startLocalRuntime({
    ...options.runtime,
    config: { workspaceRoot: repo.scratch, ...options.runtime?.config, ...(models.all ? { defaultModels: models.all } : {}) },
    retryIntervalOverrides: { ...NO_RETRY_PAUSE, ...options.runtime?.retryIntervalOverrides },
  });
  const project = await local.store.projects.create({
    name: 'Example',
    repo: { path: repo.dir, defaultBranch: 'main' },
    autonomyLevel: 4,
    allowedCommands: ['node --test'],
    team: { planner: 1, developer: 2, qa: 1, reviewer: 1 },
    maxParallelTasks: 3,
    ...(models.byRole ? { modelPolicy: models.byRole } : {}),
    ...options.project,
  });
  const harness: Harness = {
    local,
    repo,
    project,
    replay,
    async startGoal(title, goalOptions = {}) {
      const goal = await local.store.goals.create({ projectId: project.id, title, description: goalOptions.description ?? title, ...goalOptions } as never);
      const { executionId } = await local.runtime.ports.pipeline.startGoal({ goalId: goal.id, projectId: project.id });
      return { goal, executionId };
    },
    wait: (executionId) => local.runner.waitForExecution(executionId),
    async events(goalId) {
      const all: EventEnvelope[] = [];
      let after = 0;
      for (;;) {
        const page = await local.store.events.readEvents(goalStream(goalId), after, 100);
        all.push(...page.events);
        if (!page.hasMore) return all;
        after = page.lastSeq;
      }
    },
    async stop() {
      await local.stop();
      repo.cleanup();
      rmSync(scripts, { recursive: true, force: true });
    },
  };
  return harness;
}

// ---- script builders: the turns an agent of each role takes

/** Matches the agent working the task titled `title` (the task prompt's heading names it). */
export const forTask = (role: string, title: string) => ({ role, promptIncludes: `# Task: ${title}` });

export const writeAndFinish = (path: string, content: string, summary: string, delayMs = 0) => [
  { content: [{ type: 'toolUse', name: 'write_file', input: { path, content } }], ...(delayMs ? { delayMs } : {}) },
  { content: [{ type: 'toolUse', name: 'finish', input: { summary, filesChanged: [path] } }] },
];

export const planTurns = (tasks: Array<{ id: string; title: string; dependsOn?: string[]; role?: string }>, risk = 'low') => [
  {
    content: [
      {
        type: 'toolUse',
        name: 'finish',
        input: {
          summary: `A plan of ${tasks.length} task(s)`,
          risk,
          tasks: tasks.map((t) => ({
            id: t.id,
            role: t.role ?? 'developer',
            kind: 'feature',
            title: t.title,
            spec: `Implement: ${t.title}`,
            acceptanceCriteria: ['The tests pass'],
            dependsOn: t.dependsOn ?? [],
          })),
        },
      },
    ],
  },
];

export const reviewTurns = (verdict: 'approved' | 'changes-requested', comment = 'Looks right.') => [
  {
    content: [
      {
        type: 'toolUse',
        name: 'finish',
        input: {
          verdict,
          summary: verdict === 'approved' ? 'The change meets the goal.' : 'Changes are needed.',
          comments: verdict === 'approved' ? [] : [{ file: 'src/math.js', line: 1, severity: 'major', body: comment }],
        },
      },
    ],
  },
];

export const qaTurns = () => [
  { content: [{ type: 'toolUse', name: 'run_command', input: { argv: ['node', '--test'] } }] },
  {
    content: [
      { type: 'toolUse', name: 'finish', input: { summary: 'All tests pass.', testResults: { command: 'node --test', passed: 1, failed: 0, skipped: 0 }, passed: true } },
    ],
  },
];

/** Positions of event types in the log, for ordering assertions. */
export function seqOf(events: EventEnvelope[], type: string, taskId?: string): number[] {
  return events.filter((e) => e.type === type && (taskId === undefined || e.taskId === taskId)).map((e) => e.seq);
}
