// The cell's network stack: the VPC, its endpoints and security groups (see CellNetwork).
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CustomerConfig } from '../config/customer-config';
import { CellNetwork } from '../constructs/cell-network';
import type { StatefulStack } from './stateful-stack';

export interface NetworkStackProps extends StackProps {
  readonly config: CustomerConfig;
  readonly stateful: StatefulStack;
}

export class NetworkStack extends Stack {
  readonly network: CellNetwork;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, {
      ...props,
      description: `Cahoots cell ${props.config.id}: VPC (egress ${props.config.egress}, endpoints ${props.config.endpoints})`,
    });

    this.network = new CellNetwork(this, 'CellNetwork', {
      egress: props.config.egress,
      endpoints: props.config.endpoints,
      encryptionKey: props.stateful.importKey(this),
    });
  }
}
