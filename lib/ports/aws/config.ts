// Configuration of the AWS adapters, read from the Lambda environment and validated once.
// Every field is optional because each function only gets the variables its ports need; a port
// whose variable is missing fails on first use with a message naming that variable.
import * as z from 'zod';
import { PortError } from '../errors';

/** The environment variables the AWS adapters read, by config field. Documented in docs/local-runtime.md. */
export const AWS_PORTS_ENV = {
  stateMachineArn: 'STATE_MACHINE_ARN',
  eventBusName: 'EVENT_BUS_NAME',
  artifactsBucket: 'ARTIFACTS_BUCKET',
  artifactsPrefix: 'ARTIFACTS_PREFIX',
  secretsPrefix: 'SECRETS_PREFIX',
  secretsCacheTtlSeconds: 'SECRETS_CACHE_TTL_SECONDS',
  sandboxFunctionName: 'SANDBOX_FUNCTION_NAME',
  scheduleGroupName: 'SCHEDULE_GROUP_NAME',
  detectWorkStateMachineArn: 'DETECT_WORK_STATE_MACHINE_ARN',
  schedulerRoleArn: 'SCHEDULER_ROLE_ARN',
  scheduleDeadLetterQueueArn: 'SCHEDULE_DLQ_ARN',
  setupFunctionName: 'SETUP_FUNCTION_NAME',
  codeArtifactDomain: 'CODEARTIFACT_DOMAIN',
  codeArtifactDomainOwner: 'CODEARTIFACT_DOMAIN_OWNER',
  codeArtifactNpmUrl: 'CODEARTIFACT_NPM_URL',
} as const;

const StateMachineArnSchema = z
  .string()
  .regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
    message: 'must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)',
  });

const LambdaFunctionNameSchema = z
  .string()
  .regex(/^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}$/, {
    message: 'must be a Lambda function name or ARN',
  });

const CODEARTIFACT_FIELDS = ['codeArtifactDomain', 'codeArtifactDomainOwner', 'codeArtifactNpmUrl'] as const;

export const AwsPortsConfigSchema = z.object({
  /** The goal pipeline state machine (PipelineStarter). */
  stateMachineArn: StateMachineArnSchema.optional(),
  /** The customer's custom bus, by name or ARN (EventPublisher). */
  eventBusName: z
    .string()
    .regex(/^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._/-]{1,256}$/, {
      message: 'must be an event bus name or ARN',
    })
    .optional(),
  /** The artifacts bucket (ArtifactStore); it encrypts with its default KMS key, so no SSE parameters are sent. */
  artifactsBucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name' })
    .optional(),
  /** Prepended to every artifact key, e.g. `artifacts/`. */
  artifactsPrefix: z.string().max(512).default(''),
  /** Prepended to every secret name, e.g. `cahoots/acme/`. */
  secretsPrefix: z.string().max(256).default(''),
  /** The sandbox function that runs agents' commands (CommandRunner), by name or ARN. */
  sandboxFunctionName: LambdaFunctionNameSchema.optional(),
  /** The function that installs working copies' dependencies (CommandRunner.setup), by name or ARN. */
  setupFunctionName: LambdaFunctionNameSchema.optional(),
  /**
   * Cells without egress install from a CodeArtifact repository: its domain, the domain's owner
   * account and the repository's npm endpoint. All three or none.
   */
  codeArtifactDomain: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,48}[a-z0-9]$/, { message: 'must be a CodeArtifact domain name (lower case letters, digits and hyphens)' })
    .optional(),
  codeArtifactDomainOwner: z.string().regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' }).optional(),
  codeArtifactNpmUrl: z
    .string()
    .regex(/^https:\/\/[^\s/@]+\/npm\/[A-Za-z0-9._-]+\/$/, { message: 'must be a CodeArtifact npm endpoint: https://<domain>-<owner>.d.codeartifact.<region>.amazonaws.com/npm/<repository>/' })
    .optional(),
  /** The cell's EventBridge Scheduler group that holds one detection schedule per project (DetectionScheduler). */
  scheduleGroupName: z
    .string()
    .regex(/^[0-9a-zA-Z._-]{1,64}$/, { message: 'must be a schedule group name (1-64 of 0-9 a-z A-Z . _ -)' })
    .optional(),
  /** The DetectWork state machine the schedules start. */
  detectWorkStateMachineArn: StateMachineArnSchema.optional(),
  /** The role EventBridge Scheduler assumes to start DetectWork (and to reach the dead-letter queue). */
  schedulerRoleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, { message: 'must be an IAM role ARN' })
    .optional(),
  /** Where a schedule's invocation goes when every retry failed. */
  scheduleDeadLetterQueueArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}$/, { message: 'must be an SQS queue ARN' })
    .optional(),
  /** How long a secret value is reused before Secrets Manager is asked again. */
  secretsCacheTtlSeconds: z.coerce.number().int().min(0).max(86_400).default(300),
}).superRefine((config, context) => {
  const set = CODEARTIFACT_FIELDS.filter((field) => config[field] !== undefined);
  if (set.length > 0 && set.length < CODEARTIFACT_FIELDS.length) {
    for (const field of CODEARTIFACT_FIELDS.filter((f) => config[f] === undefined)) {
      context.addIssue({ code: 'custom', path: [field], message: `must be set together with ${set.map((f) => AWS_PORTS_ENV[f]).join(', ')}` });
    }
  }
});
export type AwsPortsConfig = z.infer<typeof AwsPortsConfigSchema>;
export type AwsPortsConfigInput = z.input<typeof AwsPortsConfigSchema>;

/** The environment does not hold a valid adapter configuration; the message names the variables. */
export class AwsPortsConfigError extends PortError {
  readonly code = 'AwsPortsConfig';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid AWS ports configuration: ${problems.join('; ')}`);
  }
}

/** Validates a config object (tests, CLI) with the same rules as the environment. */
export function parseAwsPortsConfig(input: AwsPortsConfigInput): AwsPortsConfig {
  const result = AwsPortsConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new AwsPortsConfigError(
    result.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? '');
      const variable = AWS_PORTS_ENV[field as keyof typeof AWS_PORTS_ENV] ?? field;
      return `${variable} ${issue.message}`;
    }),
  );
}

/** Reads the adapters' configuration from environment variables; an empty variable counts as unset. */
export function readAwsPortsConfig(env: NodeJS.ProcessEnv = process.env): AwsPortsConfig {
  const raw: Record<string, string> = {};
  for (const [field, variable] of Object.entries(AWS_PORTS_ENV)) {
    const value = env[variable]?.trim();
    if (value) raw[field] = value;
  }
  return parseAwsPortsConfig(raw as AwsPortsConfigInput);
}
