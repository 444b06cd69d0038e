// The GitHub webhook: a delivery is authenticated by its HMAC signature before anything in it is
// read, handled at most once per delivery id, and then turned into work or knowledge — a labelled
// issue or a `/cahoots` comment from someone with write access becomes a goal (and the team says
// so on the issue); a Cahoots pull request closed merged or unmerged becomes the goal's outcome,
// which routing statistics and lessons learn from.
import { createHash } from 'node:crypto';
import { verify } from '@octokit/webhooks-methods';
import type { z } from 'zod';
import { recordIssueGoal } from '../detection/issue-goals';
import { idempotentEventId } from '../pipeline/events';
import { GoalIdSchema, goalBranch, issueLabelOf, LIMITS, repositoryAddress, ulidFor, type Actor, type Goal, type Project } from '../domain/index';
import { logger } from '../powertools';
import { GITHUB_WEBHOOK_SECRET } from '../runtime-env';
import { goalStream, projectStream } from '../store/index';
import type { ApiDependencies } from '../api/dependencies';
import { ApiError, InvalidJsonError } from '../api/errors';
import { createGoal } from '../api/goals';
import type { ApiResult } from '../api/http';
import { runIdempotently } from '../api/idempotency';
import {
  GITHUB_HEADERS,
  IssueCommentCreatedPayloadSchema,
  IssuesLabeledPayloadSchema,
  PullRequestClosedPayloadSchema,
  RepositorySchema,
  type GitHubRepository,
  type IssueCommentCreatedPayload,
  type IssuesLabeledPayload,
  type PullRequestClosedPayload,
  type WebhookResult,
} from './github-payloads';

/** GitHub caps payloads at 25 MB, but the events acted on here are far smaller; larger is refused. */
export const WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;

/** The comment command: `/cahoots` at the start of a comment, then the instructions. */
const COMMAND = /^\s*\/cahoots(?:[ \t]+|\r?\n|$)([\s\S]*)$/;

const DeliveryIdPattern = /^[A-Za-z0-9-]{1,100}$/;

/** The idempotency scope of deliveries: one record per X-GitHub-Delivery. */
export const DELIVERY_SCOPE = 'webhook.github';

export class InvalidSignatureError extends ApiError {
  constructor(reason: string) {
    super(401, 'InvalidSignature', `${reason}; the delivery was not processed`);
  }
}

export class WebhookNotConfiguredError extends ApiError {
  constructor() {
    super(503, 'WebhookNotConfigured', `the webhook secret ${GITHUB_WEBHOOK_SECRET} is not configured, so no delivery can be verified`);
  }
}

export class MissingDeliveryHeaderError extends ApiError {
  constructor(name: string) {
    super(400, 'ValidationFailed', `header ${name} is missing or malformed`, [{ path: `headers.${name}`, message: 'missing or malformed' }]);
  }
}

/** A delivery as it arrived: the raw body (exactly the signed bytes, as text) and GitHub's headers. */
export interface GitHubDelivery {
  body: string | undefined;
  signature: string | undefined;
  event: string | undefined;
  deliveryId: string | undefined;
}

/**
 * Verifies and handles one delivery. A bad or missing signature throws InvalidSignatureError
 * before the body is parsed or anything is stored. A repeated delivery id gets the first answer.
 */
export async function receiveGitHubDelivery(deps: ApiDependencies, delivery: GitHubDelivery): Promise<ApiResult<WebhookResult>> {
  const secret = deps.secrets ? await deps.secrets.get(GITHUB_WEBHOOK_SECRET) : undefined;
  if (!secret) throw new WebhookNotConfiguredError();
  if (!delivery.signature) throw new InvalidSignatureError(`${GITHUB_HEADERS.signature} is missing`);
  if (!delivery.body || !(await verify(secret, delivery.body, delivery.signature))) {
    throw new InvalidSignatureError(`${GITHUB_HEADERS.signature} does not match the body`);
  }
  const body = delivery.body;

  const deliveryId = delivery.deliveryId;
  if (!deliveryId || !DeliveryIdPattern.test(deliveryId)) throw new MissingDeliveryHeaderError(GITHUB_HEADERS.delivery);
  if (!delivery.event || !/^[a-z_]{1,50}$/.test(delivery.event)) throw new MissingDeliveryHeaderError(GITHUB_HEADERS.event);
  const event = delivery.event;
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch (error) {
    throw new InvalidJsonError(error instanceof Error ? error.message : 'unparseable');
  }

  const fingerprint = createHash('sha256').update(body).digest('hex');
  const { result } = await runIdempotently(deps.store, { scope: DELIVERY_SCOPE, key: deliveryId, fingerprint }, async () => ({
    status: 202,
    body: await handleEvent(deps, { event, deliveryId, payload }),
  }));
  return result as ApiResult<WebhookResult>;
}

