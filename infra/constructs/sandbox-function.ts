// The sandbox function: runs agents' commands (tests, linters, builds) outside the agent workers,
// from a container image with Node 22, npm, git and Python 3. It mounts the cell workspace and
// holds nothing else: its role may write its logs, manage its network interfaces and mount the
// workspace access point; its security group lets it reach the workspace mount targets and
// nothing more; its subnets are isolated. Agent workers invoke it synchronously. The same construct
// makes the dependency-setup function (purpose `setup`): same image and role, but HTTPS out.
import { Duration, IgnoreMode, Size, Validations } from 'aws-cdk-lib';
import { CfnSecurityGroup, Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Repository } from 'aws-cdk-lib/aws-ecr';
import { Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, DockerImageCode, DockerImageFunction, Tracing } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { cellResourceName } from '../naming';
import { RUNTIME_ENV } from '../../lib/runtime-env';
import { ECR_IMAGE_URI } from '../config/customer-config';
import { REPO_ROOT } from '../paths';
import { CELL_WORKSPACE_ROOT } from '../runtime-environment';
import { METRICS_NAMESPACE, vpcNetworkInterfaceStatement } from './agent-function';
import { type CellNetwork, SUBNET_GROUPS } from './cell-network';
import type { CellWorkspace } from './cell-workspace';
import { createEncryptedLogGroup } from './encrypted-log-group';

/** The Dockerfile of our image, relative to the repository root (the build context). */
export const SANDBOX_DOCKERFILE = 'infra/sandbox-image/Dockerfile';

/**
 * What the image build needs from the repository; everything else (node_modules, cdk.out, .git,
 * tests, docs) stays out of the staged asset, so the asset hash changes only with these.
 */
export const SANDBOX_IMAGE_CONTEXT = ['package.json', 'package-lock.json', 'tsconfig.json', 'lib', 'functions', 'infra/sandbox-image'] as const;

/**
 * Lambda's maximum: the longest command (MAX_COMMAND_TIMEOUT_MS, 14 minutes) plus start-up and the answer.
 * Memory buys CPU for test runners; /tmp holds each command's private HOME and npm cache.
 */
export const SANDBOX_SIZING = {
  timeout: Duration.minutes(15),
  memorySize: 3008,
  ephemeralStorageSize: Size.gibibytes(2),
} as const;

/** An egress rule no packet can match: an unroutable address and an unused ICMP type. */
const MATCH_NO_TRAFFIC = { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 };

/**
 * What one function of the sandbox image does. `commands`: agents' commands, in isolated subnets
 * with no way out but the workspace. `setup`: dependency installs (CommandRunner.setup), with
 * HTTPS out: through the NAT under the DNS firewall, or to the CodeArtifact endpoints in cells
 * without egress. Same image, same empty role; only the handler and the network differ.
 */
export type SandboxPurpose = 'commands' | 'setup';

const PURPOSES: Record<SandboxPurpose, { name: string; handler?: string; description: string; roleDescription: string }> = {
  commands: {
    name: 'sandbox',
    description: "runs agents' commands with no credentials and no network",
    roleDescription: 'logs, network interfaces, workspace mount; nothing else',
  },
  setup: {
    name: 'dependency-setup',
    // The image's second bundle (infra/sandbox-image/Dockerfile).
    handler: 'setup-dependencies.handler',
    description: "installs working copies' dependencies from an allow-listed or private registry, with no credentials",
    roleDescription: 'logs, network interfaces, workspace mount; nothing else (registry tokens come in the request)',
  },
};

export interface SandboxFunctionProps {
  /** Default `commands`. */
  readonly purpose?: SandboxPurpose;
  readonly customerId: string;
  readonly encryptionKey: IKey;
  readonly network: CellNetwork;
  readonly workspace: CellWorkspace;
  /** The customer's own image (an ECR URI, see ECR_IMAGE_URI); our Dockerfile when absent. */
  readonly image?: string;
}

/**
 * The sandbox function's fixed name: the DetectWork steps in the pipeline stack invoke it, and the
 * sandbox is created later, in the agents stack, so they name it instead of referencing it.
 */
export function sandboxFunctionName(customerId: string): string {
  return cellResourceName(customerId, 'sandbox');
}

/** The dependency-setup function's fixed name: DetectWork's PrepareDetection installs snapshots through it. */
export function setupFunctionName(customerId: string): string {
  return cellResourceName(customerId, 'dependency-setup');
}

export class SandboxFunction extends Construct {
  readonly function: DockerImageFunction;
  readonly role: Role;
  readonly securityGroup: SecurityGroup;
  readonly logGroup: LogGroup;

  readonly purpose: SandboxPurpose;

