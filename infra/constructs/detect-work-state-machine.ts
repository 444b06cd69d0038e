// The DetectWork state machine (statemachines/detect-work.asl.json) and its five step functions:
// prepare a snapshot of the default branch and install its dependencies (workspace mount, git
// credentials, the dependency-setup function and the cell's package registry), run one detector
// (workspace mount, the sandbox function for commands, the artifacts prefix for its findings, the
// git credentials for GitHub issues, cloudwatch:DescribeAlarms for the customer's alarms, model
// invocation and the model settings for the analyst),
// merge (artifacts), decide goals (starts the goal pipeline), record the run. Each function gets
// exactly the grants its step needs. The scheduler and the API start executions with
// `{"projectId", "trigger"}` (grantStartExecution).
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DETECT_WORK_NAME, DETECT_WORK_STEPS, detectWorkSubstitutions, type DetectWorkStepName } from '../../lib/detection/definition';
import type { PriceOverrides } from '../../lib/domain/prices';
import type { EgressMode } from '../config/customer-config';
import { cellResourceName } from '../naming';
import { AWS_PORTS_ENV, CELL_WORKSPACE_ROOT, cellDeploymentEnvironment, RUNTIME_ENV, TABLE_NAME_ENV } from '../runtime-environment';
import { AgentFunction } from './agent-function';
import { grantArtifactsPrefixAccess } from './artifacts-bucket';
import type { AgentPlacement } from './cell-network';
import type { CellPackageRegistry } from './cell-package-registry';
import { type CellSecretReferences, cellSecretsPrefix, grantSecretsRead } from './cell-secrets';
import type { CellWorkspace } from './cell-workspace';
import type { CellEventBus } from './event-bus';
import { PipelineStateMachine } from './pipeline-state-machine';
import { grantModelInvocation, type ModelResources } from './model-access';
import { grantStateTableAccess } from './state-table';

/** Where RunDetector leaves each detector's findings for MergeFindings (lib/detection/merge.ts). */
export const DETECTION_ARTIFACTS_PREFIX = 'detections/';

/**
 * Sizing per step. PrepareDetection waits for the snapshot's dependency install in the setup
 * function (up to ten minutes) and RunDetector waits for the project's tests and compilers in the sandbox function
 * (up to ten minutes per command), so it gets Lambda's full 15 minutes; the state's TimeoutSeconds
 * (900) matches. The others read and write the table.
 */
const STEP_SIZING: Record<DetectWorkStepName, { timeout: Duration; memorySize: number }> = {
  PrepareDetection: { timeout: Duration.minutes(15), memorySize: 2048 },
  RunDetector: { timeout: Duration.minutes(15), memorySize: 1024 },
  MergeFindings: { timeout: Duration.minutes(4), memorySize: 512 },
  DecideGoals: { timeout: Duration.seconds(90), memorySize: 512 },
  RecordDetection: { timeout: Duration.seconds(90), memorySize: 512 },
};

/**
 * Why RunDetector may call cloudwatch:DescribeAlarms on "*" (the cdk-nag IAM5[Resource::*]
 * acknowledgement on its role says so): the alarm detector reads the alarms each project names in
 * detection.alarmNames, which can be any alarm of the account, and DescribeAlarms returns composite
 * alarms only to a caller allowed on "*". Read-only; no other CloudWatch action is granted.
 */
const ALARM_READ_REASON =
  'cloudwatch:DescribeAlarms for the alarm detector, which reads the alarms each project names (any alarm of the account); DescribeAlarms returns composite alarms only to a caller allowed on "*", and it is read-only';

/** Steps that open the project's workspace: the snapshot is made, read and removed there. */
const WORKSPACE_STEPS: ReadonlySet<DetectWorkStepName> = new Set(['PrepareDetection', 'RunDetector', 'RecordDetection']);

