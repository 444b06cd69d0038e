// The cell's VPC: subnets by role, gateway and interface endpoints chosen by the customer file,
// flow logs, and the security groups agent Lambdas and endpoints use.
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  type IConnectable,
  type ISecurityGroup,
  type IVpc,
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  type SubnetConfiguration,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EgressMode, EndpointProfile } from '../config/customer-config';
import { createEncryptedLogGroup } from './encrypted-log-group';

/**
 * Interface endpoints per `endpoints` setting, by the service's endpoint name
 * (`com.amazonaws.<region>.<name>`). `minimal` holds what agent Lambdas call directly at run time
 * (`lambda`: the sandbox function, which runs their commands);
 * `full` adds KMS, CloudWatch Logs and CloudWatch Monitoring for code that calls those APIs itself
 * (Lambda's own log and trace delivery does not go through the VPC). docs/deploy.md prices both.
 */
export const INTERFACE_ENDPOINT_SETS = {
  full: ['bedrock-runtime', 'sqs', 'states', 'events', 'kms', 'secretsmanager', 'lambda', 'logs', 'monitoring'],
  minimal: ['bedrock-runtime', 'sqs', 'states', 'events', 'secretsmanager', 'lambda'],
} as const satisfies Record<EndpointProfile, readonly string[]>;

export type InterfaceEndpointName = (typeof INTERFACE_ENDPOINT_SETS.full)[number];

/** Free gateway endpoints, present in every cell. */
export const GATEWAY_ENDPOINTS = ['dynamodb', 's3'] as const;

const INTERFACE_ENDPOINT_SERVICES: Record<InterfaceEndpointName, InterfaceVpcEndpointAwsService> = {
  'bedrock-runtime': InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
  sqs: InterfaceVpcEndpointAwsService.SQS,
  states: InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
  events: InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  kms: InterfaceVpcEndpointAwsService.KMS,
  secretsmanager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  lambda: InterfaceVpcEndpointAwsService.LAMBDA,
  logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  monitoring: InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
};

/**
 * Two AZs: Lambda and the endpoints stay available if one AZ fails, and every interface endpoint
 * is billed per AZ, so a third AZ would add half again to the endpoint bill.
 */
export const CELL_AZ_COUNT = 2;

export const SUBNET_GROUPS = {
  /** Only the NAT gateway lives here; exists only when egress is `nat`. */
  public: 'public',
  /** Agent Lambdas: a route to the NAT gateway when egress is `nat`, isolated otherwise. */
  application: 'application',
  /** Interface endpoint ENIs: isolated. */
  ai: 'ai',
} as const;

/** Where and with which security group a Lambda joins the cell network. */
export interface AgentPlacement {
  readonly vpc: IVpc;
  readonly vpcSubnets: SubnetSelection;
  readonly securityGroups: ISecurityGroup[];
}

export interface CellNetworkProps {
  readonly egress: EgressMode;
  readonly endpoints: EndpointProfile;
  /** Encrypts the flow log group. */
  readonly encryptionKey: IKey;
  readonly cidr?: string;
}

export class CellNetwork extends Construct {
  readonly vpc: Vpc;
  readonly agentSecurityGroup: SecurityGroup;
  readonly endpointSecurityGroup: SecurityGroup;
  readonly interfaceEndpoints: Partial<Record<InterfaceEndpointName, InterfaceVpcEndpoint>> = {};
  readonly flowLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: CellNetworkProps) {
    super(scope, id);
    const withNat = props.egress === 'nat';

    const subnetConfiguration: SubnetConfiguration[] = [
      ...(withNat
        ? [{ name: SUBNET_GROUPS.public, subnetType: SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false }]
        : []),
      {
        name: SUBNET_GROUPS.application,
        subnetType: withNat ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PRIVATE_ISOLATED,
        cidrMask: 20,
      },
      { name: SUBNET_GROUPS.ai, subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ];

    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(props.cidr ?? '10.0.0.0/16'),
      maxAzs: CELL_AZ_COUNT,
      // One NAT gateway for both AZs: agents tolerate losing git access during an AZ outage far
      // better than the customer tolerates paying for a second NAT gateway every hour.
      natGateways: withNat ? 1 : 0,
      subnetConfiguration,
      restrictDefaultSecurityGroup: true,
      gatewayEndpoints: {
        DynamoDb: { service: GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: GatewayVpcEndpointAwsService.S3 },
      },
    });

    this.flowLogGroup = createEncryptedLogGroup(this, 'FlowLogs', { encryptionKey: props.encryptionKey });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: FlowLogTrafficType.ALL,
    });

    this.agentSecurityGroup = new SecurityGroup(this, 'AgentSecurityGroup', {
      vpc: this.vpc,
      description: 'Agent Lambdas: outbound HTTPS only',
      allowAllOutbound: false,
    });
    // 443 to anywhere, but "anywhere" is decided by the route tables: endpoints and gateway
    // endpoints always, the internet through NAT only when egress is nat.
    this.agentSecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to AWS endpoints and git hosts');

    this.endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS in from agent Lambdas only',
      allowAllOutbound: false,
    });
    this.allowEndpointAccessFrom(this.agentSecurityGroup);

    for (const name of INTERFACE_ENDPOINT_SETS[props.endpoints]) {
      this.interfaceEndpoints[name] = this.vpc.addInterfaceEndpoint(`${endpointConstructId(name)}Endpoint`, {
        service: INTERFACE_ENDPOINT_SERVICES[name],
        subnets: { subnetGroupName: SUBNET_GROUPS.ai },
        securityGroups: [this.endpointSecurityGroup],
        // `open` would admit the whole VPC CIDR; access is granted per security group instead.
        open: false,
        privateDnsEnabled: true,
      });
    }
  }

  /** Placement for agent Lambdas: application subnets, agent security group. */
  get agentPlacement(): AgentPlacement {
    return {
      vpc: this.vpc,
      vpcSubnets: { subnetGroupName: SUBNET_GROUPS.application },
      securityGroups: [this.agentSecurityGroup],
    };
  }

  /** Lets another VPC resource (a future non-agent Lambda, say) reach the interface endpoints. */
  allowEndpointAccessFrom(peer: IConnectable): void {
    this.endpointSecurityGroup.connections.allowFrom(peer, Port.tcp(443), 'HTTPS to interface endpoints');
  }
}

function endpointConstructId(name: InterfaceEndpointName): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