  constructor(scope: Construct, id: string, props: SandboxFunctionProps) {
    super(scope, id);
    const { workspace } = props;
    this.purpose = props.purpose ?? 'commands';
    const purpose = PURPOSES[this.purpose];
    const serviceName = `cahoots-${props.customerId}-${purpose.name}`;

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${serviceName}: ${purpose.roleDescription}`,
    });
    this.role.addToPrincipalPolicy(vpcNetworkInterfaceStatement());
    this.logGroup = createEncryptedLogGroup(this, 'LogGroup', { encryptionKey: props.encryptionKey });
    this.logGroup.grantWrite(this.role);

    // Commands: no egress rule at all; the only one is the NFS rule the workspace mount adds below.
    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.network.vpc,
      description:
        this.purpose === 'commands'
          ? 'Sandbox function: NFS to the workspace mount targets, nothing else'
          : 'Dependency-setup function: NFS to the workspace mount targets and HTTPS to registries',
      allowAllOutbound: false,
    });
    if (this.purpose === 'setup') {
      // Where HTTPS can go is decided elsewhere: with NAT, only to names the DNS firewall resolves;
      // without, the route tables reach nothing but the endpoints that admit this group (CodeArtifact)
      // and the S3 gateway endpoint CodeArtifact serves package contents from.
      this.securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to package registries and git hosts');
    }

    this.function = new DockerImageFunction(this, 'Function', {
      // Fixed names: DetectWork's steps, created before these functions, invoke them by name.
      functionName: this.purpose === 'commands' ? sandboxFunctionName(props.customerId) : setupFunctionName(props.customerId),
      code: sandboxImageCode(this, props.image, purpose.handler),
      architecture: Architecture.ARM_64,
      ...SANDBOX_SIZING,
      role: this.role,
      logGroup: this.logGroup,
      // X-Ray would need both a permission and a network path; the sandbox gets neither.
      tracing: Tracing.DISABLED,
      vpc: props.network.vpc,
      // Commands: isolated subnets, no route to a NAT gateway whatever the cell's egress setting.
      // Setup: the application subnets, which route to the NAT when the cell has one.
      vpcSubnets: { subnetGroupName: this.purpose === 'commands' ? SUBNET_GROUPS.ai : SUBNET_GROUPS.application },
      securityGroups: [this.securityGroup],
      filesystem: workspace.lambdaFileSystem,
      description: `Cahoots ${props.customerId}: ${purpose.description}`,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_TRACE_ENABLED: 'false',
        [RUNTIME_ENV.workspaceRoot]: CELL_WORKSPACE_ROOT,
      },
    });
    // Mounting added the one egress rule (NFS to the mount targets' group, a separate resource
    // because that group lives in another stack) and its ingress twin. A group created with no
    // inline egress rule would get EC2's default allow-all rule, so the inline list holds CDK's
    // match-nothing rule: the group's egress is exactly that NFS rule, however it is deployed.
    // The setup function's HTTPS rule is inline and stays.
    if (this.purpose === 'commands') {
      (this.securityGroup.node.defaultChild as CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', [MATCH_NO_TRAFFIC]);
    }

    this.acknowledgeFindings();
  }

  /** Lets an agent worker run commands here: lambda:InvokeFunction on this function only. */
  grantInvoke(grantee: IGrantable): Grant {
    // The unqualified function only: grantInvoke would add `<arn>:*` (every version and alias),
    // which nothing here publishes.
    return Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [this.function.functionArn] });
  }

  get functionName(): string {
    return this.function.functionName;
  }

  private acknowledgeFindings(): void {
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Two statements need Resource "*": the EC2 network-interface actions Lambda uses to attach the function to its VPC (Describe* calls have no resource-level permissions); elasticfilesystem:ClientMount, which Lambda\'s EFS mount grants on "*" with a condition binding it to the one access point.',
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless::Serverless-LambdaTracing',
      reason: 'Tracing is off on purpose: X-Ray needs a permission and a network path, and the sandbox function, which runs model-written code, gets neither.',
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless::Serverless-LambdaDLQ',
      reason: 'Invoked synchronously only (RequestResponse from agent workers, which get the error); a DLQ receives failed asynchronous invocations, which this function never gets.',
    });
  }
}

/** Our image (or the customer's), with `handler` in place of the image's CMD when given. */
function sandboxImageCode(scope: Construct, image: string | undefined, handler: string | undefined): DockerImageCode {
  const cmd = handler ? { cmd: [handler] } : {};
  if (image) {
    const match = ECR_IMAGE_URI.exec(image);
    if (!match) throw new Error(`sandbox.image ${JSON.stringify(image)} is not an ECR image URI`);
    const [, , , repositoryName, tag, digest] = match;
    const repository = Repository.fromRepositoryName(scope, 'CustomerImageRepository', repositoryName!);
    return DockerImageCode.fromEcr(repository, { tagOrDigest: digest ?? tag!, ...cmd });
  }
  // Staged at synth (a copy of the files the build needs), built and pushed by `cdk deploy`; both
  // functions' assets have the same hash, so one image is built and pushed.
  return DockerImageCode.fromImageAsset(REPO_ROOT, {
    file: SANDBOX_DOCKERFILE,
    platform: Platform.LINUX_ARM64,
    ignoreMode: IgnoreMode.DOCKER,
    exclude: ['*', ...SANDBOX_IMAGE_CONTEXT.map((entry) => `!${entry}`)],
    ...cmd,
  });
}