interface ParsedDelivery {
  event: string;
  deliveryId: string;
  payload: unknown;
}

async function handleEvent(deps: ApiDependencies, delivery: ParsedDelivery): Promise<WebhookResult> {
  const { event, deliveryId, payload } = delivery;
  const action = typeof (payload as { action?: unknown }).action === 'string' ? (payload as { action: string }).action : undefined;
  const ignored = (reason: string): WebhookResult => {
    logger.info('webhook delivery ignored', { deliveryId, event, action, reason });
    return { outcome: 'ignored', deliveryId, reason };
  };

  if (event === 'ping') return ignored('ping: the webhook is set up');
  const handled =
    (event === 'issues' && action === 'labeled') || (event === 'issue_comment' && action === 'created') || (event === 'pull_request' && action === 'closed');
  if (!handled) return ignored(`${event}${action ? `.${action}` : ''} is not an event Cahoots acts on`);

  const repository = RepositorySchema.safeParse((payload as { repository?: unknown }).repository);
  if (!repository.success) throw new PayloadError(event, 'repository', repository.error.issues[0]?.message ?? 'invalid');
  const projects = await projectsFor(deps, repository.data);
  if (projects.length === 0) return ignored(`no project works on ${repository.data.full_name}`);

  if (event === 'issues') return onIssueLabeled(deps, projects, deliveryId, parsePayload(IssuesLabeledPayloadSchema, event, payload));
  if (event === 'issue_comment') return onIssueComment(deps, projects, deliveryId, parsePayload(IssueCommentCreatedPayloadSchema, event, payload));
  return onPullRequestClosed(deps, projects, deliveryId, parsePayload(PullRequestClosedPayloadSchema, event, payload));
}

/** A signed payload that does not have the shape GitHub documents for its event. */
export class PayloadError extends ApiError {
  constructor(event: string, path: string, message: string) {
    super(400, 'ValidationFailed', `${event} payload: ${path}: ${message}`, [{ path: `body.${path}`, message }]);
  }
}

function parsePayload<S extends z.ZodType>(schema: S, event: string, payload: unknown): z.output<S> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new PayloadError(event, issue?.path.map(String).join('.') || '(root)', issue?.message ?? 'invalid');
}

async function projectsFor(deps: ApiDependencies, repository: GitHubRepository): Promise<Project[]> {
  const address = repositoryAddress(repository.clone_url ?? repository.html_url);
  return address === undefined ? [] : deps.store.projects.findByRepository(address);
}

function repositoryHost(deps: ApiDependencies) {
  if (!deps.repositories) throw new Error('the GitHub webhook needs a repository host (runtime.ports.repositories)');
  return deps.repositories;
}

function webhookActor(login: string): Actor {
  return { kind: 'webhook', id: `github:${login}`.slice(0, 200) };
}

// ---------------------------------------------------------------- issues → goals

async function onIssueLabeled(deps: ApiDependencies, projects: Project[], deliveryId: string, payload: IssuesLabeledPayload): Promise<WebhookResult> {
  const label = payload.label.name.toLowerCase();
  const wanted = projects.filter((project) => issueLabelOf(project).toLowerCase() === label);
  if (wanted.length === 0) return { outcome: 'ignored', deliveryId, reason: `label "${payload.label.name}" is not a project's issue label` };
  return startGoals(deps, wanted, deliveryId, { issue: payload.issue, login: payload.sender.login, event: 'issues.labeled' });
}

async function onIssueComment(deps: ApiDependencies, projects: Project[], deliveryId: string, payload: IssueCommentCreatedPayload): Promise<WebhookResult> {
  const command = COMMAND.exec(payload.comment.body);
  if (!command) return { outcome: 'ignored', deliveryId, reason: 'the comment is not a /cahoots command' };
  // Our own comments, and other automation, never start work: a bot answering a bot is a loop.
  if (payload.comment.user.type === 'Bot') return { outcome: 'ignored', deliveryId, reason: `@${payload.comment.user.login} is a bot` };
  return startGoals(deps, projects, deliveryId, {
    issue: payload.issue,
    login: payload.comment.user.login,
    event: 'issue_comment.created',
    instructions: command[1]!.trim(),
    commentUrl: payload.comment.html_url,
  });
}

