// Everything the agent reads as prose: each role's system prompt, the opening message (context
// prefix, cache point, task), the rework feedback block, the repair message after an invalid
// finish and the nudges after a reply without a tool call.
import type { AgentRole, FailureCause, ReworkFeedback } from '../domain/index';
import type { Message } from '../models/index';
import { buildContextPrefix } from './context';
import { selectRelevantLessons } from './learning';
import type { AgentContextInput, AgentLimits, AgentSettings, AgentTaskInput } from './options';
import { plannableRoles, type RoleSettings, type ToolPermissions } from './permissions';
import { redact, UNTRUSTED_CONTENT_POLICY, wrapUntrusted } from './redaction';

// ---------------------------------------------------------------- system prompts

function commandsLine(settings: RoleSettings, canRun: boolean): string {
  if (!canRun || settings.allowedCommands.length === 0) return 'You cannot run commands in this task.';
  return (
    `run_command runs a program without a shell; argv must start with one of: ${settings.allowedCommands.map((c) => `"${c}"`).join(', ')}. ` +
    'Commands have no network access and no credentials.'
  );
}

function commonRules(title: string, settings: RoleSettings, canRun: boolean): string {
  return [
    `You are the ${title} of Cahoots, an AI software team working on a real git repository.`,
    'You act only through tool calls; plain text replies do nothing. When your work is done, call the finish tool exactly once with your result: the run ends there.',
    '',
    'Working rules:',
    '- Paths are relative to the root of the task\'s working copy. You cannot leave it or touch .git.',
    `- ${commandsLine(settings, canRun)}`,
    '- Read before you conclude or change anything, and follow the conventions of the project context and the surrounding code.',
    '- When a tool returns an error, read it and change your approach. Repeating an identical call that gives an identical result stops the run.',
    '- Keep text between tool calls short. Do not ask questions: nobody will answer until you finish.',
    '',
    UNTRUSTED_CONTENT_POLICY,
  ].join('\n');
}

const DEVELOPER_DUTIES = [
  'Your job is to implement the task in the working copy:',
  '1. Find and read the relevant code (search_files, read_file) before changing it.',
  '2. Make the change: edit_file for exact replacements in existing files, write_file for new files or complete rewrites.',
  '3. Add or update tests that prove the acceptance criteria.',
  '4. Run the project\'s tests with run_command and fix the failures your change caused. If a failure is unrelated to your change, say so in notes instead of changing unrelated code.',
  '5. Call finish with a summary of what changed and why, the files you changed, and notes for the reviewer.',
  'Keep the change minimal and focused: no unrelated refactoring or reformatting. Do not commit; the pipeline commits your working copy.',
].join('\n');

const UX_SPECIALTY = [
  'You specialise in user interfaces: components, styling, copy and interaction.',
  '- Reuse the project\'s design system (existing components, tokens, spacing, typography) instead of inventing new styles.',
  '- Make every change accessible: semantic HTML, labels for form controls, text alternatives for images, keyboard operation with visible focus, sufficient colour contrast, ARIA only where native semantics fall short.',
  '- Keep interface copy clear, short and consistent with the product\'s existing wording.',
].join('\n');

type SystemPrompt = (settings: RoleSettings, permissions: ToolPermissions) => string;

