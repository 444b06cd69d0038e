// The package registry of a cell without egress: a CodeArtifact domain (encrypted with the cell
// key) and an npm repository whose upstream is the public npm registry, reached from the VPC through
// the codeartifact.api and codeartifact.repositories interface endpoints. Agent workers fetch a
// short-lived read-only token (API endpoint); the dependency-setup function installs with it
// (repositories endpoint; package contents come from CodeArtifact's S3 bucket through the S3
// gateway endpoint). Nothing else in the VPC is admitted to either endpoint.
import { Stack } from 'aws-cdk-lib';
import { CfnDomain, CfnRepository } from 'aws-cdk-lib/aws-codeartifact';
import {
  CfnSecurityGroupIngress,
  type IConnectable,
  type InterfaceVpcEndpoint,
  type ISecurityGroup,
  InterfaceVpcEndpointAwsService,
  type IVpc,
  Port,
  SecurityGroup,
} from 'aws-cdk-lib/aws-ec2';
import { type Grant, type IGrantable, Grant as IamGrant, Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SUBNET_GROUPS } from './cell-network';

/** The npm repository's name inside the cell's domain. */
export const NPM_REPOSITORY_NAME = 'npm';
/** The interface endpoints the registry adds to a cell without egress, by endpoint name. */
export const PACKAGE_REGISTRY_ENDPOINTS = ['codeartifact.api', 'codeartifact.repositories'] as const;

/** CodeArtifact's name for the public npm registry as an external connection. */
export const NPM_UPSTREAM = 'public:npmjs';

export interface CellPackageRegistryProps {
  readonly customerId: string;
  readonly vpc: IVpc;
  readonly encryptionKey: IKey;
}

export class CellPackageRegistry extends Construct {
  readonly domain: CfnDomain;
  readonly repository: CfnRepository;
  readonly domainName: string;
  /** The repository's npm endpoint, ending in "/": what npm's `registry` setting points at. */
  readonly npmUrl: string;
  readonly apiEndpoint: InterfaceVpcEndpoint;
  readonly repositoriesEndpoint: InterfaceVpcEndpoint;
  private readonly apiEndpointSecurityGroup: SecurityGroup;
  private readonly repositoriesEndpointSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: CellPackageRegistryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.domainName = `cahoots-${props.customerId}`;

    this.domain = new CfnDomain(this, 'Domain', { domainName: this.domainName, encryptionKey: props.encryptionKey.keyArn });
    this.repository = new CfnRepository(this, 'NpmRepository', {
      domainName: this.domainName,
      repositoryName: NPM_REPOSITORY_NAME,
      description: 'npm packages for dependency installs, fetched from the public npm registry on first use and kept here',
      externalConnections: [NPM_UPSTREAM],
    });
    this.repository.addResourceDependency(this.domain);
    this.npmUrl = `https://${this.domainName}-${stack.account}.d.codeartifact.${stack.region}.${stack.urlSuffix}/npm/${NPM_REPOSITORY_NAME}/`;

    // One group per endpoint, so a token fetcher cannot download and an installer cannot call the API.
    this.apiEndpointSecurityGroup = new SecurityGroup(this, 'ApiEndpointSecurityGroup', {
      vpc: props.vpc,
      description: 'CodeArtifact API endpoint: HTTPS in from agent workers (authorization tokens) only',
      allowAllOutbound: false,
    });
    this.repositoriesEndpointSecurityGroup = new SecurityGroup(this, 'RepositoriesEndpointSecurityGroup', {
      vpc: props.vpc,
      description: 'CodeArtifact repositories endpoint: HTTPS in from the dependency-setup function only',
      allowAllOutbound: false,
    });
    const endpoint = (endpointId: string, service: InterfaceVpcEndpointAwsService, group: SecurityGroup) =>
      props.vpc.addInterfaceEndpoint(endpointId, {
        service,
        subnets: { subnetGroupName: SUBNET_GROUPS.ai },
        securityGroups: [group],
        open: false,
        // Required for the repositories endpoint: npm reaches <domain>-<owner>.d.codeartifact.<region>.amazonaws.com by name.
        privateDnsEnabled: true,
      });
    this.apiEndpoint = endpoint('CodeartifactApiEndpoint', InterfaceVpcEndpointAwsService.CODEARTIFACT_API, this.apiEndpointSecurityGroup);
    this.repositoriesEndpoint = endpoint(
      'CodeartifactRepositoriesEndpoint',
      InterfaceVpcEndpointAwsService.CODEARTIFACT_REPOSITORIES,
      this.repositoriesEndpointSecurityGroup,
    );
  }

  /** Lets `peer` (the agent workers' group) ask the API endpoint for tokens. */
  allowTokenRequestsFrom(peer: IConnectable): void {
    this.apiEndpointSecurityGroup.connections.allowFrom(peer, Port.tcp(443), 'HTTPS for CodeArtifact authorization tokens');
  }

  /**
   * Lets `peer` (the dependency-setup function's group, in a later stack) download packages. The
   * rule lives next to the peer: in this stack it would make the network stack depend on the stack
   * that depends on it.
   */
  allowDownloadsFrom(peer: ISecurityGroup): void {
    new CfnSecurityGroupIngress(peer, 'CodeartifactRepositoriesIngress', {
      groupId: this.repositoriesEndpointSecurityGroup.securityGroupId,
      sourceSecurityGroupId: peer.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'HTTPS for npm package downloads',
    });
  }

  /** Written out rather than referenced: the grant in another stack then needs no cross-stack export. */
  get domainArn(): string {
    return Stack.of(this).formatArn({ service: 'codeartifact', resource: 'domain', resourceName: this.domainName });
  }

  /**
   * Exactly what fetching a read-only token takes: codeartifact:GetAuthorizationToken on this
   * domain, and sts:GetServiceBearerToken (which has no resource type) only for CodeArtifact.
   */
  grantReadToken(grantee: IGrantable): Grant {
    const token = IamGrant.addToPrincipal({ grantee, actions: ['codeartifact:GetAuthorizationToken'], resourceArns: [this.domainArn] });
    IamGrant.addToPrincipal({
      grantee,
      actions: ['sts:GetServiceBearerToken'],
      resourceArns: ['*'],
      conditions: { StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } },
    });
    if (grantee.grantPrincipal instanceof Role) {
      Validations.of(grantee.grantPrincipal).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'sts:GetServiceBearerToken has no resource type, so it is granted on "*" with the condition sts:AWSServiceName = codeartifact.amazonaws.com: the bearer token CodeArtifact needs to issue a repository read token, and nothing else.',
      });
    }
    return token;
  }
}