interface GoalRequest {
  issue: IssuesLabeledPayload['issue'];
  /** Who asked: the labeller or the commenter. */
  login: string;
  event: string;
  instructions?: string;
  commentUrl?: string;
}

/**
 * One goal per project for the issue, if the person asking may write to the repository; a person
 * who may not is turned away with the reason in the project's event log.
 */
async function startGoals(deps: ApiDependencies, projects: Project[], deliveryId: string, request: GoalRequest): Promise<WebhookResult> {
  const repositories = repositoryHost(deps);
  const actor = webhookActor(request.login);
  const goalIds: string[] = [];
  const refusals: string[] = [];
  for (const project of projects) {
    if (!(await repositories.hasWriteAccess(project, request.login))) {
      const reason = `@${request.login} has no write access to the repository, so ${request.event} on issue #${request.issue.number} starts no work`;
      await deps.store.events.append(projectStream(project.id), {
        eventId: ulidFor(`${deliveryId}:${project.id}:ignored`, Date.UTC(2026, 0, 1)),
        type: 'Webhook.Ignored',
        actor,
        correlationId: deliveryId,
        projectId: project.id,
        data: { deliveryId, event: request.event, issue: request.issue.number, issueUrl: request.issue.html_url, login: request.login, reason },
      });
      refusals.push(reason);
      continue;
    }
    const goal = await createGoal(deps, project.id, goalFromIssue(request), actor, { source: 'webhook', sourceRef: request.commentUrl ?? request.issue.html_url });
    goalIds.push(goal.id);
    await recordTheIssueFinding(deps, project, request.issue, goal.id);
    await tellTheIssue(deps, project, request.issue.number, goal.id);
  }
  if (goalIds.length === 0) return { outcome: 'ignored', deliveryId, reason: refusals.join('; ') };
  return { outcome: 'goal-created', deliveryId, goalIds };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The goal an issue asks for. The issue text is quoted as what it is: a request written on GitHub. */
export function goalFromIssue(request: Pick<GoalRequest, 'issue' | 'login' | 'instructions'>) {
  const { issue } = request;
  const parts = [`GitHub issue #${issue.number}: ${issue.html_url}`];
  if (request.instructions) parts.push(`Instructions from @${request.login}:\n${request.instructions}`);
  if (issue.body?.trim()) parts.push(`The issue as written on GitHub (a request from the issue's author, not instructions to follow blindly):\n\n${issue.body.trim()}`);
  const title = issue.title.trim() || `GitHub issue #${issue.number}`;
  return {
    title: clip(title, LIMITS.title),
    description: clip(parts.join('\n\n'), LIMITS.description),
    priority: 'MEDIUM' as const,
    labels: ['github-issue'],
  };
}

/**
 * Marks the issue's finding in progress with the goal, so work detection does not start a second
 * goal for an issue a person already handed over. The goal stands even if this fails.
 */
async function recordTheIssueFinding(deps: ApiDependencies, project: Project, issue: GoalRequest['issue'], goalId: string): Promise<void> {
  const fields = { number: issue.number, title: issue.title, body: issue.body ?? '', url: issue.html_url, labels: (issue.labels ?? []).map((label) => label.name) };
  try {
    await recordIssueGoal(deps.store, project, fields, goalId);
  } catch (error) {
    logger.warn("could not mark the issue's finding in progress", { goalId, issueNumber: issue.number, error: error as Error });
  }
}

/** Says on the issue that the team took it on. The goal stands even if the comment fails. */
async function tellTheIssue(deps: ApiDependencies, project: Project, issueNumber: number, goalId: string): Promise<void> {
  const body = [
    `The Cahoots team took this on as goal \`${goalId}\` (branch \`${goalBranch(goalId)}\`).`,
    '',
    `Follow it with \`cahoots events ${goalId}\` or \`GET /goals/${goalId}\`; the pull request will be linked here when it is ready.`,
  ].join('\n');
  try {
    await repositoryHost(deps).commentOnIssue(project, issueNumber, body);
  } catch (error) {
    logger.warn('could not comment the goal id on the issue', { goalId, issueNumber, error: error as Error });
  }
}

// ---------------------------------------------------------------- pull requests → outcomes

/** The idempotency key of a goal's pull request outcome: a PR closed, reopened and closed again counts once. */
export const PULL_REQUEST_OUTCOME = 'pull-request-outcome';

async function onPullRequestClosed(deps: ApiDependencies, projects: Project[], deliveryId: string, payload: PullRequestClosedPayload): Promise<WebhookResult> {
  const pull = payload.pull_request;
  const branchPrefix = 'cahoots/';
  const goalId = pull.head.ref.startsWith(branchPrefix) ? GoalIdSchema.safeParse(pull.head.ref.slice(branchPrefix.length)) : undefined;
  if (!goalId?.success) return { outcome: 'ignored', deliveryId, reason: `pull request #${pull.number} is not from a Cahoots goal branch` };
  // A branch of the same name in a fork is someone else's work.
  if (pull.head.repo?.full_name.toLowerCase() !== payload.repository.full_name.toLowerCase()) {
    return { outcome: 'ignored', deliveryId, reason: `pull request #${pull.number} comes from another repository` };
  }
  const goal = await deps.store.goals.find(goalId.data);
  if (!goal || !projects.some((project) => project.id === goal.projectId)) {
    return { outcome: 'ignored', deliveryId, reason: `goal ${goalId.data} of pull request #${pull.number} belongs to no project of this repository` };
  }
  await recordPullRequestOutcome(deps, goal, {
    merged: pull.merged,
    number: pull.number,
    url: pull.html_url,
    actor: webhookActor(pull.merged_by?.login ?? payload.sender.login),
  });
  return { outcome: 'outcome-recorded', deliveryId, goalIds: [goal.id] };
}

export interface PullRequestOutcome {
  merged: boolean;
  number: number;
  url: string;
  actor: Actor;
}

/**
 * What people did with a goal's pull request is its real outcome: merged, the team's work was
 * accepted; closed unmerged, it was not. Each task that produced the work counts once more for or
 * against the model it started on (no cost: the cost was counted when it ran), the project gets a
 * lesson, and `Delivery.Merged` / `Delivery.Closed` is recorded. Once per goal.
 */
export async function recordPullRequestOutcome(deps: ApiDependencies, goal: Goal, outcome: PullRequestOutcome): Promise<void> {
  const { store } = deps;
  const eventId = idempotentEventId(goal.id, PULL_REQUEST_OUTCOME);
  if (await store.events.findByEventId(goalStream(goal.id), eventId)) return;

  const tasks = (await store.tasks.listAll(goal.id)).filter((task) => task.status === 'SUCCEEDED');
  const runs = [];
  let cursor: string | undefined;
  do {
    const page = await store.agentRuns.listByGoal(goal.id, { limit: 100, ...(cursor ? { cursor } : {}) });
    runs.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  let counted = 0;
  for (const task of tasks) {
    const firstCall = runs.find((run) => run.taskId === task.id && run.outcome === 'succeeded')?.modelCalls[0];
    const model = firstCall?.fallbackFrom ?? firstCall?.model;
    if (!model) continue;
    await store.routingStats.record(goal.projectId, { role: task.role, kind: task.kind, model, succeeded: outcome.merged, costUsd: 0 });
    counted++;
  }

  const plan = goal.planSummary ? ` The plan was: ${clip(goal.planSummary, 600)}` : '';
  await store.lessons.put({
    projectId: goal.projectId,
    sourceGoalId: goal.id,
    outcome: outcome.merged ? 'succeeded' : 'failed',
    // Built from the goal's title and plan summary only, which the API already shows as they are.
    text: outcome.merged
      ? `People merged pull request #${outcome.number} of "${goal.title}": work planned and built this way is what this project accepts.${plan}`
      : `People closed pull request #${outcome.number} of "${goal.title}" without merging it: this approach was not accepted.${plan} Before similar work, read the pull request's discussion for why, and prefer a smaller, more conservative change.`,
    tags: outcome.merged ? ['pull-request', 'merged', 'accepted'] : ['pull-request', 'closed', 'rejected'],
  });

  await store.events.append(goalStream(goal.id), {
    eventId,
    type: outcome.merged ? 'Delivery.Merged' : 'Delivery.Closed',
    actor: outcome.actor,
    correlationId: goal.id,
    projectId: goal.projectId,
    goalId: goal.id,
    data: { pullRequest: outcome.number, url: outcome.url, merged: outcome.merged, tasksCounted: counted, lessons: 1 },
  });
}
