// The DNS firewall of a cell with NAT egress: Route 53 Resolver DNS Firewall on the cell VPC lets
// only the registries and git hosts the customer file lists (and AWS's own regional endpoints)
// resolve, answers every other name with NXDOMAIN, and logs every query to an encrypted log group.
// Without a name, nothing in the VPC finds a way out through the NAT: not a dependency install's
// lifecycle script, not anything else.
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  CfnFirewallDomainList,
  CfnFirewallRuleGroup,
  CfnFirewallRuleGroupAssociation,
  CfnResolverQueryLoggingConfig,
  CfnResolverQueryLoggingConfigAssociation,
} from 'aws-cdk-lib/aws-route53resolver';
import { Construct } from 'constructs';
import { createEncryptedLogGroup } from './encrypted-log-group';

/** Rule priorities inside the group: the allow-list is evaluated first, the block-all rule last. */
export const DNS_FIREWALL_PRIORITIES = { allow: 100, blockEverythingElse: 200 } as const;

/**
 * The names cell functions resolve to reach AWS in their own region (interface endpoints with
 * private DNS, the DynamoDB and S3 gateway endpoints, CodeArtifact): allowed in every cell.
 */
export function awsRegionalDomains(region: string): string[] {
  return [`${region}.amazonaws.com`, `*.${region}.amazonaws.com`];
}

export interface CellDnsFirewallProps {
  readonly customerId: string;
  readonly vpc: IVpc;
  /** The customer file's egressAllowList (or its default). */
  readonly allowedDomains: readonly string[];
  /** Encrypts the query log. */
  readonly encryptionKey: IKey;
}

export class CellDnsFirewall extends Construct {
  readonly allowList: CfnFirewallDomainList;
  readonly ruleGroup: CfnFirewallRuleGroup;
  readonly queryLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: CellDnsFirewallProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const domains = [...new Set([...props.allowedDomains, ...awsRegionalDomains(stack.region)])];

    this.allowList = new CfnFirewallDomainList(this, 'AllowedDomains', {
      name: `cahoots-${props.customerId}-allowed`,
      domains,
    });
    const everything = new CfnFirewallDomainList(this, 'AllDomains', {
      name: `cahoots-${props.customerId}-everything`,
      domains: ['*'],
    });

    this.ruleGroup = new CfnFirewallRuleGroup(this, 'RuleGroup', {
      name: `cahoots-${props.customerId}-egress`,
      firewallRules: [
        { priority: DNS_FIREWALL_PRIORITIES.allow, action: 'ALLOW', firewallDomainListId: this.allowList.attrId },
        {
          priority: DNS_FIREWALL_PRIORITIES.blockEverythingElse,
          action: 'BLOCK',
          blockResponse: 'NXDOMAIN',
          firewallDomainListId: everything.attrId,
        },
      ],
    });

    new CfnFirewallRuleGroupAssociation(this, 'Association', {
      name: `cahoots-${props.customerId}-egress`,
      firewallRuleGroupId: this.ruleGroup.attrId,
      vpcId: props.vpc.vpcId,
      // 101-9900 are for customer rule groups; ours goes first.
      priority: 101,
    });

    // Every query, allowed or blocked, with the resolving interface: who tried to reach what.
    this.queryLogGroup = createEncryptedLogGroup(this, 'QueryLogs', { encryptionKey: props.encryptionKey });
    const queryLogging = new CfnResolverQueryLoggingConfig(this, 'QueryLogging', {
      name: `cahoots-${props.customerId}-dns-queries`,
      // The log group's ARN without the ":*" suffix CloudFormation's Arn attribute carries.
      destinationArn: stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: this.queryLogGroup.logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    });
    new CfnResolverQueryLoggingConfigAssociation(this, 'QueryLoggingAssociation', {
      resolverQueryLogConfigId: queryLogging.attrId,
      resourceId: props.vpc.vpcId,
    });
  }
}
