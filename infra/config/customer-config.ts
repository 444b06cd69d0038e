// The customer file (infra/customers/<id>.json): one cell's account, region, network choices and
// the project defaults later features read. Validated with zod at synth so a typo fails loudly.
import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { AGENT_ROLES, type AgentRole, AgentRoleSchema, ProjectDefaultsSchema, type ProjectDefaults } from '../../lib/domain/settings';
import { SecretNameSchema } from '../../lib/domain/common';
import { PriceOverridesSchema } from '../../lib/domain/prices';
import { CUSTOMERS_DIR, displayPath } from '../paths';

/** An enum whose error message lists the allowed values the way a person reads them. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected ${values.map((value) => `"${value}"`).join(' | ')}` });
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>(:<tag>|@sha256:<digest>)`, with those parts as groups. */
export const ECR_IMAGE_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([a-z0-9][a-z0-9._/-]*)(?::([\w][\w.-]{0,127})|@(sha256:[a-f0-9]{64}))$/;

/** `arn:<partition>:wafv2:<region>:<account>:regional/webacl/<name>/<id>`, with region and account as groups. */
export const WEB_ACL_ARN = /^arn:aws(?:-[a-z]+)*:wafv2:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):regional\/webacl\/[\w-]{1,128}\/[a-f0-9-]{1,64}$/;

export const EGRESS_MODES = ['nat', 'none'] as const;

/**
 * A name the cell's DNS firewall lets resolve: a domain such as `registry.npmjs.org`, or `*.` and a
 * domain for every name under it (not the domain itself: list both when both are used).
 */
export const AllowedDomainSchema = z
  .string()
  .regex(/^(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/, {
    message: 'must be a lower-case domain name such as registry.npmjs.org, or "*." and a domain for the names under it',
  });

/**
 * What installs and git need when the customer file names nothing: the npm registry and GitHub
 * (git over HTTPS, its API, and the hosts release assets and raw files come from).
 */
export const DEFAULT_EGRESS_ALLOW_LIST = ['registry.npmjs.org', 'github.com', '*.github.com', '*.githubusercontent.com'] as const;
export const ENDPOINT_PROFILES = ['full', 'minimal'] as const;

/**
 * The id becomes part of stack names, queue names, the bus name and the KMS alias, so it is kept
 * to characters every one of those accepts, and short enough for SQS's 80-character limit.
 */
export const CustomerIdSchema = z
  .string()
  .regex(/^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,22}[a-z0-9]$/, {
    message: 'must be 3-24 characters of a-z, 0-9 and single hyphens, starting with a letter',
  });

export { ProjectDefaultsSchema, type ProjectDefaults };

/**
 * Per agent role, how many agent Lambdas may run at once. A role named here is throttled: that many
 * executions are reserved for it (taken from the account's pool) and its queue feeds it no faster.
 * Roles not named run up to DEFAULT_AGENT_MAX_CONCURRENCY without a reservation. 2 is the lowest
 * concurrency an SQS event source accepts.
 */
export const AgentConcurrencySchema = z.partialRecord(AgentRoleSchema, z.number().int().min(2).max(1000));
export type AgentConcurrency = z.infer<typeof AgentConcurrencySchema>;

/**
 * Unreserved ceilings: developers get the most because a goal fans out into developer tasks; the
 * others see one or two tasks per goal. Without a reservation these are upper bounds only.
 */
export const DEFAULT_AGENT_MAX_CONCURRENCY: Readonly<Record<AgentRole, number>> = {
  planner: 5,
  developer: 10,
  ux: 5,
  qa: 5,
  reviewer: 5,
};

/**
 * How long the pipeline waits, in seconds: for one agent task (across continuations), between an
 * agent's heartbeats (a dispatched task must also be picked up from its queue within this), and
 * for a human approval. Defaults are lib/runtime.ts's; the bounds are those it accepts.
 */
export const DEFAULT_PIPELINE_TIMEOUTS = {
  taskTimeoutSeconds: 3_600,
  heartbeatSeconds: 300,
  approvalTimeoutSeconds: 259_200,
} as const;

