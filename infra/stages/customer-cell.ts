// One customer's cell: a CDK Stage holding the stateful, network and service stacks, all in the
// customer's account and region and tagged with the customer id.
import { Stage } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CustomerConfig } from '../config/customer-config';
import { cellStageId } from '../naming';
import { NetworkStack } from '../stacks/network-stack';
import { ServiceStack } from '../stacks/service-stack';
import { StatefulStack } from '../stacks/stateful-stack';

export class CustomerCell extends Stage {
  readonly config: CustomerConfig;
  readonly stateful: StatefulStack;
  readonly network: NetworkStack;
  readonly service: ServiceStack;

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
  }

  get stacks() {
    return [this.stateful, this.network, this.service];
  }
}