export interface DetectWorkStateMachineProps {
  readonly customerId: string;
  readonly encryptionKey: IKey;
  readonly placement: AgentPlacement;
  readonly workspace: CellWorkspace;
  readonly secrets: CellSecretReferences;
  readonly table: ITable;
  readonly eventBus: CellEventBus;
  /** By its literal name (StatefulStack.importInto), so the prefix grant is an ARN nag can name. */
  readonly artifactsBucket: IBucket;
  /** The sandbox function that runs detectors' commands, by its fixed name (it lives in a later stack). */
  readonly sandboxFunctionName: string;
  /** The cell's egress: RunDetector's dependency detectors ask the npm registry only where there is a way out. */
  readonly egress: EgressMode;
  /** The dependency-setup function PrepareDetection installs the snapshot's dependencies with, by its fixed name. */
  readonly setupFunctionName: string;
  /** In cells without egress: the CodeArtifact repository installs come from (PrepareDetection fetches its read token). */
  readonly packageRegistry?: CellPackageRegistry;
  /** The goal pipeline DecideGoals starts goals on. */
  readonly goalPipeline: PipelineStateMachine;
  /** Bedrock models the analyst may invoke: the same as the agent workers (bedrockModelResources). */
  readonly models: ModelResources;
  /** CAHOOTS_MODEL for RunDetector: the analyst's models (the reviewer's defaults) for projects without a policy of their own. */
  readonly defaultModels?: readonly string[];
  /** CAHOOTS_PRICES: the customer file's price overrides, so the analyst's budget prices calls as the agents do. */
  readonly prices?: PriceOverrides;
  /** The cell secret with the OpenAI-compatible API key, when the customer file names one. */
  readonly openAiApiKey?: { readonly name: string; readonly secret: ISecret };
  readonly logRetention?: RetentionDays;
}

export class DetectWorkStateMachine extends Construct {
  readonly stateMachine: IStateMachine;
  readonly functions: Readonly<Record<DetectWorkStepName, AgentFunction>>;
  private readonly machine: PipelineStateMachine;

