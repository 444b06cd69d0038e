// One agent role's worker: the agent Lambda (functions/agents/agent-worker.ts with AGENT_ROLE set)
// consuming that role's queue, and everything an agent run touches — the table, the bus, its task
// token, its own queue for continuations, its checkpoints, the workspace, the git host credentials
// and Bedrock.
import { Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { AgentRole } from '../../lib/domain/settings';
import type { PipelineTimeouts } from '../config/customer-config';
import { cellResourceName } from '../naming';
import {
  AGENT_ROLE_ENV,
  AWS_PORTS_ENV,
  CELL_WORKSPACE_ROOT,
  CHECKPOINTS_PREFIX,
  queueUrlEnvironment,
  RUNTIME_ENV,
  TABLE_NAME_ENV,
} from '../runtime-environment';
import { AgentFunction, MAX_FUNCTION_TIMEOUT } from './agent-function';
import type { AgentQueue } from './agent-queue';
import { grantArtifactsPrefixAccess } from './artifacts-bucket';
import { type CellSecretReferences, cellSecretsPrefix, grantSecretsRead } from './cell-secrets';
import type { CellWorkspace } from './cell-workspace';
import type { SandboxFunction } from './sandbox-function';
import type { CellPackageRegistry } from './cell-package-registry';
import type { PriceOverrides } from '../../lib/domain/prices';
import type { CellEventBus } from './event-bus';
import { grantModelInvocation, type ModelResources } from './model-access';
import type { PipelineStateMachine } from './pipeline-state-machine';
import { grantStateTableAccess } from './state-table';

/** The handler every role runs; AGENT_ROLE tells it which role it is. */
export const AGENT_WORKER_ENTRY = 'agents/agent-worker.ts';

/**
 * A run gets Lambda's maximum; one that would need longer checkpoints and re-enqueues itself.
 * Memory buys CPU for git and the sandboxed commands (tests, linters) an agent runs. Checkouts live
 * on the workspace (EFS), so /tmp keeps Lambda's default size.
 */
export const AGENT_WORKER_SIZING = {
  timeout: MAX_FUNCTION_TIMEOUT,
  memorySize: 2048,
} as const;

export interface AgentWorkerProps {
  readonly customerId: string;
  readonly role: AgentRole;
  readonly queue: AgentQueue;
  readonly encryptionKey: IKey;
  /** Mounted at CELL_WORKSPACE_ROOT; the worker runs in its placement. */
  readonly workspace: CellWorkspace;
  /** Runs the worker's commands (SANDBOX_FUNCTION_NAME); the worker may invoke it and nothing else of its kind. */
  readonly sandbox: SandboxFunction;
  /** Installs dependencies before a working copy's first command (SETUP_FUNCTION_NAME). */
  readonly setup: SandboxFunction;
  /** Cells without egress: the CodeArtifact repository installs use; the worker fetches its read tokens. */
  readonly packageRegistry?: CellPackageRegistry;
  /** The cell's secrets; the worker reads the git host credentials. */
  readonly secrets: CellSecretReferences;
  readonly table: ITable;
  readonly eventBus: CellEventBus;
  readonly artifactsBucket: IBucket;
  readonly pipeline: PipelineStateMachine;
  /** Bedrock models this worker may invoke (see bedrockModelResources). */
  readonly models: ModelResources;
  /** CAHOOTS_MODEL: the role's models, cheapest first, for projects without a policy of their own. */
  readonly defaultModels?: readonly string[];
  readonly timeouts: PipelineTimeouts;
  /** CAHOOTS_PRICES: the customer file's price overrides, when it has any. */
  readonly prices?: PriceOverrides;
  /** The cell secret with the OpenAI-compatible API key, when the customer file names one. */
  readonly openAiApiKey?: { readonly name: string; readonly secret: ISecret };
  /** At most this many runs at once (the queue's event source never exceeds it). */
  readonly maxConcurrency: number;
  /** Reserve `maxConcurrency` executions for this role, so it is throttled to and guaranteed that many. */
  readonly reserveConcurrency: boolean;
  readonly logRetention?: RetentionDays;
}

export class AgentWorker extends Construct {
  readonly role: AgentRole;
  readonly agent: AgentFunction;

  constructor(scope: Construct, id: string, props: AgentWorkerProps) {
    super(scope, id);
    this.role = props.role;

    this.agent = new AgentFunction(this, 'Agent', {
      entry: AGENT_WORKER_ENTRY,
      serviceName: cellResourceName(props.customerId, 'agent', props.role),
      description: `Cahoots ${props.customerId}: ${props.role} agent`,
      encryptionKey: props.encryptionKey,
      placement: props.workspace.placement,
      filesystem: props.workspace.lambdaFileSystem,
      ...AGENT_WORKER_SIZING,
      logRetention: props.logRetention,
      reservedConcurrentExecutions: props.reserveConcurrency ? props.maxConcurrency : undefined,
      environment: {
        [AGENT_ROLE_ENV]: props.role,
        [TABLE_NAME_ENV]: props.table.tableName,
        [AWS_PORTS_ENV.eventBusName]: props.eventBus.bus.eventBusName,
        [AWS_PORTS_ENV.artifactsBucket]: props.artifactsBucket.bucketName,
        [AWS_PORTS_ENV.artifactsPrefix]: CHECKPOINTS_PREFIX,
        [AWS_PORTS_ENV.secretsPrefix]: cellSecretsPrefix(props.customerId),
        // Its own queue only: a run that must continue re-enqueues itself there.
        ...queueUrlEnvironment({ [props.role]: props.queue.queue.queueUrl }),
        [RUNTIME_ENV.workspaceRoot]: CELL_WORKSPACE_ROOT,
        [AWS_PORTS_ENV.sandboxFunctionName]: props.sandbox.functionName,
        [AWS_PORTS_ENV.setupFunctionName]: props.setup.functionName,
        ...(props.packageRegistry
          ? {
              [AWS_PORTS_ENV.codeArtifactDomain]: props.packageRegistry.domainName,
              [AWS_PORTS_ENV.codeArtifactDomainOwner]: Stack.of(this).account,
              [AWS_PORTS_ENV.codeArtifactNpmUrl]: props.packageRegistry.npmUrl,
            }
          : {}),
        // The agent heartbeats more often than the pipeline's heartbeat timeout, and stops in time.
        [RUNTIME_ENV.taskTimeoutSeconds]: String(props.timeouts.taskTimeoutSeconds),
        [RUNTIME_ENV.heartbeatSeconds]: String(props.timeouts.heartbeatSeconds),
        ...(props.prices ? { [RUNTIME_ENV.prices]: JSON.stringify(props.prices) } : {}),
        ...(props.openAiApiKey ? { [RUNTIME_ENV.openAiApiKeySecret]: props.openAiApiKey.name } : {}),
        ...(props.defaultModels && props.defaultModels.length > 0
          ? { [RUNTIME_ENV.defaultModels]: props.defaultModels.join(',') }
          : {}),
      },
    });

    props.queue.addConsumer(this.agent, { maxConcurrency: props.maxConcurrency });
    props.queue.grantSendMessages(this.agent);
    grantStateTableAccess(this.agent, { table: props.table, encryptionKey: props.encryptionKey, access: 'readWrite' });
    props.eventBus.grantPutEvents(this.agent);
    props.pipeline.grantTaskResponse(this.agent);
    grantArtifactsPrefixAccess(this.agent, this.agent.role, {
      bucket: props.artifactsBucket,
      encryptionKey: props.encryptionKey,
      prefix: CHECKPOINTS_PREFIX,
    });
    grantSecretsRead(this.agent, props.secrets, ['gitHostCredentials']);
    props.openAiApiKey?.secret.grantRead(this.agent);
    grantModelInvocation(this.agent, this.agent.role, props.models);
    props.sandbox.grantInvoke(this.agent);
    props.setup.grantInvoke(this.agent);
    props.packageRegistry?.grantReadToken(this.agent);
  }
}
