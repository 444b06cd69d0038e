// POST /webhooks/github through the router to the real handler, with the store on dynalite and the
// GitHub adapter talking to a fake GitHub REST API on 127.0.0.1: signatures, one goal per delivery,
// who may hand work to the team, the comment back, the issue's finding kept in step with its goal so
// work detection starts no second one, and pull request outcomes feeding learning.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId, parsePlan, tasksFromPlan, type AgentRun, type Project } from '../../lib/domain/index';
import { findingOfIssue } from '../../lib/detection/detectors/issues';
import { LocalSecrets } from '../../lib/local/secrets';
import { createRepositoryHost } from '../../lib/ports/repository/index';
import { goalStream, projectStream } from '../../lib/store/index';
import { expectError, request, startApi, type ApiTestContext } from '../api/support';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github';

const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';
const TOKEN = 'github_pat_11WEBHOOK0test0token0000000000';
const REPO_HTML = 'https://github.example.test/acme/shop';

let api: ApiTestContext;
let github: FakeGitHub;
let workspaceRoot: string;
let project: Project;

beforeAll(async () => {
  github = await startFakeGitHub({
    tokens: [TOKEN],
    repositories: [{ owner: 'acme', name: 'shop' }],
    collaborators: { alice: 'write', mallory: 'read', tess: 'triage' },
    // What the issue detector lists: the issue the deliveries below are about.
    issues: [{ number: 7, owner: 'acme', repo: 'shop', state: 'open', title: 'Add rate limiting to login', body: 'Five attempts a minute per IP.', labels: ['cahoots', 'bug'] }],
  });
  workspaceRoot = mkdtempSync(join(tmpdir(), 'cahoots-webhook-'));
});

afterAll(async () => {
  await github.close();
  rmSync(workspaceRoot, { recursive: true, force: true });
});

beforeEach(async () => {
  api = await startApi();
  const secrets = new LocalSecrets({ env: { CAHOOTS_SECRET_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, CAHOOTS_SECRET_GITHUB_TOKEN: TOKEN } });
  api.deps.secrets = secrets;
  api.deps.repositories = createRepositoryHost({ secrets, workspaceRoot });
  // The project is stored directly: creating it through the API would check the repository over git.
  project = await api.store.projects.create({ name: 'shop', repo: { url: `${REPO_HTML}.git`, apiUrl: github.apiUrl } });
  github.comments.length = 0;
});

afterEach(async () => {
  await api.stop();
});

const repository = { full_name: 'acme/shop', html_url: REPO_HTML, clone_url: `${REPO_HTML}.git` };
const issue = {
  number: 7,
  title: 'Add rate limiting to login',
  body: 'Five attempts a minute per IP.',
  html_url: `${REPO_HTML}/issues/7`,
  user: { login: 'carol' },
  labels: [{ name: 'cahoots' }, { name: 'bug' }],
};

function labeled(label: string, by = 'alice') {
  return { action: 'labeled', issue, label: { name: label }, repository, sender: { login: by, type: 'User' } };
}

function commented(body: string, by = 'alice', type = 'User') {
  return {
    action: 'created',
    issue,
    comment: { id: 41, body, html_url: `${REPO_HTML}/issues/7#issuecomment-41`, user: { login: by, type } },
    repository,
    sender: { login: by, type },
  };
}

function closedPullRequest(goalId: string, merged: boolean, head = 'acme/shop') {
  return {
    action: 'closed',
    number: 12,
    pull_request: {
      number: 12,
      html_url: `${REPO_HTML}/pull/12`,
      merged,
      merged_by: merged ? { login: 'alice' } : null,
      head: { ref: `cahoots/${goalId}`, sha: 'abc123', repo: { full_name: head } },
      base: { ref: 'main', repo: { full_name: 'acme/shop' } },
    },
    repository,
    sender: { login: 'alice', type: 'User' },
  };
}

let deliveries = 0;

async function deliver(event: string, payload: unknown, options: { deliveryId?: string; signature?: string | null; secret?: string } = {}) {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-GitHub-Event': event,
    'X-GitHub-Delivery': options.deliveryId ?? `d0e1f2a3-0000-4000-8000-${String(++deliveries).padStart(12, '0')}`,
  };
  if (options.signature !== null) headers['X-Hub-Signature-256'] = options.signature ?? (await sign(options.secret ?? WEBHOOK_SECRET, body));
  // Unsigned by IAM: GitHub has no AWS credentials.
  return request('POST', '/webhooks/github', { rawBody: body, headers, principal: null });
}

async function goalsOfProject() {
  return (await api.store.goals.listByProject(project.id)).items;
}

async function projectEvents() {
  return (await api.store.events.readEvents(projectStream(project.id), 0, 100)).events;
}