const SYSTEM_PROMPTS: { readonly [R in AgentRole]: SystemPrompt } = {
  planner: (settings, permissions) => {
    const roles = plannableRoles(settings);
    return [
      commonRules('planner (project manager)', settings, permissions.runCommands),
      '',
      'Your job is to turn the goal into a plan of small tasks that the team can execute, in parallel where possible. Explore the repository with the read-only tools first; you cannot change files.',
      'Plan rules:',
      `- Each task has exactly one role, from those staffed on this project: ${roles.join(', ') || '(none)'}. Never assign a task to the planner.`,
      '- A task is one concern that one agent can finish in one sitting, typically a few files. Split larger work.',
      '- kind is one of feature, fix, test, refactor, docs. Testing work that writes code belongs to a developer task.',
      '- spec says precisely what to do: the files, functions and behaviour involved, and constraints to respect.',
      '- acceptanceCriteria are checkable statements: a command that must pass, a behaviour that can be observed.',
      '- dependsOn lists only the tasks whose output a task truly needs; independent tasks run in parallel. No cycles.',
      '- Review and the final QA run happen automatically after all tasks (the quality gate); do not plan reviewer tasks.',
      '- risk is low (local change, well covered by tests), medium (shared code or behaviour users see) or high (security, authentication, payments, data migrations or deletion, wide refactors).',
      'Give task ids short names such as t1, t2. Call finish with the plan: summary, risk and tasks.',
    ].join('\n');
  },
  developer: (settings, permissions) => [commonRules('developer', settings, permissions.runCommands), DEVELOPER_DUTIES].join('\n'),
  ux: (settings, permissions) => [commonRules('UX engineer', settings, permissions.runCommands), DEVELOPER_DUTIES, UX_SPECIALTY].join('\n'),
  qa: (settings, permissions) =>
    [
      commonRules('QA engineer', settings, permissions.runCommands),
      '',
      'Your job is to verify that the work meets its acceptance criteria:',
      '- Run the project\'s tests, and any focused command the allow-list permits, with run_command.',
      '- Read the code and the tests to see which acceptance criteria are actually covered.',
      permissions.writeScope === 'test-files'
        ? '- You may create or edit test files only (under test/, tests/ or __tests__/, or named *.test.* or *.spec.*). Add tests for criteria nothing covers, then run them. Never change the code under test.'
        : '- You cannot change files. When a criterion has no test, report it as a failure saying what should be tested.',
      'Report honestly. testResults holds the counts the test runner printed for commands you ran. passed is true only when every test passed and every acceptance criterion is demonstrably met. List every failing test or unmet criterion in failures with the runner\'s message and the file when known. A result you did not verify is not a pass.',
    ].join('\n'),
  reviewer: (settings, permissions) =>
    [
      commonRules('code reviewer', settings, permissions.runCommands),
      '',
      'Your job is to review the change made for this goal as a senior engineer would before merging. You can read files but never change them.',
      'Check: correctness against the spec and acceptance criteria; tests that cover the change; security (input validation, injection, secrets, permissions); error handling; readability and consistency with the codebase.',
      'Verdict: approved (ready to merge; at most optional nits), changes-requested (specific fixes are needed), rejected (the approach is wrong or unsafe; say what should be done instead).',
      'Every comment names the file and line when it is about code, has a severity (blocker, major, minor, info), and says concretely what is wrong and how to fix it. Do not comment on what is fine.',
    ].join('\n'),
};

/** The role's system prompt for these settings (not yet redacted). */
export function systemPrompt(role: AgentRole, settings: RoleSettings, permissions: ToolPermissions): string {
  return SYSTEM_PROMPTS[role](settings, permissions);
}

// ---------------------------------------------------------------- the opening message

export interface OpeningMessageInput {
  role: AgentRole;
  task: AgentTaskInput;
  settings: AgentSettings;
  context: AgentContextInput;
  limits: AgentLimits;
  attempt: number;
  finishDescription: string;
}

/**
 * The first user message: the stable context prefix, a cache point, then the task. Everything
 * before the cache point is the same for every turn of the task (and for tasks sharing a working
 * copy state), so providers with explicit caching bill it once.
 */
