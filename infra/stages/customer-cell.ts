// One customer's cell: a CDK Stage holding its stacks — stateful, network, service (bus, queues,
// alarm topic), pipeline, agents, API and observability — all in the customer's account and
// region and tagged with the customer id.
import { Stage } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CustomerConfig } from '../config/customer-config';
import { cellStageId } from '../naming';
import { AgentsStack } from '../stacks/agents-stack';
import { ApiStack } from '../stacks/api-stack';
import { NetworkStack } from '../stacks/network-stack';
import { ObservabilityStack } from '../stacks/observability-stack';
import { PipelineStack } from '../stacks/pipeline-stack';
import { ServiceStack } from '../stacks/service-stack';
import { StatefulStack } from '../stacks/stateful-stack';

export class CustomerCell extends Stage {
  readonly config: CustomerConfig;
  readonly stateful: StatefulStack;
  readonly network: NetworkStack;
  readonly service: ServiceStack;
  readonly pipeline: PipelineStack;
  readonly agents: AgentsStack;
  readonly api: ApiStack;
  readonly observability: ObservabilityStack;

  constructor(scope: Construct, config: CustomerConfig) {
    super(scope, cellStageId(config.id), { env: { account: config.account, region: config.region } });
    this.config = config;
    // Stack tags: CloudFormation copies them onto every resource, so cost reports split by customer.
    const tags = { 'cahoots:customer': config.id };

    this.stateful = new StatefulStack(this, 'Stateful', { config, tags });
    this.network = new NetworkStack(this, 'Network', { config, stateful: this.stateful, tags });
    this.service = new ServiceStack(this, 'Service', {
      config,
      stateful: this.stateful,
      network: this.network,
      tags,
    });
    const cellStacks = { config, stateful: this.stateful, network: this.network, service: this.service, tags };
    this.pipeline = new PipelineStack(this, 'Pipeline', cellStacks);
    this.agents = new AgentsStack(this, 'Agents', { ...cellStacks, pipeline: this.pipeline });
    this.api = new ApiStack(this, 'Api', { ...cellStacks, pipeline: this.pipeline });
    this.observability = new ObservabilityStack(this, 'Observability', {
      config,
      service: this.service,
      pipeline: this.pipeline,
      agents: this.agents,
      apiUrl: this.api.api.baseUrl,
      functionGroups: { api: Object.values(this.api.api.functions) },
      tags,
    });
  }

  /** In deployment order. */
  get stacks() {
    return [this.stateful, this.network, this.service, this.pipeline, this.agents, this.api, this.observability];
  }
}