export const PipelineTimeoutsSchema = z
  .strictObject({
    taskTimeoutSeconds: z.number().int().min(60).max(86_400).default(DEFAULT_PIPELINE_TIMEOUTS.taskTimeoutSeconds),
    heartbeatSeconds: z.number().int().min(10).max(3_600).default(DEFAULT_PIPELINE_TIMEOUTS.heartbeatSeconds),
    approvalTimeoutSeconds: z.number().int().min(60).max(2_592_000).default(DEFAULT_PIPELINE_TIMEOUTS.approvalTimeoutSeconds),
  })
  .refine((timeouts) => timeouts.heartbeatSeconds < timeouts.taskTimeoutSeconds, {
    message: 'must be shorter than taskTimeoutSeconds',
    path: ['heartbeatSeconds'],
  });
export type PipelineTimeouts = z.infer<typeof PipelineTimeoutsSchema>;

/**
 * Who hears about what needs people (approvals waiting, goals done or failed, critical findings):
 * e-mail addresses subscribed to the cell's notification topic (each confirms once, by the link SNS
 * mails), and optionally a Slack channel through AWS Chatbot, whose workspace must already be
 * authorized in the AWS Chatbot console of the account.
 */
export const NotificationSettingsSchema = z.strictObject({
  emails: z
    .array(z.email({ message: 'must be an e-mail address' }))
    .max(50)
    .superRefine((emails, context) => {
      const seen = new Set<string>();
      for (const email of emails) {
        if (seen.has(email.toLowerCase())) context.addIssue({ code: 'custom', message: `lists ${email} twice (addresses are compared without case)` });
        seen.add(email.toLowerCase());
      }
    })
    .default([]),
  slack: z
    .strictObject({
      workspaceId: z.string().regex(/^T[A-Z0-9]{8,12}$/, {
        message: 'must be a Slack workspace (team) id such as T07ABC12DEF, shown in the AWS Chatbot console after the workspace is authorized',
      }),
      channelId: z.string().regex(/^[CG][A-Z0-9]{8,12}$/, {
        message: 'must be a Slack channel id such as C05XYZ98UVW (channel details → bottom of the About tab), not the #name',
      }),
    })
    .optional(),
});
export type NotificationSettings = z.infer<typeof NotificationSettingsSchema>;

export const CustomerConfigSchema = z.strictObject({
  id: CustomerIdSchema,
  account: z.string().regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' }),
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, { message: 'must be an AWS region such as eu-west-1' }),
  /** `nat`: one NAT gateway lets agents reach git hosts; `none`: no route to the internet at all. */
  egress: oneOf(EGRESS_MODES),
  /**
   * With egress `nat`: the registries and git hosts the cell's DNS firewall lets resolve; every
   * other name outside AWS's own regional endpoints is blocked and logged. Absent:
   * DEFAULT_EGRESS_ALLOW_LIST. Not allowed with egress `none`, where nothing leaves the VPC and
   * dependencies come from the cell's CodeArtifact repository.
   */
  egressAllowList: z.array(AllowedDomainSchema).min(1).max(1000).optional(),
  /** Which interface endpoints the cell pays for; see infra/constructs/cell-network.ts. */
  endpoints: oneOf(ENDPOINT_PROFILES),
  alarmEmail: z.email({ message: 'must be an e-mail address' }),
  /** Optional; without it, messages go to the notification topic with no subscriber (add one later). */
  notifications: NotificationSettingsSchema.default({ emails: [] }),
  projectDefaults: ProjectDefaultsSchema,
  /**
   * Optional: a regional AWS WAFv2 web ACL, in the cell's account and region, to put in front of
   * the API stage. The customer creates and pays for it; absent, the API relies on SigV4 and throttling.
   */
  webAclArn: z
    .string()
    .regex(WEB_ACL_ARN, { message: 'must be a regional WAFv2 web ACL ARN: arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>' })
    .optional(),
  /** Optional; see AgentConcurrencySchema. */
  agentConcurrency: AgentConcurrencySchema.optional(),
  /**
   * Optional price overrides, USD per million tokens by model spec (input, output, cacheRead,
   * cacheWrite), merged over the built-in table by every agent worker (CAHOOTS_PRICES). They decide
   * what a run costs and so when budgets stop it. Lambda's 4 KB environment limit bounds the table.
   */
  prices: PriceOverridesSchema.refine((prices) => JSON.stringify(prices).length <= 2_048, {
    message: 'is longer than 2048 characters as JSON; agent workers receive it in an environment variable',
  }).optional(),
  /**
   * Optional: the cell secret (`cahoots/<id>/<name>`, created by the customer under the cell key)
   * holding the API key that agent workers send to OpenAI-compatible model servers. Only the agent
   * workers may read it; absent, those servers are called without a key.
   */
  openAiApiKeySecret: SecretNameSchema.optional(),
  /** The sandbox function that runs agents' commands; see docs/deploy.md. */
  sandbox: z
    .strictObject({
      /**
       * An image of the customer's own (an ECR URI with a tag or digest), e.g. their CI image
       * built FROM ours; absent: ours, built by `cdk deploy` from infra/sandbox-image/Dockerfile.
       */
      image: z
        .string()
        .regex(ECR_IMAGE_URI, {
          message: 'must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>',
        })
        .optional(),
    })
    .default({}),
  /** Optional; each absent value takes its default (DEFAULT_PIPELINE_TIMEOUTS). */
  pipelineTimeouts: PipelineTimeoutsSchema.default(DEFAULT_PIPELINE_TIMEOUTS),
}).superRefine((config, context) => {
  // API Gateway only associates a web ACL of its own account and region.
  const webAcl = config.webAclArn === undefined ? undefined : WEB_ACL_ARN.exec(config.webAclArn);
  if (webAcl && (webAcl[1] !== config.region || webAcl[2] !== config.account)) {
    context.addIssue({ code: 'custom', path: ['webAclArn'], message: `must be a web ACL in the cell's account ${config.account} and region ${config.region}` });
  }
  if (config.egress === 'none' && config.egressAllowList !== undefined) {
    context.addIssue({
      code: 'custom',
      path: ['egressAllowList'],
      message: 'has no effect with egress "none": nothing leaves the VPC and dependencies come from the cell\'s CodeArtifact repository; remove it or set egress to "nat"',
    });
  }
  // Every role has an agent worker in the cell and any project may staff it; a worker with no
  // model would only fail each task it is given, long after the deploy.
  for (const role of AGENT_ROLES) {
    if ((config.projectDefaults.modelPolicy[role] ?? []).length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['projectDefaults', 'modelPolicy', role],
        message: `the ${role} role has agent workers in this cell but no model; name at least one`,
      });
    }
  }
});
export type CustomerConfig = z.infer<typeof CustomerConfigSchema>;
export type EgressMode = CustomerConfig['egress'];
export type EndpointProfile = CustomerConfig['endpoints'];

