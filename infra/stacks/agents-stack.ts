// The cell's agents stack: one agent worker Lambda per role, each consuming its role's queue.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AGENT_ROLES, type AgentRole } from '../../lib/domain/settings';
import { type CustomerConfig, DEFAULT_AGENT_MAX_CONCURRENCY } from '../config/customer-config';
import { AgentWorker } from '../constructs/agent-worker';
import { cellSecretReference } from '../constructs/cell-secrets';
import { bedrockModelResources } from '../constructs/model-access';
import { SandboxFunction } from '../constructs/sandbox-function';
import type { NetworkStack } from './network-stack';
import type { PipelineStack } from './pipeline-stack';
import type { ServiceStack } from './service-stack';
import type { StatefulStack } from './stateful-stack';

export interface AgentsStackProps extends StackProps {
  readonly config: CustomerConfig;
  readonly stateful: StatefulStack;
  readonly network: NetworkStack;
  readonly service: ServiceStack;
  readonly pipeline: PipelineStack;
}

export class AgentsStack extends Stack {
  readonly workers: Readonly<Record<AgentRole, AgentWorker>>;
  readonly sandbox: SandboxFunction;
  /** Installs working copies' dependencies (CommandRunner.setup). */
  readonly setup: SandboxFunction;

  constructor(scope: Construct, id: string, props: AgentsStackProps) {
    super(scope, id, {
      ...props,
      description: `Cahoots cell ${props.config.id}: agent Lambdas, one per role, the sandbox function that runs their commands and the one that installs dependencies`,
    });
    const { config, service } = props;
    const { key, table, artifactsBucket, secrets } = props.stateful.importInto(this);
    // Every worker may call any model the customer file names for any role: projects can assign
    // the cell's models to roles differently from the defaults.
    const models = bedrockModelResources(this, Object.values(config.projectDefaults.modelPolicy).flat());

    // Agents' commands run here, not in the workers: no credentials, no network.
    this.sandbox = new SandboxFunction(this, 'Sandbox', {
      customerId: config.id,
      encryptionKey: key,
      network: service.network,
      workspace: service.workspace,
      ...(config.sandbox.image ? { image: config.sandbox.image } : {}),
    });

    // Dependency installs: the same image with a way to a registry, and still no credentials.
    this.setup = new SandboxFunction(this, 'DependencySetup', {
      purpose: 'setup',
      customerId: config.id,
      encryptionKey: key,
      network: service.network,
      workspace: service.workspace,
      ...(config.sandbox.image ? { image: config.sandbox.image } : {}),
    });
    const packageRegistry = props.network.packageRegistry;
    packageRegistry?.allowDownloadsFrom(this.setup.securityGroup);

    const openAiApiKey = config.openAiApiKeySecret
      ? { name: config.openAiApiKeySecret, secret: cellSecretReference(this, config.id, config.openAiApiKeySecret, key) }
      : undefined;

    const workers = {} as Record<AgentRole, AgentWorker>;
    for (const role of AGENT_ROLES) {
      const throttled = config.agentConcurrency?.[role];
      workers[role] = new AgentWorker(this, `${role.charAt(0).toUpperCase()}${role.slice(1)}Worker`, {
        customerId: config.id,
        role,
        queue: service.queues[role],
        encryptionKey: key,
        workspace: service.workspace,
        sandbox: this.sandbox,
        setup: this.setup,
        ...(packageRegistry ? { packageRegistry } : {}),
        secrets,
        table,
        eventBus: service.eventBus,
        artifactsBucket,
        pipeline: props.pipeline.pipeline,
        models,
        defaultModels: config.projectDefaults.modelPolicy[role],
        timeouts: config.pipelineTimeouts,
        ...(config.prices ? { prices: config.prices } : {}),
        ...(openAiApiKey ? { openAiApiKey } : {}),
        maxConcurrency: throttled ?? DEFAULT_AGENT_MAX_CONCURRENCY[role],
        reserveConcurrency: throttled !== undefined,
      });
    }
    this.workers = workers;
  }
}