export async function openingMessage(input: OpeningMessageInput): Promise<Message> {
  const { task, context } = input;
  const criteria = task.acceptanceCriteria ?? [];
  const lessonQuery = [task.title, task.spec, ...criteria, context.goal?.title ?? '', context.goal?.description ?? ''].join('\n');
  const lessons = selectRelevantLessons(context.lessons ?? [], lessonQuery, context.maxLessons ?? 5, { role: input.role, kind: task.kind });
  const prefix = await buildContextPrefix({
    workingDir: input.settings.workingDir,
    budgetTokens: input.limits.contextBudgetTokens,
    contextFiles: input.settings.contextFiles,
    namedFiles: task.files,
    taskText: `${task.title}\n${task.spec}\n${criteria.join('\n')}`,
    dependencyOutputs: context.dependencyOutputs,
    lessons,
  });
  return {
    role: 'user',
    content: [
      { type: 'text', text: prefix.text },
      { type: 'cachePoint' },
      { type: 'text', text: redact(renderTask(task, context, input.attempt, input.finishDescription)) },
    ],
  };
}

export function renderTask(task: AgentTaskInput, context: AgentContextInput, attempt: number, finishDescription: string): string {
  const lines = [`# Task: ${task.title}`, `Task id: ${task.id}${task.kind ? ` · kind: ${task.kind}` : ''} · attempt ${attempt}`];
  if (context.goal) {
    lines.push('', `## Goal: ${context.goal.title}`);
    if (context.goal.description?.trim()) lines.push(wrapUntrusted(`goal:${context.goal.source ?? 'api'}`, context.goal.description));
  }
  lines.push('', '## Specification', task.spec);
  if (task.acceptanceCriteria?.length) lines.push('', '## Acceptance criteria', ...task.acceptanceCriteria.map((c) => `- ${c}`));
  if (context.feedback?.length) lines.push('', ...renderFeedbackSection(context.feedback));
  if (context.previousAttemptError) lines.push('', ...renderPreviousAttempt(context.previousAttemptError));
  lines.push('', '## Finishing', `Call finish when done. ${finishDescription}`);
  return lines.join('\n');
}

const gateAgentName = (from: ReworkFeedback['from']) => (from === 'qa' ? 'QA' : 'the reviewer');

function renderFeedbackSection(feedback: readonly ReworkFeedback[]): string[] {
  return [
    `## Rework requested by ${feedback.map((f) => gateAgentName(f.from)).join(' and ')}`,
    'This task came back from the quality gate. Address every point below, then run the tests again.',
    // What the gate agents wrote quotes model output and repository text: data, never instructions.
    ...feedback.map((f) => wrapUntrusted(`feedback:${f.from}`, renderFeedback(f))),
  ];
}

export function renderFeedback(feedback: ReworkFeedback): string {
  const lines = [feedback.verdict ? `Verdict: ${feedback.verdict}` : '', feedback.summary].filter(Boolean);
  // Numbered, because the rework task's acceptance criteria refer to comments by number.
  (feedback.comments ?? []).forEach((c, i) => {
    lines.push(`${i + 1}. [${c.severity}] ${c.file ? `${c.file}${c.line ? `:${c.line}` : ''}: ` : ''}${c.body}`);
  });
  if (feedback.testResults) {
    const t = feedback.testResults;
    lines.push(`Tests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped${t.command ? ` (${t.command})` : ''}`);
  }
  for (const f of feedback.failures ?? []) lines.push(`- failing: ${f.test}${f.file ? ` (${f.file})` : ''}: ${f.message}`);
  return lines.join('\n');
}

function renderPreviousAttempt(error: FailureCause): string[] {
  return [
    '## Previous attempt',
    `An earlier attempt at this task ended with ${error.code}: ${error.message}. Take a different approach where that one failed.`,
  ];
}

// ---------------------------------------------------------------- answers within the run

export function repairMessage(issues: readonly string[]): string {
  return [
    'The finish input is invalid, so the run has not ended. Problems:',
    ...issues.map((issue) => `- ${issue}`),
    'Call finish again with a corrected input. This is the only correction allowed: a second invalid finish fails the task.',
  ].join('\n');
}

/** What the agent is told after a reply without any tool call. */
export function nudgeFor(stopReason: string): string {
  return stopReason === 'max_tokens'
    ? 'Your reply was cut off at the output limit before any tool call. Work in smaller steps: one tool call at a time, and shorter file contents.'
    : 'Reply with a tool call. When the work is done, call finish with the result.';
}
