// The cell's observability stack: the Cost and Behaviour dashboards and the cell-wide alarms (the
// DLQ alarms sit with their queues in the service stack). It only reads the other stacks.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AGENT_ROLES, type AgentRole } from '../../lib/domain/settings';
import type { CustomerConfig } from '../config/customer-config';
import type { AgentFunction } from '../constructs/agent-function';
import { CellAlarms } from '../constructs/cell-alarms';
import { CellDashboards } from '../constructs/cell-dashboards';
import { CellNotifications } from '../constructs/cell-notifications';
import type { AgentsStack } from './agents-stack';
import type { PipelineStack } from './pipeline-stack';
import type { ServiceStack } from './service-stack';

export interface ObservabilityStackProps extends StackProps {
  readonly config: CustomerConfig;
  readonly service: ServiceStack;
  readonly pipeline: PipelineStack;
  readonly agents: AgentsStack;
  /** The API's base URL, quoted by notifications in the commands and calls they suggest. */
  readonly apiUrl: string;
  /** Further Lambda groups for the errors/throttles graphs, e.g. the API handlers. */
  readonly functionGroups?: Readonly<Record<string, readonly AgentFunction[]>>;
}

export class ObservabilityStack extends Stack {
  readonly alarms: CellAlarms;
  readonly dashboards: CellDashboards;
  readonly notifications: CellNotifications;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, {
      ...props,
      description: `Cahoots cell ${props.config.id}: Cost and Behaviour dashboards, alarms, notifications`,
    });
    const agents = Object.fromEntries(AGENT_ROLES.map((role) => [role, props.agents.workers[role].agent])) as Record<
      AgentRole,
      AgentFunction
    >;

    this.alarms = new CellAlarms(this, 'Alarms', {
      customerId: props.config.id,
      topic: props.service.alarmTopic.topic,
      pipeline: props.pipeline.pipeline,
      agents,
    });
    this.notifications = new CellNotifications(this, 'Notifications', {
      customerId: props.config.id,
      encryptionKey: props.service.key,
      eventBus: props.service.eventBus.bus,
      apiUrl: props.apiUrl,
      settings: props.config.notifications,
      alarmTopic: props.service.alarmTopic.topic,
    });
    this.dashboards = new CellDashboards(this, 'Dashboards', {
      customerId: props.config.id,
      pipeline: props.pipeline.pipeline,
      queues: props.service.queues,
      agents,
      qualityGateStep: props.pipeline.steps.functions.EvaluateQualityGate,
      functionGroups: {
        pipeline: Object.values(props.pipeline.steps.functions),
        outbox: [props.pipeline.outbox.sweeper],
        ...props.functionGroups,
      },
    });
  }
}
