// The local side of the ports: createLocalPorts assembles one adapter per port from the local
// runtime's parts, the counterpart of createAwsPorts. Handlers get the same Ports interface.
import type { AlarmReader, DetectionScheduler, DetectionStarter, Ports } from '../ports/index';
import { UnavailableAlarmReader } from './alarm-reader';
import { createRepositoryHost } from '../ports/repository/index';
import { effectiveSandboxNetwork, SandboxCommandRunner } from '../workspace/sandbox-runner';
import { DirectoryArtifactStore } from './artifact-store';
import { type LocalEventBus, LocalEventPublisher } from './event-bus';
import { LocalPipelineStarter } from './pipeline-starter';
import type { LocalQueues } from './queues';
import { LocalSecrets, type LocalSecretsOptions } from './secrets';
import type { LocalStateMachineRunner } from './state-machine-runner';
import { LocalWorkQueue } from './work-queue';

export interface LocalPortsParts {
  /** The goal pipeline runner; its callback registry answers task tokens. */
  runner: LocalStateMachineRunner;
  /** Starts DetectWork runs (the local DetectWork runner, see LocalDetectionStarter). */
  detection: DetectionStarter;
  queues: LocalQueues;
  bus: LocalEventBus;
  /** Where artifacts are kept, e.g. `.cahoots/artifacts`. */
  artifactsDir: string;
  secrets?: LocalSecretsOptions;
  /** Root of repository mirrors and working copies (RuntimeConfig.workspaceRoot). */
  workspaceRoot: string;
  /** Network of agents' commands (RuntimeConfig.sandboxNetwork); `none` falls back where namespaces are unavailable. */
  sandboxNetwork?: 'none' | 'inherit';
  /** Projects' detection schedules (the local scheduler the runtime owns). */
  schedules: DetectionScheduler;
  /** Network of the dependency install (RuntimeConfig.installNetwork); default `inherit`. */
  installNetwork?: 'none' | 'inherit';
  /** CloudWatch alarms for the alarm detector; default: none locally (the detector is skipped). Tests inject one. */
  alarms?: AlarmReader;
}

export function createLocalPorts(parts: LocalPortsParts): Ports {
  const secrets = new LocalSecrets(parts.secrets);
  return {
    pipeline: new LocalPipelineStarter(parts.runner),
    detection: parts.detection,
    callbacks: parts.runner.callbacks,
    queue: new LocalWorkQueue(parts.queues),
    events: new LocalEventPublisher(parts.bus),
    artifacts: new DirectoryArtifactStore(parts.artifactsDir),
    secrets,
    repositories: createRepositoryHost({ secrets, workspaceRoot: parts.workspaceRoot }),
    commands: new SandboxCommandRunner(parts.workspaceRoot, {
      network: effectiveSandboxNetwork(parts.sandboxNetwork ?? 'none'),
      installNetwork: effectiveSandboxNetwork(parts.installNetwork ?? 'inherit'),
    }),
    schedules: parts.schedules,
    alarms: parts.alarms ?? new UnavailableAlarmReader(),
  };
}
