// The Lambda steps of the goal pipeline: one function per entry of PIPELINE_STEPS, each running its
// thin handler in functions/pipeline/, configured the way lib/runtime.ts reads its environment and
// granted the table and the bus — the state machine, not the steps, talks to the queues. Steps
// that touch git mount the workspace; Deliver also reads the git host credentials.
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_MEMORY_MB } from '../../lib/domain/infrastructure-cost';
import type { PriceOverrides } from '../../lib/domain/prices';
import type { AgentRole } from '../../lib/domain/settings';
import { PIPELINE_STEPS, type PipelineStepName } from '../../lib/pipeline/definition';
import type { PipelineTimeouts } from '../config/customer-config';
import { cellResourceName } from '../naming';
import {
  AWS_PORTS_ENV,
  CELL_WORKSPACE_ROOT,
  queueUrlEnvironment,
  RUNTIME_ENV,
  TABLE_NAME_ENV,
} from '../runtime-environment';
import { AgentFunction } from './agent-function';
import type { AgentPlacement } from './cell-network';
import { type CellSecretReferences, cellSecretsPrefix, grantSecretsRead, type SecretPurpose } from './cell-secrets';
import type { CellWorkspace } from './cell-workspace';
import type { CellEventBus } from './event-bus';
import { grantStateTableAccess } from './state-table';

/**
 * Every Lambda state of statemachines/goal-pipeline.asl.json has `TimeoutSeconds: 120`. A step
 * function stops well before that, so a slow step fails as a Lambda timeout the Retry/Catch sees,
 * not as a state timeout racing a still-running invocation.
 */
export const PIPELINE_STEP_TIMEOUT = Duration.seconds(60);

/** Steps that do more than a few table reads and writes. */
const STEP_SIZING: Partial<Record<PipelineStepName, { timeout: Duration; memorySize: number }>> = {
  // Merges every task branch into the goal branch, pushes it and opens the pull request.
  Deliver: { timeout: Duration.seconds(110), memorySize: FUNCTION_MEMORY_MB.deliverStep },
};

/**
 * Steps that work on the project's git repository and so mount the workspace, with the secrets
 * each reads: Deliver merges, pushes and opens the pull request; AssessGoal removes a finished
 * goal's working copies.
 */
export const WORKSPACE_STEPS: Partial<Record<PipelineStepName, readonly SecretPurpose[]>> = {
  Deliver: ['gitHostCredentials'],
  AssessGoal: [],
};

export interface PipelineStepsProps {
  readonly customerId: string;
  readonly encryptionKey: IKey;
  readonly placement: AgentPlacement;
  /** Mounted by WORKSPACE_STEPS, which run in its placement instead of `placement`. */
  readonly workspace: CellWorkspace;
  readonly secrets: CellSecretReferences;
  readonly table: ITable;
  readonly eventBus: CellEventBus;
  /** Every role's queue URL: steps address dispatched tasks to them (the state machine sends). */
  readonly queueUrls: Readonly<Record<AgentRole, string>>;
  readonly timeouts: PipelineTimeouts;
  /** CAHOOTS_PRICES: the customer file's price overrides; steps price their infrastructure usage with them. */
  readonly prices?: PriceOverrides;
  readonly logRetention?: RetentionDays;
}

export class PipelineSteps extends Construct {
  readonly functions: Readonly<Record<PipelineStepName, AgentFunction>>;

  constructor(scope: Construct, id: string, props: PipelineStepsProps) {
    super(scope, id);

    const environment: Record<string, string> = {
      [TABLE_NAME_ENV]: props.table.tableName,
      [AWS_PORTS_ENV.eventBusName]: props.eventBus.bus.eventBusName,
      ...queueUrlEnvironment(props.queueUrls),
      // StartGoal copies these into the execution's settings, where the Task states read them.
      [RUNTIME_ENV.taskTimeoutSeconds]: String(props.timeouts.taskTimeoutSeconds),
      [RUNTIME_ENV.heartbeatSeconds]: String(props.timeouts.heartbeatSeconds),
      [RUNTIME_ENV.approvalTimeoutSeconds]: String(props.timeouts.approvalTimeoutSeconds),
      ...(props.prices ? { [RUNTIME_ENV.prices]: JSON.stringify(props.prices) } : {}),
    };

    const functions = {} as Record<PipelineStepName, AgentFunction>;
    for (const [step, file] of Object.entries(PIPELINE_STEPS) as [PipelineStepName, string][]) {
      const sizing = STEP_SIZING[step];
      const secrets = WORKSPACE_STEPS[step];
      const mountsWorkspace = secrets !== undefined;
      const fn = new AgentFunction(this, step, {
        entry: `pipeline/${file}.ts`,
        serviceName: cellResourceName(props.customerId, 'pipeline', file),
        description: `Cahoots ${props.customerId}: goal pipeline step ${step}`,
        encryptionKey: props.encryptionKey,
        placement: mountsWorkspace ? props.workspace.placement : props.placement,
        filesystem: mountsWorkspace ? props.workspace.lambdaFileSystem : undefined,
        timeout: sizing?.timeout ?? PIPELINE_STEP_TIMEOUT,
        memorySize: sizing?.memorySize ?? FUNCTION_MEMORY_MB.pipelineStep,
        logRetention: props.logRetention,
        environment: {
          ...environment,
          ...(mountsWorkspace ? { [RUNTIME_ENV.workspaceRoot]: CELL_WORKSPACE_ROOT } : {}),
          ...(secrets && secrets.length > 0 ? { [AWS_PORTS_ENV.secretsPrefix]: cellSecretsPrefix(props.customerId) } : {}),
        },
      });
      grantStateTableAccess(fn, { table: props.table, encryptionKey: props.encryptionKey, access: 'readWrite' });
      props.eventBus.grantPutEvents(fn);
      if (secrets) grantSecretsRead(fn, props.secrets, secrets);
      functions[step] = fn;
    }
    this.functions = functions;
  }
}