describe('signatures', () => {
  it('turns away a delivery signed with another secret, or not signed, with 401 and stores nothing', async () => {
    const forged = await deliver('issues', labeled('cahoots'), { secret: 'not-the-secret' });
    expectError(forged, 401, 'InvalidSignature');
    const unsigned = await deliver('issues', labeled('cahoots'), { signature: null });
    expectError(unsigned, 401, 'InvalidSignature');
    const malformed = await deliver('issues', labeled('cahoots'), { signature: 'sha1=deadbeef' });
    expectError(malformed, 401, 'InvalidSignature');

    expect(await goalsOfProject()).toEqual([]);
    expect(api.pipeline.starts).toEqual([]);
    expect(github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    // Not even an idempotency claim: a forged delivery id cannot block the real one.
    const accepted = await deliver('issues', labeled('cahoots'), { deliveryId: 'd0e1f2a3-0000-4000-8000-feedfeedfeed' });
    expect(accepted.status).toBe(202);
  });

  it('refuses a body changed after signing', async () => {
    const body = JSON.stringify(labeled('cahoots'));
    const signature = await sign(WEBHOOK_SECRET, body);
    const tampered = body.replace('alice', 'mallo');
    const response = await request('POST', '/webhooks/github', {
      rawBody: tampered,
      headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'issues', 'X-GitHub-Delivery': 'aaaa-bbbb', 'X-Hub-Signature-256': signature },
      principal: null,
    });
    expectError(response, 401, 'InvalidSignature');
    expect(await goalsOfProject()).toEqual([]);
  });

  it('answers 503 when the cell has no webhook secret to verify with', async () => {
    api.deps.secrets = new LocalSecrets({ env: {} });
    expectError(await deliver('issues', labeled('cahoots')), 503, 'WebhookNotConfigured');
    expect(await goalsOfProject()).toEqual([]);
  });
});

