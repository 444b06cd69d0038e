import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  AgentRunSchema,
  CreateGoalInputSchema,
  CreateProjectInputSchema,
  DaySchema,
  EVENT_TYPES,
  EventEnvelopeSchema,
  FindingSchema,
  GoalIdSchema,
  GoalSchema,
  IsoTimestampSchema,
  LessonSchema,
  MAX_EVENT_DATA_BYTES,
  newId,
  newUlid,
  ProjectSchema,
  TaskSchema,
  UpdateProjectSettingsInputSchema,
  UsageRecordSchema,
  type Goal,
  type Project,
  type Task,
} from '../../lib/domain/index';

const at = '2030-01-02T03:04:05.678Z';
const projectId = newId('project');
const goalId = newId('goal');
const taskId = newId('task');

const project: Project = ProjectSchema.parse({
  id: projectId,
  ...CreateProjectInputSchema.parse({ name: 'shop', repo: { url: 'https://github.com/acme/shop.git' } }),
  createdAt: at,
  updatedAt: at,
  version: 1,
});

const goal: Goal = {
  id: goalId,
  projectId,
  title: 'add rate limiting',
  description: 'to the login endpoint',
  source: 'api',
  priority: 'HIGH',
  status: 'AWAITING_APPROVAL',
  labels: ['security'],
  branch: `cahoots/${goalId}`,
  risk: 'high',
  costUsd: 0.42,
  reworkRounds: 0,
  approval: { state: 'pending', stage: 'plan', requestedAt: at, taskToken: 'AAAA' },
  createdAt: at,
  updatedAt: at,
  version: 3,
};

const task: Task = {
  id: taskId,
  goalId,
  projectId,
  planKey: 't1',
  role: 'developer',
  kind: 'feature',
  title: 'limiter middleware',
  spec: 'token bucket per IP',
  acceptanceCriteria: ['429 after 10 attempts/min'],
  dependsOn: [],
  status: 'SUCCEEDED',
  attempts: 2,
  modelTier: 1,
  outputs: {
    summary: 'added middleware',
    branch: `cahoots/${goalId}/t1`,
    commits: ['0123abc'],
    filesChanged: ['src/limiter.ts'],
    testResults: { passed: 10, failed: 0, skipped: 1 },
    review: { verdict: 'approved', comments: [{ file: 'src/limiter.ts', line: 3, severity: 'minor', body: 'name the constant' }] },
  },
  createdAt: at,
  updatedAt: at,
  version: 5,
};

function roundTrips<T>(schema: z.ZodType<T>, value: T) {
  expect(schema.parse(JSON.parse(JSON.stringify(value)))).toEqual(value);
}

describe('schemas round-trip through JSON', () => {
  it.each([
    ['project', ProjectSchema, project],
    ['goal', GoalSchema, goal],
    ['task', TaskSchema, task],
    [
      'event',
      EventEnvelopeSchema,
      { eventId: newUlid(), type: 'Task.Succeeded', at, actor: { kind: 'agent', id: 'run_1', role: 'developer' }, correlationId: goalId, projectId, goalId, taskId, seq: 7, data: { cost: 0.1 } },
    ],
    ['lesson', LessonSchema, { id: newId('lesson'), projectId, text: 'keep tasks small', tags: ['planning'], outcome: 'succeeded', createdAt: at }],
    ['usage', UsageRecordSchema, { projectId, day: '2030-01-02', model: 'bedrock:x', inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4, usd: 0.5, calls: 1 }],
    [
      'finding',
      FindingSchema,
      {
        projectId,
        detector: 'vulnerable-dependency',
        fingerprint: 'npm:lodash@4.17.0:CVE-2021-23337',
        title: 'lodash command injection',
        kind: 'problem',
        severity: 'high',
        effort: 'small',
        score: 300,
        location: { file: 'package-lock.json' },
        status: 'open',
        firstSeenAt: at,
        lastSeenAt: at,
        seenCount: 1,
        version: 1,
      },
    ],
    [
      'agent run',
      AgentRunSchema,
      {
        id: newId('agentRun'),
        projectId,
        goalId,
        taskId,
        role: 'reviewer',
        attempt: 1,
        modelTier: 0,
        modelCalls: [],
        modelCallCount: 0,
        tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
        costUsd: 0,
        toolCalls: { total: 0, failed: 0, byName: {} },
        outcome: 'stuck',
        error: { code: 'Agent.Stuck', message: 'same tool call 5 times' },
        startedAt: at,
        endedAt: at,
        durationMs: 0,
      },
    ],
  ] as Array<[string, z.ZodType<unknown>, unknown]>)('%s', (_name, schema, value) => roundTrips(schema, value));
});

describe('records stored before a field existed', () => {
  it('a finding without a kind is a problem', () => {
    const at = '2030-01-02T03:04:05.678Z';
    const stored = { projectId: 'prj_01M8VXED1Q02C21K722SWGSK4F', detector: 'todo', fingerprint: 'todo:0123456789abcdef', title: 'TODO in a.js', severity: 'low', effort: 'small', score: 15, location: {}, status: 'open', firstSeenAt: at, lastSeenAt: at, seenCount: 1, version: 1 };
    expect(FindingSchema.parse(stored).kind).toBe('problem');
  });
});

