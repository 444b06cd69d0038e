// The GitHub webhook deliveries Cahoots acts on, as zod schemas of the fields it reads: an issue
// labelled, an issue comment created, a pull request closed, and the ping GitHub sends when a hook
// is set up. Everything else in a payload passes through unread. Pure schemas: the route table
// (and through it infra) imports this file.
import * as z from 'zod';

/** The headers GitHub sends with every delivery. */
export const GITHUB_HEADERS = {
  signature: 'X-Hub-Signature-256',
  event: 'X-GitHub-Event',
  delivery: 'X-GitHub-Delivery',
} as const;

const LoginSchema = z.string().min(1).max(100);
const UserSchema = z.looseObject({ login: LoginSchema, type: z.string().max(50).optional() });

export const RepositorySchema = z.looseObject({
  full_name: z.string().min(3).max(300),
  html_url: z.url(),
  clone_url: z.url().optional(),
});
export type GitHubRepository = z.infer<typeof RepositorySchema>;

const IssueSchema = z.looseObject({
  number: z.number().int().positive(),
  title: z.string().max(1000),
  body: z.string().nullable().optional(),
  html_url: z.url(),
  user: UserSchema.optional(),
  /** The issue's labels after the change (the issue's finding takes its severity from them). */
  labels: z.array(z.looseObject({ name: z.string().max(100) })).max(100).optional(),
  /** Present when the "issue" is a pull request (comments on PRs arrive as issue_comment). */
  pull_request: z.unknown().optional(),
});

export const IssuesLabeledPayloadSchema = z.looseObject({
  action: z.literal('labeled'),
  issue: IssueSchema,
  label: z.looseObject({ name: z.string().min(1).max(100) }),
  repository: RepositorySchema,
  sender: UserSchema,
});
export type IssuesLabeledPayload = z.infer<typeof IssuesLabeledPayloadSchema>;

export const IssueCommentCreatedPayloadSchema = z.looseObject({
  action: z.literal('created'),
  issue: IssueSchema,
  comment: z.looseObject({ id: z.number().int(), body: z.string().max(65_536), html_url: z.url(), user: UserSchema }),
  repository: RepositorySchema,
  sender: UserSchema,
});
export type IssueCommentCreatedPayload = z.infer<typeof IssueCommentCreatedPayloadSchema>;

const BranchRefSchema = z.looseObject({
  ref: z.string().min(1).max(255),
  sha: z.string().min(1).max(64).optional(),
  /** Null when the fork the branch lived in was deleted. */
  repo: z.looseObject({ full_name: z.string().min(3).max(300) }).nullable().optional(),
});

export const PullRequestClosedPayloadSchema = z.looseObject({
  action: z.literal('closed'),
  number: z.number().int().positive(),
  pull_request: z.looseObject({
    number: z.number().int().positive(),
    html_url: z.url(),
    merged: z.boolean(),
    merged_by: UserSchema.nullable().optional(),
    head: BranchRefSchema,
    base: BranchRefSchema,
  }),
  repository: RepositorySchema,
  sender: UserSchema,
});
export type PullRequestClosedPayload = z.infer<typeof PullRequestClosedPayloadSchema>;

/**
 * What every delivery body is at least: a JSON object. It is the body schema of the route (and the
 * OpenAPI document); the handler checks the signature before it parses anything.
 */
export const GitHubWebhookBodySchema = z
  .looseObject({ action: z.string().optional(), repository: RepositorySchema.optional(), sender: UserSchema.optional() })
  .meta({
    id: 'GitHubWebhookPayload',
    description: 'A GitHub webhook payload (issues, issue_comment, pull_request or ping), exactly as GitHub sends it.',
  });

export const WEBHOOK_OUTCOMES = ['goal-created', 'outcome-recorded', 'ignored'] as const;

export const WebhookResultSchema = z
  .object({
    outcome: z.enum(WEBHOOK_OUTCOMES).meta({ description: 'What the delivery led to.' }),
    deliveryId: z.string(),
    goalIds: z.array(z.string()).optional().meta({ description: 'Goals created or whose outcome was recorded.' }),
    reason: z.string().optional().meta({ description: 'Why nothing was done, for `ignored`.' }),
  })
  .meta({ id: 'WebhookResult' });
export type WebhookResult = z.infer<typeof WebhookResultSchema>;