  constructor(scope: Construct, id: string, props: DetectWorkStateMachineProps) {
    super(scope, id);
    const functions = {} as Record<DetectWorkStepName, AgentFunction>;
    for (const [step, file] of Object.entries(DETECT_WORK_STEPS) as [DetectWorkStepName, string][]) {
      const mountsWorkspace = WORKSPACE_STEPS.has(step);
      const fn = new AgentFunction(this, step, {
        entry: `detection/${file}.ts`,
        serviceName: cellResourceName(props.customerId, 'detection', file),
        description: `Cahoots ${props.customerId}: work detection step ${step}`,
        encryptionKey: props.encryptionKey,
        placement: mountsWorkspace ? props.workspace.placement : props.placement,
        filesystem: mountsWorkspace ? props.workspace.lambdaFileSystem : undefined,
        ...STEP_SIZING[step],
        ...(step === 'RunDetector' ? { wildcardResourceGrants: [ALARM_READ_REASON] } : {}),
        logRetention: props.logRetention,
        environment: {
          [TABLE_NAME_ENV]: props.table.tableName,
          [AWS_PORTS_ENV.eventBusName]: props.eventBus.bus.eventBusName,
          ...(mountsWorkspace ? { [RUNTIME_ENV.workspaceRoot]: CELL_WORKSPACE_ROOT } : {}),
        },
      });
      grantStateTableAccess(fn, { table: props.table, encryptionKey: props.encryptionKey, access: 'readWrite' });
      props.eventBus.grantPutEvents(fn);
      functions[step] = fn;
    }
    this.functions = functions;

    // PrepareDetection fetches the repository into the workspace mirror with the git credentials.
    functions.PrepareDetection.function.addEnvironment(AWS_PORTS_ENV.secretsPrefix, cellSecretsPrefix(props.customerId));
    grantSecretsRead(functions.PrepareDetection, props.secrets, ['gitHostCredentials']);

    // PrepareDetection installs the snapshot's dependencies once, before the detectors share it.
    const prepare = functions.PrepareDetection;
    prepare.function.addEnvironment(AWS_PORTS_ENV.setupFunctionName, props.setupFunctionName);
    prepare.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [Stack.of(this).formatArn({ service: 'lambda', resource: 'function', resourceName: props.setupFunctionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    if (props.packageRegistry) {
      prepare.function.addEnvironment(AWS_PORTS_ENV.codeArtifactDomain, props.packageRegistry.domainName);
      prepare.function.addEnvironment(AWS_PORTS_ENV.codeArtifactDomainOwner, Stack.of(this).account);
      prepare.function.addEnvironment(AWS_PORTS_ENV.codeArtifactNpmUrl, props.packageRegistry.npmUrl);
      props.packageRegistry.grantReadToken(prepare);
    }

    // RunDetector runs commands in the sandbox function and leaves findings under detections/.
    const run = functions.RunDetector;
    for (const [name, value] of Object.entries(cellDeploymentEnvironment(props.egress))) run.function.addEnvironment(name, value);
    run.function.addEnvironment(AWS_PORTS_ENV.sandboxFunctionName, props.sandboxFunctionName);
    run.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [Stack.of(this).formatArn({ service: 'lambda', resource: 'function', resourceName: props.sandboxFunctionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    // The issue detector lists the project's labelled issues through the repository host (GitHub token).
    run.function.addEnvironment(AWS_PORTS_ENV.secretsPrefix, cellSecretsPrefix(props.customerId));
    grantSecretsRead(run, props.secrets, ['gitHostCredentials']);
    // The alarm detector reads the customer's own alarms (detection.alarmNames, any name they choose).
    // Resource "*": see ALARM_READ_REASON (acknowledged with the function's other "*" statements).
    run.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
    // The analyst calls the project's models through the model gateway, as an agent worker does.
    grantModelInvocation(run, run.role, props.models);
    if (props.prices) run.function.addEnvironment(RUNTIME_ENV.prices, JSON.stringify(props.prices));
    if (props.defaultModels && props.defaultModels.length > 0) run.function.addEnvironment(RUNTIME_ENV.defaultModels, props.defaultModels.join(','));
    if (props.openAiApiKey) {
      run.function.addEnvironment(RUNTIME_ENV.openAiApiKeySecret, props.openAiApiKey.name);
      props.openAiApiKey.secret.grantRead(run);
    }
    for (const step of ['RunDetector', 'MergeFindings'] as const) {
      functions[step].function.addEnvironment(AWS_PORTS_ENV.artifactsBucket, props.artifactsBucket.bucketName);
      grantArtifactsPrefixAccess(functions[step], functions[step].role, {
        bucket: props.artifactsBucket,
        encryptionKey: props.encryptionKey,
        prefix: DETECTION_ARTIFACTS_PREFIX,
      });
    }

    // DecideGoals starts goal pipelines for the findings it picks.
    functions.DecideGoals.function.addEnvironment(AWS_PORTS_ENV.stateMachineArn, props.goalPipeline.stateMachineArn);
    props.goalPipeline.grantStartExecution(functions.DecideGoals);

    this.machine = new PipelineStateMachine(this, 'StateMachine', {
      customerId: props.customerId,
      definitionName: DETECT_WORK_NAME,
      definitionSubstitutions: detectWorkSubstitutions((step) => functions[step].functionArn),
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      // A run is a snapshot, a few detectors of at most 15 minutes each (four at once), a merge.
      timeout: Duration.hours(2),
    });
    for (const fn of Object.values(functions)) this.machine.allowInvoke(fn);
    this.stateMachine = this.machine.stateMachine;
  }

  get stateMachineArn(): string {
    return this.machine.stateMachineArn;
  }

  /** Start runs (the scheduler's role, the API): StartExecution and the key for the encrypted input. */
  grantStartExecution(grantee: IGrantable): Grant {
    return this.machine.grantStartExecution(grantee);
  }
}
