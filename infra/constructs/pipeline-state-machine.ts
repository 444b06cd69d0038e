// A Step Functions state machine whose definition is a file in statemachines/ — the same JSON the
// local runtime executes — with logging, tracing and customer-key encryption, and explicit grants.
import fs from 'node:fs';
import path from 'node:path';
import { ArnFormat, type Duration, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  CustomerManagedEncryptionConfiguration,
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { cellResourceName } from '../naming';
import { STATEMACHINES_DIR } from '../paths';
import type { AgentFunction } from './agent-function';
import type { AgentQueue } from './agent-queue';
import { createEncryptedLogGroup } from './encrypted-log-group';

export interface PipelineStateMachineProps {
  readonly customerId: string;
  /** File base name: `goal-pipeline` loads `statemachines/goal-pipeline.asl.json`. */
  readonly definitionName: string;
  /** Folder holding the definition. Defaults to `statemachines/`; tests point it at fixtures. */
  readonly definitionDirectory?: string;
  /** Values for every `${Name}` placeholder in the file — no more, no fewer. */
  readonly definitionSubstitutions?: Record<string, string>;
  /** Must be an imported reference to the customer key (see StatefulStack.importKey). */
  readonly encryptionKey: IKey;
  readonly logRetention?: RetentionDays;
  /** Upper bound of one execution. */
  readonly timeout?: Duration;
}

export class PipelineStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  private readonly encryptionKey: IKey;
  private readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: PipelineStateMachineProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const definitionFile = path.join(props.definitionDirectory ?? STATEMACHINES_DIR, `${props.definitionName}.asl.json`);
    const substitutions = props.definitionSubstitutions ?? {};
    const definition = readDefinition(definitionFile, substitutions);

    this.logGroup = createEncryptedLogGroup(this, 'LogGroup', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
    });

    // A fixed name makes the ARN known before creation, which the KMS encryption-context
    // conditions below (and CDK's own on the execution role) need.
    this.stateMachineName = cellResourceName(props.customerId, props.definitionName);
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      // Inline rather than an S3 asset: `cdk diff` then shows a changed state as a changed state,
      // and the template holds the exact text the local runner executes (well under the 1 MB limit).
      definitionBody: DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      encryptionConfiguration: new CustomerManagedEncryptionConfiguration(props.encryptionKey),
      timeout: props.timeout,
    });

    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by the StateMachine construct for logging and tracing: the CloudWatch Logs log-delivery actions (CreateLogDelivery, PutResourcePolicy, DescribeLogGroups …) and X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions.',
    });
  }

  get stateMachineArn(): string {
    return this.stateMachine.stateMachineArn;
  }

  /** Start executions (the API, the scheduler); includes encrypting the input with the key. */
  grantStartExecution(grantee: IGrantable): Grant {
    return this.stateMachine.grantStartExecution(grantee).combine(this.grantKey(grantee, 'kms:GenerateDataKey'));
  }

  /** Answer task tokens (agents, the approval endpoint); the output is encrypted with the key. */
  grantTaskResponse(grantee: IGrantable): Grant {
    return this.stateMachine.grantTaskResponse(grantee).combine(this.grantKey(grantee, 'kms:GenerateDataKey'));
  }

  /**
   * Every execution of this state machine, for grants on executions (stop, describe): execution
   * names are chosen at start (from the goal id), so the ARN must end in `*`. Built from the fixed
   * name, it is a literal a nag acknowledgement can name, even from another stack.
   */
  get executionArnPattern(): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Describe executions and read their history, which is decrypted with the key. */
  grantRead(grantee: IGrantable): Grant {
    return this.stateMachine.grantRead(grantee).combine(this.grantKey(grantee, 'kms:Decrypt'));
  }

  /**
   * Lets the definition invoke `fn`. Scoped to the unqualified ARN (the definition calls functions
   * by that ARN), unlike IFunction.grantInvoke, which also grants every version and alias.
   */
  allowInvoke(fn: AgentFunction | IFunction): void {
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
    );
  }

  /** Lets the definition dispatch tasks to a role queue (sqs:sendMessage.waitForTaskToken). */
  allowSendTo(queue: AgentQueue): void {
    queue.grantSendMessages(this.stateMachine);
  }

  private grantKey(grantee: IGrantable, action: string): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: [action],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: {
        StringEquals: {
          'kms:EncryptionContext:aws:states:stateMachineArn': Stack.of(this).formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: this.stateMachineName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    });
  }
}

/**
 * Reads the definition file. A placeholder without a value reaches AWS as the literal text `${Name}`
 * and fails only when that state runs; a value without a placeholder is a stale wiring. Both fail
 * synth instead.
 */
function readDefinition(definitionFile: string, substitutions: Record<string, string>): string {
  if (!fs.existsSync(definitionFile)) {
    throw new Error(`State machine definition not found: ${definitionFile}`);
  }
  const text = fs.readFileSync(definitionFile, 'utf8');
  try {
    JSON.parse(text);
  } catch (error) {
    throw new Error(`${definitionFile}: not valid JSON (${(error as Error).message})`);
  }
  const placeholders = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1] as string));
  const provided = new Set(Object.keys(substitutions));
  const missing = [...placeholders].filter((name) => !provided.has(name));
  const unused = [...provided].filter((name) => !placeholders.has(name));
  if (missing.length > 0 || unused.length > 0) {
    throw new Error(
      `${definitionFile}: definitionSubstitutions do not match the placeholders` +
        (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
        (unused.length > 0 ? `; not in the file: ${unused.join(', ')}` : ''),
    );
  }
  return text;
}