/** A customer file that cannot be used; the message names the file and each offending field. */
export class CustomerConfigError extends Error {
  override readonly name = 'CustomerConfigError';

  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.map((problem) => `${displayPath(file)}: ${problem}`).join('\n'));
  }
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const where = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    // One line per unknown key, named by its full path, so `egres` points at itself.
    return issue.keys.map((key) => `${where ? `${where}.` : ''}${key}: unknown field`);
  }
  return [`${where || '(file)'}: ${issue.message}`];
}

/** Parses one customer file's text; `file` is only used for messages and the id check. */
export function parseCustomerConfig(file: string, text: string): CustomerConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CustomerConfigError(file, [`not valid JSON (${(error as Error).message})`]);
  }
  const result = CustomerConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new CustomerConfigError(file, result.error.issues.flatMap(describeIssue));
  }
  const expectedId = path.basename(file, '.json');
  if (result.data.id !== expectedId) {
    // `-c customer=<id>` finds the file by name, so the two must agree.
    throw new CustomerConfigError(file, [`id: must equal the file name "${expectedId}"`]);
  }
  return result.data;
}

export function loadCustomerConfig(file: string): CustomerConfig {
  return parseCustomerConfig(file, fs.readFileSync(file, 'utf8'));
}

/** Every customer id with a file in `dir`, sorted. */
export function listCustomerIds(dir: string = CUSTOMERS_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => path.basename(name, '.json'))
    .sort();
}

/** Loads the named customers (all of them when `ids` is absent); an unknown id is an error. */
export function loadCustomerConfigs(options: { dir?: string; ids?: readonly string[] } = {}): CustomerConfig[] {
  const dir = options.dir ?? CUSTOMERS_DIR;
  const known = listCustomerIds(dir);
  const wanted = options.ids ?? known;
  const unknown = wanted.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new Error(
      `No customer file for ${unknown.map((id) => `"${id}"`).join(', ')} in ${displayPath(dir)}; ` +
        `known customers: ${known.join(', ') || '(none)'}`,
    );
  }
  return wanted.map((id) => loadCustomerConfig(path.join(dir, `${id}.json`)));
}
