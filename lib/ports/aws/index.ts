// The AWS side of the ports: createAwsPorts assembles one adapter per port from the validated
// environment. Handlers call it once at module scope and never learn which adapters they got.
import type { Ports } from '../index';
import { SfnPipelineStarter } from './pipeline-starter';
import { SfnDetectionStarter } from './detection-starter';
import { SfnTaskCallbacks } from './task-callbacks';
import { SqsWorkQueue } from './work-queue';
import { EventBridgePublisher } from './event-publisher';
import { S3ArtifactStore } from './artifact-store';
import { SecretsManagerSecrets } from './secrets';
import { AWS_PORTS_ENV, type AwsPortsConfig, readAwsPortsConfig } from './config';
import { createRepositoryHost } from '../repository/index';
import type { CommandRunner } from '../command-runner';
import { LambdaCommandRunner } from './lambda-command-runner';
import { CodeArtifactRegistry } from './codeartifact-registry';
import { defaultWorkspaceRoot } from '../../workspace/git';
import { PortError } from '../errors';
import { EventBridgeDetectionScheduler } from './detection-scheduler';

export { AWS_PORTS_ENV, AwsPortsConfigError, AwsPortsConfigSchema, parseAwsPortsConfig, readAwsPortsConfig } from './config';
export type { AwsPortsConfig, AwsPortsConfigInput } from './config';
export { SfnPipelineStarter, executionArnFor, STOPPED_ERROR } from './pipeline-starter';
export { SfnDetectionStarter } from './detection-starter';
export { SfnTaskCallbacks } from './task-callbacks';
export { SqsWorkQueue } from './work-queue';
export { EventBridgePublisher, EventPublishError, type FailedEvent } from './event-publisher';
export { S3ArtifactStore, InvalidArtifactKeyError } from './artifact-store';
export { SecretsManagerSecrets } from './secrets';
export {
  EventBridgeDetectionScheduler,
  DetectionScheduleError,
  detectionScheduleName,
  DETECTION_FLEXIBLE_WINDOW_MINUTES,
  DETECTION_RETRY_POLICY,
} from './detection-scheduler';
export {
  LambdaCommandRunner,
  SandboxFunctionError,
  SandboxInvocationError,
  SandboxThrottledError,
  SandboxTimeoutError,
  SetupFunctionNotConfiguredError,
} from './lambda-command-runner';
export { CodeArtifactRegistry, RegistryTokenError } from './codeartifact-registry';

/** A port was used in a function whose environment does not configure it. */
export class PortNotConfiguredError extends PortError {
  readonly code = 'PortNotConfigured';
  constructor(
    readonly port: string,
    readonly variable: string,
  ) {
    super(`The ${port} port is not configured: set ${variable}`);
  }
}

/** A stand-in whose every method fails with PortNotConfiguredError, so a missing variable surfaces at use. */
function unconfigured<T extends object>(port: string, variable: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === 'then') return undefined; // not a thenable, so `await ports.x` stays harmless
      return async () => {
        throw new PortNotConfiguredError(port, variable);
      };
    },
  });
}

/**
 * Builds the AWS adapters. Without an argument the configuration comes from the environment;
 * `workspaceRoot` is the runtime's (RuntimeConfig.workspaceRoot, the EFS mount in a cell).
 */
export function createAwsPorts(config: AwsPortsConfig = readAwsPortsConfig(), options: { workspaceRoot?: string } = {}): Ports {
  const workspaceRoot = options.workspaceRoot ?? defaultWorkspaceRoot();
  const secrets = new SecretsManagerSecrets({ prefix: config.secretsPrefix, cacheTtlSeconds: config.secretsCacheTtlSeconds });
  const registry = registryOf(config);
  return {
    pipeline: config.stateMachineArn
      ? new SfnPipelineStarter({ stateMachineArn: config.stateMachineArn })
      : unconfigured('pipeline', AWS_PORTS_ENV.stateMachineArn),
    detection: config.detectWorkStateMachineArn
      ? new SfnDetectionStarter({ stateMachineArn: config.detectWorkStateMachineArn })
      : unconfigured('detection', AWS_PORTS_ENV.detectWorkStateMachineArn),
    callbacks: new SfnTaskCallbacks(),
    queue: new SqsWorkQueue(),
    events: config.eventBusName
      ? new EventBridgePublisher({ eventBusName: config.eventBusName })
      : unconfigured('events', AWS_PORTS_ENV.eventBusName),
    artifacts: config.artifactsBucket
      ? new S3ArtifactStore({ bucket: config.artifactsBucket, prefix: config.artifactsPrefix })
      : unconfigured('artifacts', AWS_PORTS_ENV.artifactsBucket),
    secrets,
    repositories: createRepositoryHost({ secrets, workspaceRoot }),
    commands: config.sandboxFunctionName
      ? new LambdaCommandRunner({
          functionName: config.sandboxFunctionName,
          workspaceRoot,
          ...(config.setupFunctionName ? { setupFunctionName: config.setupFunctionName } : {}),
          ...(registry ? { registry } : {}),
        })
      : unconfiguredCommands(workspaceRoot),
    schedules: detectionScheduler(config),
  };
}

/** The scheduler needs all four of its variables; the stand-in names the first one missing. */
function detectionScheduler(config: AwsPortsConfig): Ports['schedules'] {
  const { scheduleGroupName, detectWorkStateMachineArn, schedulerRoleArn, scheduleDeadLetterQueueArn } = config;
  if (scheduleGroupName && detectWorkStateMachineArn && schedulerRoleArn && scheduleDeadLetterQueueArn) {
    return new EventBridgeDetectionScheduler({
      groupName: scheduleGroupName,
      detectWorkStateMachineArn,
      roleArn: schedulerRoleArn,
      deadLetterQueueArn: scheduleDeadLetterQueueArn,
    });
  }
  const missing = (['scheduleGroupName', 'detectWorkStateMachineArn', 'schedulerRoleArn', 'scheduleDeadLetterQueueArn'] as const).find(
    (field) => !config[field],
  )!;
  return unconfigured('schedules', AWS_PORTS_ENV[missing]);
}

/** The cell's CodeArtifact repository, when the environment names one (cells without egress). */
function registryOf(config: AwsPortsConfig): CodeArtifactRegistry | undefined {
  const { codeArtifactDomain: domain, codeArtifactDomainOwner: domainOwner, codeArtifactNpmUrl: registryUrl } = config;
  if (!domain || !domainOwner || !registryUrl) return undefined;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new PortNotConfiguredError('commands (CodeArtifact registry)', 'AWS_REGION');
  return new CodeArtifactRegistry({ domain, domainOwner, registryUrl, region });
}

/**
 * Without a sandbox function a cell runs no commands at all: running them in the agent's own
 * function would hand model-written code the agent's credentials.
 */
function unconfiguredCommands(workspaceRoot: string): CommandRunner {
  return {
    workspaceRoot,
    run: async () => {
      throw new PortNotConfiguredError('commands', AWS_PORTS_ENV.sandboxFunctionName);
    },
    setup: async () => {
      throw new PortNotConfiguredError('commands', AWS_PORTS_ENV.sandboxFunctionName);
    },
  };
}