describe('issues become goals', () => {
  it("makes one goal of an issue labelled with the project's label, starts it and says so on the issue", async () => {
    const response = await deliver('issues', labeled('Cahoots'), { deliveryId: '11111111-2222-4333-8444-555555555555' });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body).toMatchObject({ outcome: 'goal-created', deliveryId: '11111111-2222-4333-8444-555555555555' });

    const goals = await goalsOfProject();
    expect(goals).toHaveLength(1);
    const [goal] = goals;
    expect(goal).toMatchObject({ source: 'webhook', sourceRef: issue.html_url, title: issue.title, labels: ['github-issue'] });
    expect(goal!.description).toContain(issue.html_url);
    expect(goal!.description).toContain('Five attempts a minute per IP.');
    expect(response.body.goalIds).toEqual([goal!.id]);
    expect(api.pipeline.starts).toEqual([{ goalId: goal!.id, projectId: project.id }]);
    const [created] = (await api.store.events.readEvents(goalStream(goal!.id), 0, 10)).events;
    expect(created).toMatchObject({ type: 'Goal.Created', actor: { kind: 'webhook', id: 'github:alice' }, data: { source: 'webhook' } });

    expect(github.comments).toEqual([expect.objectContaining({ owner: 'acme', repo: 'shop', issueNumber: 7 })]);
    expect(github.comments[0]!.body).toContain(goal!.id);
    expect(github.requests.find((r) => r.method === 'POST')?.credential).toBe(TOKEN);
  });

  it('handles a redelivery of the same delivery id once: same answer, no second goal or comment', async () => {
    const deliveryId = '99999999-2222-4333-8444-555555555555';
    const first = await deliver('issues', labeled('cahoots'), { deliveryId });
    const second = await deliver('issues', labeled('cahoots'), { deliveryId });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(await goalsOfProject()).toHaveLength(1);
    expect(api.pipeline.starts).toHaveLength(1);
    expect(github.comments).toHaveLength(1);
  });

  it("marks the issue's finding in progress with the goal, under the fingerprint the issue detector gives it", async () => {
    const response = await deliver('issues', labeled('cahoots'));
    const [goalId] = response.body.goalIds as string[];
    // What the issue detector would file on its next run: the same fingerprint, already in progress,
    // so detection starts no second goal for it.
    const listing = await api.deps.repositories!.listOpenIssues(project, 'cahoots');
    expect(listing.supported && listing.issues.map((open) => findingOfIssue(listing.repository, open).fingerprint)).toEqual(['issue:acme/shop#7']);
    const finding = await api.store.findings.get(project.id, 'issue:acme/shop#7');
    expect(finding).toMatchObject({ detector: 'issue', kind: 'problem', status: 'in-progress', goalId, severity: 'high', location: { url: issue.html_url } });
    expect((await api.store.findings.list(project.id, { status: 'open' })).items).toEqual([]);

    // A command on the same issue is a second request and a second goal; the finding stays with the first.
    expect((await deliver('issue_comment', commented('/cahoots log the attempts too'))).body).toMatchObject({ outcome: 'goal-created' });
    expect(await goalsOfProject()).toHaveLength(2);
    expect(await api.store.findings.get(project.id, 'issue:acme/shop#7')).toMatchObject({ status: 'in-progress', goalId, seenCount: 2 });
  });

  it('files no finding for a project whose detection does not watch issues', async () => {
    await api.store.projects.updateSettings(project.id, { detection: { detectors: ['todo'], maxGoalsPerDay: 1, alarmNames: [] } });
    expect((await deliver('issues', labeled('cahoots'))).body).toMatchObject({ outcome: 'goal-created' });
    expect(await api.store.findings.find(project.id, 'issue:acme/shop#7')).toBeUndefined();
  });

  it('ignores other labels, other events and repositories no project works on', async () => {
    expect((await deliver('issues', labeled('bug'))).body).toMatchObject({ outcome: 'ignored' });
    expect((await deliver('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).body).toMatchObject({ outcome: 'ignored' });
    expect((await deliver('issues', { ...labeled('cahoots'), action: 'opened' })).body).toMatchObject({ outcome: 'ignored' });
    const elsewhere = { ...labeled('cahoots'), repository: { full_name: 'acme/other', html_url: 'https://github.example.test/acme/other' } };
    expect((await deliver('issues', elsewhere)).body).toMatchObject({ outcome: 'ignored', reason: 'no project works on acme/other' });
    expect(await goalsOfProject()).toEqual([]);
  });

  it('uses a changed issue label', async () => {
    await api.store.projects.updateSettings(project.id, { issueLabel: 'ai-team' });
    expect((await deliver('issues', labeled('cahoots'))).body).toMatchObject({ outcome: 'ignored' });
    expect((await deliver('issues', labeled('AI-team'))).body).toMatchObject({ outcome: 'goal-created' });
  });

  it('makes a goal of a /cahoots comment by someone with write access, with the instructions', async () => {
    const response = await deliver('issue_comment', commented('/cahoots keep the limit configurable\nand add a test'));
    expect(response.body).toMatchObject({ outcome: 'goal-created' });
    const [goal] = await goalsOfProject();
    expect(goal!.sourceRef).toBe(`${REPO_HTML}/issues/7#issuecomment-41`);
    expect(goal!.description).toContain('Instructions from @alice:\nkeep the limit configurable\nand add a test');
  });

  it('ignores comments that are not a command, and commands from bots', async () => {
    expect((await deliver('issue_comment', commented('I think /cahoots could do this'))).body).toMatchObject({ outcome: 'ignored' });
    expect((await deliver('issue_comment', commented('/cahootsify'))).body).toMatchObject({ outcome: 'ignored' });
    expect((await deliver('issue_comment', commented('/cahoots go', 'cahoots[bot]', 'Bot'))).body).toMatchObject({ outcome: 'ignored' });
    expect(await goalsOfProject()).toEqual([]);
  });

  it('turns away a command from someone without write access, with the reason in the project event log', async () => {
    const byReader = await deliver('issue_comment', commented('/cahoots do it', 'mallory'));
    expect(byReader.status).toBe(202);
    expect(byReader.body).toMatchObject({ outcome: 'ignored' });
    expect(byReader.body.reason).toContain('@mallory has no write access');
    // Triage may label, but labelling is not enough to spend the team's budget.
    expect((await deliver('issues', labeled('cahoots', 'tess'))).body).toMatchObject({ outcome: 'ignored' });
    // Not a collaborator at all: GitHub answers 404.
    expect((await deliver('issue_comment', commented('/cahoots do it', 'stranger'))).body).toMatchObject({ outcome: 'ignored' });

    expect(await goalsOfProject()).toEqual([]);
    expect(api.pipeline.starts).toEqual([]);
    expect(github.comments).toEqual([]);
    const ignored = (await projectEvents()).filter((event) => event.type === 'Webhook.Ignored');
    expect(ignored.map((event) => event.data.login)).toEqual(['mallory', 'tess', 'stranger']);
    expect(ignored[0]).toMatchObject({ actor: { kind: 'webhook', id: 'github:mallory' }, data: { issue: 7, event: 'issue_comment.created' } });
    expect(String(ignored[0]!.data.reason)).toContain('no write access');
  });

  it('refuses a signed delivery whose payload is not what GitHub sends for the event', async () => {
    const broken = { ...labeled('cahoots'), issue: { ...issue, number: 'seven' } };
    expectError(await deliver('issues', broken), 400, 'ValidationFailed');
    expect(await goalsOfProject()).toEqual([]);
  });
});

describe('pull requests become outcomes', () => {
  const MODEL = 'bedrock:anthropic.claude-haiku';

  /** A goal whose one developer task succeeded on MODEL, as Deliver leaves it. */
  async function deliveredGoal() {
    const goal = await api.store.goals.create({ projectId: project.id, title: 'Rate limiting' });
    await api.store.goals.transition(goal.id, 'RUNNING', { planSummary: 'a token bucket per IP' });
    const plan = parsePlan({ summary: 'one task', risk: 'low', tasks: [{ id: 't1', role: 'developer', title: 'limiter', spec: 'add it' }] });
    const [task] = await api.store.tasks.createMany(tasksFromPlan(plan, { id: goal.id, projectId: project.id }));
    const runId = newId('agentRun');
    await api.store.tasks.claim(goal.id, task!.id, runId);
    await api.store.tasks.transition(goal.id, task!.id, 'SUCCEEDED');
    const run: AgentRun = {
      id: runId,
      projectId: project.id,
      goalId: goal.id,
      taskId: task!.id,
      role: 'developer',
      attempt: 1,
      modelTier: 0,
      modelCalls: [{ model: MODEL, tokens: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0 }, costUsd: 0.01, latencyMs: 12 }],
      modelCallCount: 1,
      tokens: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0 },
      costUsd: 0.01,
      toolCalls: { total: 0, failed: 0, byName: {} },
      outcome: 'succeeded',
      startedAt: '2030-01-01T00:00:00.000Z',
      endedAt: '2030-01-01T00:00:05.000Z',
      durationMs: 5000,
    };
    await api.store.agentRuns.record(run);
    await api.store.goals.transition(goal.id, 'SUCCEEDED');
    return { goal, task: task! };
  }

  async function stat(kind: string) {
    return (await api.store.routingStats.list(project.id)).find((s) => s.role === 'developer' && s.kind === kind && s.model === MODEL);
  }

  it('records a merged pull request as accepted work: event, a success for the model, a lesson', async () => {
    const { goal, task } = await deliveredGoal();
    const response = await deliver('pull_request', closedPullRequest(goal.id, true));
    expect(response.body).toMatchObject({ outcome: 'outcome-recorded', goalIds: [goal.id] });

    const events = (await api.store.events.readEvents(goalStream(goal.id), 0, 50)).events;
    expect(events.filter((e) => e.type === 'Delivery.Merged')).toEqual([
      expect.objectContaining({ actor: { kind: 'webhook', id: 'github:alice' }, data: expect.objectContaining({ pullRequest: 12, merged: true, tasksCounted: 1 }) }),
    ]);
    expect(await stat(task.kind)).toMatchObject({ attempts: 1, successes: 1, costUsd: 0 });
    const lessons = (await api.store.lessons.list(project.id)).items;
    expect(lessons).toEqual([expect.objectContaining({ outcome: 'succeeded', sourceGoalId: goal.id, tags: ['pull-request', 'merged', 'accepted'] })]);
    expect(lessons[0]!.text).toContain('a token bucket per IP');
    // The goal itself has ended already; the outcome does not change it.
    expect((await api.store.goals.get(goal.id)).status).toBe('SUCCEEDED');
  });

  it('records a pull request closed unmerged as a failure, once even when closed again', async () => {
    const { goal, task } = await deliveredGoal();
    expect((await deliver('pull_request', closedPullRequest(goal.id, false))).body).toMatchObject({ outcome: 'outcome-recorded' });
    // Reopened and closed again: a new delivery, the same outcome, counted once.
    expect((await deliver('pull_request', closedPullRequest(goal.id, false))).body).toMatchObject({ outcome: 'outcome-recorded' });

    const events = (await api.store.events.readEvents(goalStream(goal.id), 0, 50)).events;
    expect(events.filter((e) => e.type === 'Delivery.Closed')).toHaveLength(1);
    expect(await stat(task.kind)).toMatchObject({ attempts: 1, successes: 0 });
    const lessons = (await api.store.lessons.list(project.id)).items;
    expect(lessons).toEqual([expect.objectContaining({ outcome: 'failed', tags: ['pull-request', 'closed', 'rejected'] })]);
  });

  it('ignores pull requests that are not from a Cahoots goal branch of this repository', async () => {
    const { goal } = await deliveredGoal();
    const fromFork = await deliver('pull_request', closedPullRequest(goal.id, true, 'mallory/shop'));
    expect(fromFork.body).toMatchObject({ outcome: 'ignored' });
    const other = closedPullRequest(goal.id, true);
    other.pull_request.head.ref = 'feature/login';
    expect((await deliver('pull_request', other)).body).toMatchObject({ outcome: 'ignored' });
    const unknownGoal = await deliver('pull_request', closedPullRequest(newId('goal'), true));
    expect(unknownGoal.body).toMatchObject({ outcome: 'ignored' });
    expect(await api.store.routingStats.list(project.id)).toEqual([]);
    expect((await api.store.lessons.list(project.id)).items).toEqual([]);
  });
});
