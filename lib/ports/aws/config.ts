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
} as const;

const StateMachineArnSchema = z
  .string()
  .regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
    message: 'must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)',
  });

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
  sandboxFunctionName: z
    .string()
    .regex(/^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}$/, {
      message: 'must be a Lambda function name or ARN',
    })
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
