// The cell's network stack: the VPC, its endpoints and security groups (see CellNetwork), and where
// dependency installs may go: the DNS firewall of a NAT cell, or the CodeArtifact registry of a
// cell without egress.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CustomerConfig } from '../config/customer-config';
import { DEFAULT_EGRESS_ALLOW_LIST } from '../config/customer-config';
import { CellDnsFirewall } from '../constructs/cell-dns-firewall';
import { CellNetwork } from '../constructs/cell-network';
import { CellPackageRegistry } from '../constructs/cell-package-registry';
import type { StatefulStack } from './stateful-stack';

export interface NetworkStackProps extends StackProps {
  readonly config: CustomerConfig;
  readonly stateful: StatefulStack;
}

export class NetworkStack extends Stack {
  readonly network: CellNetwork;
  /** egress `nat`: the allow-list every name resolved in the VPC is held to. */
  readonly dnsFirewall?: CellDnsFirewall;
  /** egress `none`: the CodeArtifact npm repository dependency installs use. */
  readonly packageRegistry?: CellPackageRegistry;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, {
      ...props,
      description: `Cahoots cell ${props.config.id}: VPC (egress ${props.config.egress}, endpoints ${props.config.endpoints})`,
    });

    const encryptionKey = props.stateful.importKey(this);
    this.network = new CellNetwork(this, 'CellNetwork', {
      egress: props.config.egress,
      endpoints: props.config.endpoints,
      encryptionKey,
    });
    if (props.config.egress === 'nat') {
      this.dnsFirewall = new CellDnsFirewall(this, 'DnsFirewall', {
        customerId: props.config.id,
        vpc: this.network.vpc,
        allowedDomains: props.config.egressAllowList ?? DEFAULT_EGRESS_ALLOW_LIST,
        encryptionKey,
      });
    } else {
      this.packageRegistry = new CellPackageRegistry(this, 'PackageRegistry', { customerId: props.config.id, vpc: this.network.vpc, encryptionKey });
      this.packageRegistry.allowTokenRequestsFrom(this.network.agentSecurityGroup);
    }
  }
}
