// The one Lambda construct for Cahoots handlers (functions/**): it carries the runtime, ESM bundling,
// log group, tracing, VPC placement and role defaults so no function repeats or forgets them.
import path from 'node:path';
import { Duration, type Size, Validations } from 'aws-cdk-lib';
import type { IGrantable, IPrincipal } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, type FileSystem, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ESM_REQUIRE_BANNER, LAMBDA_BUNDLING } from '../lambda-bundling';
import { FUNCTIONS_DIR, LOCK_FILE, REPO_ROOT } from '../paths';
import type { AgentPlacement } from './cell-network';
import { createEncryptedLogGroup } from './encrypted-log-group';

/** Node 22 is what package.json, the local runtime and the tests run; Lambda runs the same. */
export const AGENT_FUNCTION_RUNTIME = Runtime.NODEJS_22_X;
export const METRICS_NAMESPACE = 'Cahoots';
/** Lambda's hard limit, for callers that derive other timeouts from a function timeout. */
export const MAX_FUNCTION_TIMEOUT = Duration.minutes(15);

export { ESM_REQUIRE_BANNER };

/** What Lambda needs to attach a function to its VPC (Describe* calls have no resource-level permissions). */
export function vpcNetworkInterfaceStatement(): PolicyStatement {
  return new PolicyStatement({
    sid: 'LambdaManagesItsVpcNetworkInterfaces',
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
  });
}

export interface AgentFunctionProps {
  /** Handler file relative to `functions/`, e.g. `agents/planner.ts`; it must export `handler`. */
  readonly entry: string;
  /** Folder `entry` is relative to. Defaults to `functions/`; tests point it at fixtures. */
  readonly sourceRoot?: string;
  /** POWERTOOLS_SERVICE_NAME: how this function names itself in logs, traces and metrics. */
  readonly serviceName: string;
  readonly encryptionKey: IKey;
  readonly placement: AgentPlacement;
  /** Explicit on purpose: queue visibility timeouts and pipeline heartbeats are derived from it. */
  readonly timeout: Duration;
  /** Explicit on purpose: memory decides CPU and cost. */
  readonly memorySize: number;
  readonly environment?: Record<string, string>;
  readonly logRetention?: RetentionDays;
  /** Set where a role must be throttled (e.g. to respect a Bedrock quota). */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Only for functions invoked asynchronously: where failed events go. Functions driven by an SQS
   * event source, Step Functions or API Gateway are invoked synchronously and leave this unset.
   */
  readonly asyncFailureQueue?: IQueue;
  /**
   * Only for a function a schedule invokes asynchronously every `redoneWithin` and whose next run
   * redoes whatever a failed run left (the outbox sweeper): failed events are dropped, with no
   * failure queue and no Lambda retries, because the schedule already is the retry.
   */
  readonly scheduledRetry?: { readonly redoneWithin: Duration };
  /** /tmp size; Lambda's default is 512 MiB. */
  readonly ephemeralStorageSize?: Size;
  /**
   * A file system to mount (the cell workspace, see CellWorkspace.lambdaFileSystem). The
   * placement must then carry the security group the file system admits.
   */
  readonly filesystem?: FileSystem;
  readonly description?: string;
  /**
   * Further statements of this function that need Resource "*", each described as it should read
   * in the cdk-nag acknowledgement (the role has one `IAM5[Resource::*]` acknowledgement naming them all).
   */
  readonly wildcardResourceGrants?: readonly string[];
}

const STATEMENT_COUNT: Record<number, string> = { 2: 'Two', 3: 'Three', 4: 'Four', 5: 'Five' };

export class AgentFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly timeout: Duration;
  /** POWERTOOLS_SERVICE_NAME: the `service` dimension of every metric the function emits. */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: AgentFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout;
    this.serviceName = props.serviceName;
    const entry = resolveEntry(props.sourceRoot ?? FUNCTIONS_DIR, props.entry);

    // Our own role instead of the AWS managed execution-role policies: log permissions can then be
    // scoped to this function's log group rather than every log group in the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName}`,
    });
    this.role.addToPrincipalPolicy(vpcNetworkInterfaceStatement());

    this.logGroup = createEncryptedLogGroup(this, 'LogGroup', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      runtime: AGENT_FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      vpc: props.placement.vpc,
      vpcSubnets: props.placement.vpcSubnets,
      securityGroups: props.placement.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueue: props.asyncFailureQueue,
      retryAttempts: props.scheduledRetry ? 0 : undefined,
      ephemeralStorageSize: props.ephemeralStorageSize,
      filesystem: props.filesystem,
      description: props.description,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      projectRoot: REPO_ROOT,
      depsLockFilePath: LOCK_FILE,
      // The settings the bundle-size test and `npm run bench` build with too (infra/lambda-bundling.ts).
      bundling: {
        ...LAMBDA_BUNDLING,
        format: OutputFormat.ESM,
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        forceDockerBundling: false,
      },
    });

    this.acknowledgeFindings(props);
  }

  get grantPrincipal(): IPrincipal {
    return this.role;
  }

  get functionArn(): string {
    return this.function.functionArn;
  }

  get functionName(): string {
    return this.function.functionName;
  }

  private acknowledgeFindings(props: AgentFunctionProps): void {
    const wildcardStatements = [
      'the EC2 network-interface actions Lambda uses to attach the function to its VPC (Describe* calls have no resource-level permissions)',
      'X-Ray PutTraceSegments/PutTelemetryRecords for active tracing, which support no resource ARN',
      ...(props.filesystem
        ? ['elasticfilesystem:ClientMount, which Lambda\'s EFS mount grants on "*" with a condition binding it to the one access point (elasticfilesystem:AccessPointArn)']
        : []),
      ...(props.wildcardResourceGrants ?? []),
    ];
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `${STATEMENT_COUNT[wildcardStatements.length] ?? wildcardStatements.length} statements need Resource "*": ${wildcardStatements.join('; ')}.`,
    });
    for (const ruleId of ['AwsSolutions::AwsSolutions-L1', 'Serverless::Serverless-LambdaLatestVersion']) {
      Validations.of(this.function).acknowledge({
        id: ruleId,
        reason:
          'Pinned to Node.js 22 on purpose: package.json engines, the node@22 toolchain, the tests and the local runtime all run 22, and moving Lambda alone would run untested code in production. Upgrade all of them together.',
      });
    }
    if (props.scheduledRetry) {
      const reason = `Invoked asynchronously by a schedule that runs again within ${props.scheduledRetry.redoneWithin.toHumanString()} and redoes whatever a failed run left undone; a DLQ or failure destination would only collect stale "run now" events, so failed events are dropped and Lambda retries are off.`;
      for (const ruleId of ['Serverless::Serverless-LambdaDLQ', 'Serverless::Serverless-LambdaAsyncFailureDestination']) {
        Validations.of(this.function).acknowledge({ id: ruleId, reason });
      }
    } else if (!props.asyncFailureQueue) {
      Validations.of(this.function).acknowledge({
        id: 'Serverless::Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously only (SQS event source mapping, Step Functions or API Gateway); a Lambda DLQ receives failed asynchronous invocations, which this function never gets. SQS-driven functions redrive to their queue DLQ instead.',
      });
    }
  }
}

function resolveEntry(sourceRoot: string, entry: string): string {
  const root = path.resolve(sourceRoot);
  const resolved = path.resolve(root, entry);
  if (!resolved.startsWith(root + path.sep)) {
    throw new Error(`AgentFunction entry "${entry}" must be a path inside ${root}`);
  }
  return resolved;
}