describe('schemas reject bad input', () => {
  const rejects = (schema: z.ZodType<unknown>, value: unknown) => expect(schema.safeParse(value).success).toBe(false);

  it('ids carry their prefix and a ULID', () => {
    expect(GoalIdSchema.safeParse(goalId).success).toBe(true);
    rejects(GoalIdSchema, projectId);
    rejects(GoalIdSchema, 'goal_123');
    rejects(GoalIdSchema, `goal_${'I'.repeat(26)}`);
  });

  it('timestamps are fixed-width UTC with milliseconds, days must exist', () => {
    rejects(IsoTimestampSchema, '2030-01-02T03:04:05Z');
    rejects(IsoTimestampSchema, '2030-01-02T03:04:05.678+01:00');
    rejects(DaySchema, '2030-02-29');
    expect(DaySchema.safeParse('2028-02-29').success).toBe(true);
  });

  it('project input: repo needs exactly one of url or path; cron, commands and context files are checked', () => {
    const base = { name: 'p', repo: { url: 'https://x.test/r.git' } };
    expect(CreateProjectInputSchema.safeParse(base).success).toBe(true);
    rejects(CreateProjectInputSchema, { ...base, repo: { url: 'https://x.test/r.git', path: '/r' } });
    rejects(CreateProjectInputSchema, { ...base, repo: {} });
    rejects(CreateProjectInputSchema, { ...base, repo: { url: 'ftp://x' } });
    rejects(CreateProjectInputSchema, { ...base, repo: { path: '/r', defaultBranch: 'a..b' } });
    rejects(CreateProjectInputSchema, { ...base, schedule: { cron: '0 3 * * *' } });
    rejects(CreateProjectInputSchema, { ...base, allowedCommands: ['npm test; curl evil'] });
    rejects(CreateProjectInputSchema, { ...base, contextFiles: ['../secrets'] });
    // No credential in a URL (it would be stored and written to disk); apiUrl only with a url.
    rejects(CreateProjectInputSchema, { ...base, repo: { url: 'https://x-access-token:ghp_abc@github.com/acme/shop.git' } });
    rejects(CreateProjectInputSchema, { ...base, repo: { path: '/r', apiUrl: 'https://ghe.test/api/v3' } });
    rejects(CreateProjectInputSchema, { ...base, repo: { url: 'https://ghe.test/a/b.git', apiUrl: 'https://user:pw@ghe.test/api/v3' } });
    expect(CreateProjectInputSchema.safeParse({ ...base, repo: { url: 'https://ghe.test/a/b.git', apiUrl: 'https://ghe.test/api/v3' } }).success).toBe(true);
    expect(CreateProjectInputSchema.safeParse({ ...base, repo: { url: 'https://deploy@git.test/a/b.git' } }).success).toBe(true);
    rejects(CreateProjectInputSchema, { ...base, autonomyLevel: 6 });
    rejects(CreateProjectInputSchema, { ...base, maxParallelTasks: 0 });
    rejects(CreateProjectInputSchema, { ...base, name: 'x'.repeat(101) });
  });

  it('settings patch: at least one field, no unknown roles, partial schedule allowed', () => {
    rejects(UpdateProjectSettingsInputSchema, {});
    rejects(UpdateProjectSettingsInputSchema, { expectedVersion: 3 });
    rejects(UpdateProjectSettingsInputSchema, { team: { wizard: 1 } });
    expect(UpdateProjectSettingsInputSchema.parse({ schedule: { enabled: true } })).toEqual({ schedule: { enabled: true } });
  });

  it('goal input gets defaults and bounded text', () => {
    expect(CreateGoalInputSchema.parse({ projectId, title: '  fix it  ' })).toEqual({
      projectId,
      title: 'fix it',
      description: '',
      source: 'api',
      priority: 'MEDIUM',
      labels: [],
    });
    rejects(CreateGoalInputSchema, { projectId, title: '' });
    rejects(CreateGoalInputSchema, { projectId, title: 'x'.repeat(201) });
    rejects(CreateGoalInputSchema, { projectId, title: 't', description: 'x'.repeat(20_001) });
    rejects(CreateGoalInputSchema, { projectId, title: 't', labels: Array.from({ length: 21 }, (_, i) => `l${i}`) });
    rejects(CreateGoalInputSchema, { projectId, title: 't', priority: 'URGENT' });
    rejects(CreateGoalInputSchema, { projectId, title: 't', source: 'email' });
  });

  it('tasks: commit shas, relative paths and statuses are checked', () => {
    rejects(TaskSchema, { ...task, outputs: { commits: ['not-a-sha'] } });
    rejects(TaskSchema, { ...task, outputs: { filesChanged: ['/etc/passwd'] } });
    rejects(TaskSchema, { ...task, status: 'DONE' });
    rejects(TaskSchema, { ...task, modelTier: 8 });
  });

  it('events: known types only, bounded data', () => {
    const event = { eventId: newUlid(), type: 'Goal.Created', at, actor: { kind: 'user', id: 'alice' }, correlationId: 'c', projectId, seq: 1, data: {} };
    expect(EventEnvelopeSchema.safeParse(event).success).toBe(true);
    expect(EVENT_TYPES).toContain('Finding.Detected');
    rejects(EventEnvelopeSchema, { ...event, type: 'Goal.Exploded' });
    rejects(EventEnvelopeSchema, { ...event, seq: 0 });
    rejects(EventEnvelopeSchema, { ...event, data: { blob: 'x'.repeat(MAX_EVENT_DATA_BYTES) } });
  });
});
