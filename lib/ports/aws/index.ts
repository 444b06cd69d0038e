// The AWS side of the ports, all of it: createAwsPorts assembles every adapter (tests, tools).
// A deployed function does not come through here: its handler declares the adapter modules of the
// few ports it uses (declareCellPorts in lib/runtime.ts) so its bundle holds only those.
import type { Ports } from '../index';
import { type AwsPortsConfig, readAwsPortsConfig } from './config';
import { assembleCellPorts, type CellPortFactories } from './cell-ports';
import { cellPort as stepFunctionsPipeline } from './pipeline-starter';
import { cellPort as stepFunctionsDetection } from './detection-starter';
import { cellPort as stepFunctionsCallbacks } from './task-callbacks';
import { cellPort as sqsWorkQueue } from './work-queue';
import { cellPort as eventBridgeEvents } from './event-publisher';
import { cellPort as s3Artifacts } from './artifact-store';
import { cellPort as secretsManagerSecrets } from './secrets';
import { cellPort as cellRepositoryHost } from './repository-host';
import { cellPort as sandboxFunctionCommands } from './lambda-command-runner';
import { cellPort as eventBridgeDetectionScheduler } from './detection-scheduler';
import { cellPort as cloudWatchAlarms } from './alarm-reader';
import { defaultWorkspaceRoot } from '../../workspace/workspace-root';

export { AWS_PORTS_ENV, AwsPortsConfigError, AwsPortsConfigSchema, parseAwsPortsConfig, readAwsPortsConfig } from './config';
export type { AwsPortsConfig, AwsPortsConfigInput } from './config';
export {
  assembleCellPorts,
  loadCellPorts,
  PortNotConfiguredError,
  PortNotDeclaredError,
  type CellPortContext,
  type CellPortFactories,
  type CellPortFactory,
  type CellPortLoader,
  type CellPortLoaders,
  type PortName,
} from './cell-ports';
export { SfnPipelineStarter, executionArnFor, STOPPED_ERROR } from './pipeline-starter';
export { SfnDetectionStarter } from './detection-starter';
export { CloudWatchAlarmReader, AlarmReadError, ALARM_NAMES_PER_CALL } from './alarm-reader';
export { CodeArtifactRegistry, RegistryTokenError } from './codeartifact-registry';
export { SfnTaskCallbacks } from './task-callbacks';
export { SqsWorkQueue } from './work-queue';
export { EventBridgePublisher, EventPublishError, type FailedEvent } from './event-publisher';
export { S3ArtifactStore, InvalidArtifactKeyError } from './artifact-store';
export { SecretsManagerSecrets } from './secrets';
export {
  LambdaCommandRunner,
  SandboxFunctionError,
  SandboxInvocationError,
  SandboxThrottledError,
  SandboxTimeoutError,
} from './lambda-command-runner';
export {
  EventBridgeDetectionScheduler,
  DetectionScheduleError,
  detectionScheduleName,
  DETECTION_FLEXIBLE_WINDOW_MINUTES,
  DETECTION_RETRY_POLICY,
} from './detection-scheduler';

/** Every port with its AWS adapter's factory: what createAwsPorts builds. */
export const ALL_CELL_PORTS = {
  pipeline: stepFunctionsPipeline,
  detection: stepFunctionsDetection,
  callbacks: stepFunctionsCallbacks,
  queue: sqsWorkQueue,
  events: eventBridgeEvents,
  artifacts: s3Artifacts,
  secrets: secretsManagerSecrets,
  repositories: cellRepositoryHost,
  commands: sandboxFunctionCommands,
  schedules: eventBridgeDetectionScheduler,
  alarms: cloudWatchAlarms,
} as const satisfies Required<CellPortFactories>;

/**
 * Builds every AWS adapter (each on first use). Without an argument the configuration comes from
 * the environment; `workspaceRoot` is the runtime's (RuntimeConfig.workspaceRoot, the EFS mount in a cell).
 */
export function createAwsPorts(config: AwsPortsConfig = readAwsPortsConfig(), options: { workspaceRoot?: string } = {}): Ports {
  return assembleCellPorts(ALL_CELL_PORTS, config, options.workspaceRoot ?? defaultWorkspaceRoot());
}
