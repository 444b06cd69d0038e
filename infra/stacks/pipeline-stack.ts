// The cell's pipeline stack: the goal pipeline state machine (statemachines/goal-pipeline.asl.json),
// one Lambda per pipeline step, the DetectWork state machine (statemachines/detect-work.asl.json)
// with its steps, and the outbox sweeper that republishes deferred domain events.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ANALYST_MODEL_ROLE } from '../../lib/domain/project';
import { AGENT_ROLES, type AgentRole } from '../../lib/domain/settings';
import { GOAL_PIPELINE_NAME, pipelineSubstitutions } from '../../lib/pipeline/definition';
import type { CustomerConfig } from '../config/customer-config';
import { cellSecretReference } from '../constructs/cell-secrets';
import { DetectionSchedules } from '../constructs/detection-schedules';
import { DetectWorkStateMachine } from '../constructs/detect-work-state-machine';
import { bedrockModelResources } from '../constructs/model-access';
import { OutboxSweeper } from '../constructs/outbox-sweeper';
import { PipelineStateMachine } from '../constructs/pipeline-state-machine';
import { PipelineSteps } from '../constructs/pipeline-steps';
import { sandboxFunctionName, setupFunctionName } from '../constructs/sandbox-function';
import type { NetworkStack } from './network-stack';
import type { ServiceStack } from './service-stack';
import type { StatefulStack } from './stateful-stack';

export interface PipelineStackProps extends StackProps {
  readonly config: CustomerConfig;
  readonly stateful: StatefulStack;
  readonly network: NetworkStack;
  readonly service: ServiceStack;
}

export class PipelineStack extends Stack {
  readonly steps: PipelineSteps;
  readonly pipeline: PipelineStateMachine;
  readonly outbox: OutboxSweeper;
  /** Work detection; schedules and the API start it with `{"projectId", "trigger"}`. */
  readonly detectWorkStateMachine: DetectWorkStateMachine;
  /** One EventBridge Scheduler schedule per project with detection enabled, starting DetectWork. */
  readonly detectionSchedules: DetectionSchedules;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, {
      ...props,
      description: `Cahoots cell ${props.config.id}: goal pipeline state machine, its step functions, event outbox sweeper`,
    });
    const { config, service } = props;
    const { key, table, secrets, artifactsBucket } = props.stateful.importInto(this);
    const placement = props.network.network.agentPlacement;

    const queueUrls = Object.fromEntries(AGENT_ROLES.map((role) => [role, service.queues[role].queue.queueUrl])) as Record<
      AgentRole,
      string
    >;
    this.steps = new PipelineSteps(this, 'Steps', {
      customerId: config.id,
      encryptionKey: key,
      placement,
      workspace: service.workspace,
      secrets,
      table,
      eventBus: service.eventBus,
      queueUrls,
      timeouts: config.pipelineTimeouts,
      ...(config.prices ? { prices: config.prices } : {}),
    });

    this.pipeline = new PipelineStateMachine(this, 'GoalPipeline', {
      customerId: config.id,
      definitionName: GOAL_PIPELINE_NAME,
      definitionSubstitutions: pipelineSubstitutions((step) => this.steps.functions[step].functionArn),
      encryptionKey: key,
    });
    for (const fn of Object.values(this.steps.functions)) this.pipeline.allowInvoke(fn);
    // Dispatch states take the queue URL from the execution state (`QueueUrl.$`), so the state
    // machine may send to every role queue, and to nothing else.
    for (const role of AGENT_ROLES) this.pipeline.allowSendTo(service.queues[role]);

    this.detectWorkStateMachine = new DetectWorkStateMachine(this, 'DetectWork', {
      customerId: config.id,
      encryptionKey: key,
      placement,
      workspace: service.workspace,
      secrets,
      table,
      eventBus: service.eventBus,
      artifactsBucket,
      sandboxFunctionName: sandboxFunctionName(config.id),
      setupFunctionName: setupFunctionName(config.id),
      egress: config.egress,
      ...(props.network.packageRegistry ? { packageRegistry: props.network.packageRegistry } : {}),
      goalPipeline: this.pipeline,
      // The analyst may call any model the customer file names, as the agent workers may.
      models: bedrockModelResources(this, Object.values(config.projectDefaults.modelPolicy).flat()),
      ...(config.projectDefaults.modelPolicy[ANALYST_MODEL_ROLE] ? { defaultModels: config.projectDefaults.modelPolicy[ANALYST_MODEL_ROLE] } : {}),
      ...(config.prices ? { prices: config.prices } : {}),
      ...(config.openAiApiKeySecret
        ? { openAiApiKey: { name: config.openAiApiKeySecret, secret: cellSecretReference(this, config.id, config.openAiApiKeySecret, key) } }
        : {}),
    });
    this.detectionSchedules = new DetectionSchedules(this, 'DetectionSchedules', {
      customerId: config.id,
      encryptionKey: key,
      detectWork: this.detectWorkStateMachine.stateMachine,
      alarmTopic: service.alarmTopic.topic,
    });

    this.outbox = new OutboxSweeper(this, 'Outbox', {
      customerId: config.id,
      encryptionKey: key,
      placement,
      table,
      eventBus: service.eventBus,
    });
  }
}
