// The cell's service stack: what every other stack wires into — event bus, one queue (and DLQ, with
// its alarm) per agent role, the alarm topic, and the shared workspace (EFS) agents and steps mount.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AGENT_ROLES, type AgentRole } from '../../lib/domain/settings';
import type { CustomerConfig } from '../config/customer-config';
import { AgentQueue } from '../constructs/agent-queue';
import { AGENT_WORKER_SIZING } from '../constructs/agent-worker';
import { AlarmTopic } from '../constructs/alarm-topic';
import type { AgentPlacement, CellNetwork } from '../constructs/cell-network';
import type { CellSecretReferences } from '../constructs/cell-secrets';
import { CellWorkspace } from '../constructs/cell-workspace';
import { CellEventBus } from '../constructs/event-bus';
import { grantStateTableAccess } from '../constructs/state-table';
import type { NetworkStack } from './network-stack';
import type { StatefulStack } from './stateful-stack';

/**
 * Queues are sized for the agent workers that consume them (AGENT_WORKER_SIZING: Lambda's maximum,
 * since a model turn plus tool calls can take minutes and a longer loop checkpoints and continues).
 */
export const AGENT_CONSUMER_TIMEOUT = AGENT_WORKER_SIZING.timeout;

export interface ServiceStackProps extends StackProps {
  readonly config: CustomerConfig;
  readonly stateful: StatefulStack;
  readonly network: NetworkStack;
}

export class ServiceStack extends Stack {
  readonly config: CustomerConfig;
  /** References into the stateful stack; grant*() on them changes only the grantee. */
  readonly key: IKey;
  readonly table: ITable;
  readonly artifactsBucket: IBucket;
  readonly secrets: CellSecretReferences;
  readonly network: CellNetwork;
  /** Pass to AgentFunction as `placement`. */
  readonly agentPlacement: AgentPlacement;
  readonly eventBus: CellEventBus;
  readonly queues: Readonly<Record<AgentRole, AgentQueue>>;
  readonly alarmTopic: AlarmTopic;
  readonly workspace: CellWorkspace;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, {
      ...props,
      description: `Cahoots cell ${props.config.id}: event bus, agent queues, alarms, workspace file system`,
    });
    const { config } = props;
    this.config = config;

    const data = props.stateful.importInto(this);
    this.key = data.key;
    this.table = data.table;
    this.artifactsBucket = data.artifactsBucket;
    this.secrets = data.secrets;
    this.network = props.network.network;
    this.agentPlacement = this.network.agentPlacement;

    this.workspace = new CellWorkspace(this, 'Workspace', { network: this.network, encryptionKey: this.key });
    this.eventBus = new CellEventBus(this, 'EventBus', { customerId: config.id, encryptionKey: this.key });
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', {
      customerId: config.id,
      encryptionKey: this.key,
      alarmEmail: config.alarmEmail,
    });

    const queues = {} as Record<AgentRole, AgentQueue>;
    for (const role of AGENT_ROLES) {
      queues[role] = new AgentQueue(this, `${role.charAt(0).toUpperCase()}${role.slice(1)}Queue`, {
        customerId: config.id,
        role,
        encryptionKey: this.key,
        consumerTimeout: AGENT_CONSUMER_TIMEOUT,
      });
      queues[role].alarmOnDeadLetters(this.alarmTopic.topic);
    }
    this.queues = queues;
  }

  /** Least-privilege access to the state table for a function of this cell (see grantStateTableAccess). */
  grantStateTable(grantee: IGrantable, access: 'read' | 'readWrite'): Grant {
    return grantStateTableAccess(grantee, { table: this.table, encryptionKey: this.key, access });
  }
}
