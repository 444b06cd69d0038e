// The cell's shared workspace: one EFS file system per cell (encrypted with the cell key) holding
// the per-project git mirrors and every goal's task working copies, so each agent worker, pipeline
// step and continuation — each a different Lambda environment — finds the files the last one left.
// Functions mount it through one access point and reach it only from the workspace security group.
import { RemovalPolicy } from 'aws-cdk-lib';
import { Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import {
  AccessPoint,
  type CfnFileSystem,
  FileSystem,
  LifecyclePolicy,
  OutOfInfrequentAccessPolicy,
  PerformanceMode,
  ThroughputMode,
} from 'aws-cdk-lib/aws-efs';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { FileSystem as LambdaFileSystem } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CELL_WORKSPACE_ROOT } from '../runtime-environment';
import type { AgentPlacement, CellNetwork } from './cell-network';
import { SUBNET_GROUPS } from './cell-network';

/** Where a mounting function sees the workspace: the runtime's workspace root in a cell. */
export const WORKSPACE_MOUNT_PATH = CELL_WORKSPACE_ROOT;

/**
 * The one POSIX identity every function writes as, whatever user Lambda runs it under: files one
 * worker creates are then always writable by the next. 1000 is an ordinary unprivileged id.
 */
export const WORKSPACE_POSIX_USER = { uid: '1000', gid: '1000' } as const;

/** The access point's root inside the file system; created on first mount with these permissions. */
export const WORKSPACE_ROOT_DIRECTORY = { path: '/cahoots', permissions: '750' } as const;

export interface CellWorkspaceProps {
  readonly network: CellNetwork;
  readonly encryptionKey: IKey;
}

export class CellWorkspace extends Construct {
  readonly fileSystem: FileSystem;
  readonly accessPoint: AccessPoint;
  /** Guards the mount targets: NFS in from the client group only. */
  readonly mountTargetSecurityGroup: SecurityGroup;
  /**
   * Carried by every function that mounts the workspace, instead of the agent security group:
   * HTTPS out (endpoints, git hosts) like an agent, plus NFS to the mount targets. Functions that
   * do not mount the workspace never hold it, so they cannot reach NFS at all.
   */
  readonly clientSecurityGroup: SecurityGroup;
  private readonly network: CellNetwork;

  constructor(scope: Construct, id: string, props: CellWorkspaceProps) {
    super(scope, id);
    const { network } = props;
    this.network = network;

    this.clientSecurityGroup = new SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: network.vpc,
      description: 'Functions that mount the workspace: HTTPS out, NFS to the workspace',
      allowAllOutbound: false,
    });
    this.clientSecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to AWS endpoints and git hosts');
    // Rule written from this side (allowTo) so it lands in this stack, not the network stack's.
    this.clientSecurityGroup.connections.allowTo(network.endpointSecurityGroup, Port.tcp(443), 'HTTPS to interface endpoints');

    this.mountTargetSecurityGroup = new SecurityGroup(this, 'MountTargetSecurityGroup', {
      vpc: network.vpc,
      description: 'Workspace mount targets: NFS in from workspace clients only',
      allowAllOutbound: false,
    });

    this.fileSystem = new FileSystem(this, 'FileSystem', {
      vpc: network.vpc,
      vpcSubnets: { subnetGroupName: SUBNET_GROUPS.application },
      securityGroup: this.mountTargetSecurityGroup,
      encrypted: true,
      kmsKey: props.encryptionKey,
      performanceMode: PerformanceMode.GENERAL_PURPOSE,
      // Git is bursty (a fetch, a checkout, then nothing for minutes); elastic throughput bills
      // the bytes moved instead of provisioning for the peak or depending on burst credits.
      throughputMode: ThroughputMode.ELASTIC,
      // Mirrors of projects nobody works on any more, and working copies of failed goals kept as
      // evidence, go to Infrequent Access after 30 days and come back on first access.
      lifecyclePolicy: LifecyclePolicy.AFTER_30_DAYS,
      outOfInfrequentAccessPolicy: OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
      // Everything here can be rebuilt: mirrors are fetched again from the git host and a goal's
      // delivered work lives on the host. Backups would bill a second copy for nothing; see
      // docs/deploy.md.
      enableAutomaticBackups: false,
      // A cell that is torn down keeps no one's code on a forgotten file system.
      removalPolicy: RemovalPolicy.DESTROY,
      fileSystemPolicy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'DenyUnencryptedTransport',
            effect: Effect.DENY,
            principals: [new AnyPrincipal()],
            actions: ['*'],
            conditions: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          // Identity policies decide who mounts (ClientMount bound to the access point); this
          // only admits clients that come through a mount target of this VPC.
          new PolicyStatement({
            sid: 'MountThroughMountTargetsOnly',
            effect: Effect.ALLOW,
            principals: [new AnyPrincipal()],
            actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
            conditions: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
          }),
        ],
      }),
    });

    // Stated outright: without it CloudFormation leaves the backup setting to the service default.
    (this.fileSystem.node.defaultChild as CfnFileSystem).backupPolicy = { status: 'DISABLED' };

    this.accessPoint = this.fileSystem.addAccessPoint('AccessPoint', {
      path: WORKSPACE_ROOT_DIRECTORY.path,
      posixUser: WORKSPACE_POSIX_USER,
      createAcl: { ownerUid: WORKSPACE_POSIX_USER.uid, ownerGid: WORKSPACE_POSIX_USER.gid, permissions: WORKSPACE_ROOT_DIRECTORY.permissions },
    });
  }

  /** Placement for a function that mounts the workspace: application subnets, the client group. */
  get placement(): AgentPlacement {
    return {
      vpc: this.network.vpc,
      vpcSubnets: { subnetGroupName: SUBNET_GROUPS.application },
      securityGroups: [this.clientSecurityGroup],
    };
  }

  /**
   * The Lambda mount at WORKSPACE_MOUNT_PATH. Mounting adds NFS from the function's security
   * groups (the client group) to the mount targets, ClientMount bound to this access point and
   * ClientWrite on this file system to the function's role.
   */
  get lambdaFileSystem(): LambdaFileSystem {
    return LambdaFileSystem.fromEfsAccessPoint(this.accessPoint, WORKSPACE_MOUNT_PATH);
  }
}
