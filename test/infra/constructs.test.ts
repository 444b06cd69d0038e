// The reusable constructs — AgentFunction, AgentQueue consumers, PipelineStateMachine — exercised
// on a fixture handler and state machine inside a cell's service stack (with the stateful and
// network stacks it reads from, but without the cell's own pipeline, agents and API), with cdk-nag.
import path from 'node:path';
import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCustomerConfigs } from '../../infra/config/customer-config';
import { AgentFunction, type AgentFunctionProps } from '../../infra/constructs/agent-function';
import { AgentQueue } from '../../infra/constructs/agent-queue';
import type { AgentPlacement } from '../../infra/constructs/cell-network';
import { PipelineStateMachine } from '../../infra/constructs/pipeline-state-machine';
import { addNagChecks } from '../../infra/nag';
import { NetworkStack } from '../../infra/stacks/network-stack';
import { ServiceStack } from '../../infra/stacks/service-stack';
import { StatefulStack } from '../../infra/stacks/stateful-stack';
import {
  acknowledgementsIn,
  type CfnTemplate,
  encryptedResources,
  type PluginReport,
  readValidationReport,
  resolveResource,
  type StackTemplate,
  stackTemplates,
  removeTempDirs,
  tempOutdir,
  testContext,
} from './helpers';

afterAll(removeTempDirs);

const FIXTURES = path.join(import.meta.dirname, 'fixtures');

/** The first three stacks of the acme cell, built the way CustomerCell builds them. */
interface PartialCell {
  readonly config: { readonly id: string };
  readonly stateful: StatefulStack;
  readonly network: NetworkStack;
  readonly service: ServiceStack;
  readonly stacks: Stack[];
}

let cell: PartialCell;
let report: PluginReport[];
let templates: StackTemplate[];
let service: StackTemplate;
const allTemplates = new Map<string, CfnTemplate>();
let app: App;

beforeAll(() => {
  const outdir = tempOutdir('constructs');
  // The schema check of the cell's own resources runs in cell.test.ts; here it would only cost time.
  app = new App({ outdir, context: testContext(), builtinCloudFormationValidation: false });
  addNagChecks(app);
  const [config] = loadCustomerConfigs({ ids: ['acme'] });
  const stage = new Stage(app, 'Cahoots-acme', { env: { account: config!.account, region: config!.region } });
  const stateful = new StatefulStack(stage, 'Stateful', { config: config! });
  const network = new NetworkStack(stage, 'Network', { config: config!, stateful });
  const serviceStack = new ServiceStack(stage, 'Service', { config: config!, stateful, network });
  cell = { config: config!, stateful, network, service: serviceStack, stacks: [stateful, network, serviceStack] };
  const stack = cell.service;

  const plannerAgent = new AgentFunction(stack, 'PlannerAgent', {
    entry: 'bundling-handler.ts',
    sourceRoot: FIXTURES,
    serviceName: 'planner-agent',
    encryptionKey: stack.key,
    placement: stack.agentPlacement,
    timeout: Duration.minutes(15),
    memorySize: 1024,
    environment: { TABLE_NAME: stack.table.tableName },
  });
  stack.queues.planner.addConsumer(plannerAgent, { maxConcurrency: 5 });
  stack.grantStateTable(plannerAgent, 'readWrite');

  const startGoal = new AgentFunction(stack, 'StartGoal', {
    entry: 'bundling-handler.ts',
    sourceRoot: FIXTURES,
    serviceName: 'start-goal',
    encryptionKey: stack.key,
    placement: stack.agentPlacement,
    timeout: Duration.seconds(30),
    memorySize: 512,
  });

  const pipeline = new PipelineStateMachine(stack, 'GoalPipeline', {
    customerId: cell.config.id,
    definitionName: 'fixture-pipeline',
    definitionDirectory: path.join(FIXTURES, 'statemachines'),
    definitionSubstitutions: {
      StartFunctionArn: startGoal.functionArn,
      PlannerQueueUrl: stack.queues.planner.queue.queueUrl,
    },
    encryptionKey: stack.key,
  });
  pipeline.allowInvoke(startGoal);
  pipeline.allowSendTo(stack.queues.planner);
  pipeline.grantTaskResponse(plannerAgent);

  app.synth();
  report = readValidationReport(outdir);
  templates = stackTemplates(cell.stacks);
  for (const { stackName, json } of templates) allTemplates.set(stackName, json);
  service = templates.find((candidate) => candidate.stackName === stack.stackName)!;
});

function resourcesOfType(json: CfnTemplate, type: string) {
  return Object.entries(json.Resources).filter(([, resource]) => resource.Type === type);
}

function functionNamed(serviceName: string) {
  const found = resourcesOfType(service.json, 'AWS::Lambda::Function').find(
    ([, resource]) => (resource.Properties!.Environment as { Variables: Record<string, string> }).Variables.POWERTOOLS_SERVICE_NAME === serviceName,
  );
  if (!found) throw new Error(`no function ${serviceName}`);
  return { logicalId: found[0], properties: found[1].Properties as Record<string, any> };
}

function theStateMachine(): { Properties: Record<string, any> } {
  const [only, ...others] = resourcesOfType(service.json, 'AWS::StepFunctions::StateMachine');
  if (!only || others.length > 0) throw new Error('expected exactly one state machine');
  return only[1] as { Properties: Record<string, any> };
}

function policyStatementsOfRoleFor(roleLogicalId: string): Record<string, any>[] {
  return resourcesOfType(service.json, 'AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties!.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Record<string, any>[] }).Statement);
}

describe('AgentFunction', () => {
  it('runs Node 22 on arm64 with tracing, explicit memory and timeout, and Powertools settings', () => {
    const { properties } = functionNamed('planner-agent');
    expect(properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 1024,
      Timeout: 900,
      Handler: 'index.handler',
    });
    expect(properties.Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'planner-agent',
      POWERTOOLS_METRICS_NAMESPACE: 'Cahoots',
    });
    // Source maps ship beside the bundle but are not parsed at every cold start (docs/deploy.md).
    expect(properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
  });

  it('writes to its own log group, with retention and the cell key', () => {
    const { properties } = functionNamed('planner-agent');
    const logGroup = resolveResource(properties.LoggingConfig.LogGroup, service.stackName, allTemplates)!;
    const resource = allTemplates.get(logGroup.stackName)!.Resources[logGroup.logicalId]!;
    expect(resource.Type).toBe('AWS::Logs::LogGroup');
    expect(resource.Properties).toMatchObject({ RetentionInDays: 30 });
    expect(resolveResource(resource.Properties!.KmsKeyId, logGroup.stackName, allTemplates)!.stackName).toBe(cell.stateful.stackName);
  });

  it('sits in the application subnets behind the agent security group', () => {
    const { properties } = functionNamed('planner-agent');
    const subnets = (properties.VpcConfig.SubnetIds as unknown[]).map((subnet) => resolveResource(subnet, service.stackName, allTemplates)!);
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) {
      expect(subnet.stackName).toBe(cell.network.stackName);
      expect(subnet.logicalId).toMatch(/applicationSubnet/);
    }
    const [group] = (properties.VpcConfig.SecurityGroupIds as unknown[]).map((id) => resolveResource(id, service.stackName, allTemplates)!);
    expect(group!.logicalId).toMatch(/AgentSecurityGroup/);
  });

  it('has its own role without managed policies, logging to its own log group only', () => {
    const { properties } = functionNamed('planner-agent');
    const roleLogicalId = (properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(service.json.Resources[roleLogicalId]!.Properties!.ManagedPolicyArns).toBeUndefined();
    const logStatement = policyStatementsOfRoleFor(roleLogicalId).find((statement) =>
      [statement.Action].flat().includes('logs:PutLogEvents'),
    )!;
    expect(resolveResource(logStatement.Resource, service.stackName, allTemplates)!.logicalId).toMatch(/PlannerAgentLogGroup/);
  });

  it('refuses an entry outside its source folder', () => {
    const { stack, placement, key } = bareNetwork();
    expect(() => new AgentFunction(stack, 'Escapes', agentProps({ placement, key, entry: '../cdk.json' }))).toThrow(/must be a path inside/);
  });
});

describe('ServiceStack.grantStateTable', () => {
  it('grants item reads, queries and single-item writes on the table and its named indexes only', () => {
    const { properties } = functionNamed('planner-agent');
    const roleLogicalId = (properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = policyStatementsOfRoleFor(roleLogicalId);
    const tableStatement = statements.find((statement) => [statement.Action].flat().includes('dynamodb:PutItem'))!;
    const actions = [tableStatement.Action].flat() as string[];
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']));
    expect(actions.filter((action) => /Scan|Transact|\*/.test(action))).toEqual([]);
    const resources = JSON.stringify(tableStatement.Resource);
    expect(resources).toContain('/index/GSI1');
    expect(resources).toContain('/index/GSI2');
    expect(resources).not.toContain('index/*');
    const kms = statements.find((statement) => statement.Condition?.StringEquals?.['kms:ViaService'] === 'dynamodb.us-east-1.amazonaws.com')!;
    expect([kms.Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });
});

describe('AgentQueue', () => {
  it('feeds its consumer one message at a time and reports partial batch failures', () => {
    service.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionName: { Ref: functionNamed('planner-agent').logicalId },
    });
  });

  it('refuses a consumer whose timeout outgrew the queue visibility timeout', () => {
    const { stack, placement, key } = bareNetwork();
    const queue = new AgentQueue(stack, 'Queue', { customerId: 'unit', role: 'qa', encryptionKey: key, consumerTimeout: Duration.minutes(1) });
    expect(queue.visibilityTimeout.toSeconds()).toBe(360);
    const slow = new AgentFunction(stack, 'Slow', agentProps({ placement, key, timeout: Duration.minutes(2) }));
    expect(() => queue.addConsumer(slow)).toThrow(/sized for a 1 minute consumer/);
  });

  it('refuses a consumer timeout that would need more than the 12-hour SQS maximum', () => {
    const { stack, key } = bareNetwork();
    expect(
      () => new AgentQueue(stack, 'Queue', { customerId: 'unit', role: 'qa', encryptionKey: key, consumerTimeout: Duration.hours(3) }),
    ).toThrow(/above the SQS maximum/);
  });
});

describe('PipelineStateMachine', () => {
  it('loads the definition file with substitutions, logs ALL, traces, and encrypts with the cell key', () => {
    const stateMachine = theStateMachine();
    expect(stateMachine.Properties).toMatchObject({
      StateMachineName: 'cahoots-acme-fixture-pipeline',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY' },
    });
    // Inline, so `cdk diff` shows changed states; the cell test compares it with the file.
    expect(typeof stateMachine.Properties.DefinitionString).toBe('string');
    expect(Object.keys(stateMachine.Properties.DefinitionSubstitutions).sort()).toEqual(['PlannerQueueUrl', 'StartFunctionArn']);
  });

  it('may invoke exactly the functions and queues it was allowed, with no wildcard', () => {
    const stateMachine = theStateMachine();
    const roleLogicalId = (stateMachine.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = policyStatementsOfRoleFor(roleLogicalId);
    const invoke = statements.find((statement) => statement.Action === 'lambda:InvokeFunction')!;
    expect(invoke.Resource).toEqual({ 'Fn::GetAtt': [functionNamed('start-goal').logicalId, 'Arn'] });
    const send = statements.find((statement) => statement.Action === 'sqs:SendMessage')!;
    expect(resolveResource(send.Resource, service.stackName, allTemplates)!.logicalId).toMatch(/PlannerQueue/);
    const kms = statements.find((statement) => JSON.stringify(statement.Action) === JSON.stringify(['kms:Decrypt', 'kms:GenerateDataKey']));
    expect(kms, 'producer KMS permissions without wildcards').toBeDefined();
  });

  it('grants task responses together with the key, bound to this state machine', () => {
    const { properties } = functionNamed('planner-agent');
    const roleLogicalId = (properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = policyStatementsOfRoleFor(roleLogicalId);
    expect(statements.some((statement) => [statement.Action].flat().includes('states:SendTaskSuccess'))).toBe(true);
    const kms = statements.find(
      (statement) => statement.Action === 'kms:GenerateDataKey' && statement.Condition?.StringEquals?.['kms:EncryptionContext:aws:states:stateMachineArn'],
    )!;
    expect(JSON.stringify(kms.Condition)).toContain('stateMachine:cahoots-acme-fixture-pipeline');
  });

  it('refuses substitutions that do not match the placeholders in the file', () => {
    const { stack, key } = bareNetwork();
    const base = { customerId: 'unit', definitionName: 'fixture-pipeline', definitionDirectory: path.join(FIXTURES, 'statemachines'), encryptionKey: key };
    expect(() => new PipelineStateMachine(stack, 'Missing', { ...base, definitionSubstitutions: { StartFunctionArn: 'x' } })).toThrow(
      /missing: PlannerQueueUrl/,
    );
    expect(
      () =>
        new PipelineStateMachine(stack, 'Extra', {
          ...base,
          definitionSubstitutions: { StartFunctionArn: 'x', PlannerQueueUrl: 'y', Stale: 'z' },
        }),
    ).toThrow(/not in the file: Stale/);
  });
});

describe('the cell with functions and a state machine wired in', () => {
  it('encrypts every log group, queue and state machine with the cell key', () => {
    const resources = encryptedResources(templates, allTemplates).filter((resource) =>
      ['AWS::Logs::LogGroup', 'AWS::StepFunctions::StateMachine', 'AWS::SQS::Queue'].includes(resource.type),
    );
    expect(resources.filter((resource) => resource.type === 'AWS::Logs::LogGroup')).toHaveLength(4); // flow logs, 2 functions, state machine
    for (const resource of resources) {
      expect(resource.key?.stackName, `${resource.type} ${resource.logicalId}`).toBe(cell.stateful.stackName);
    }
  });

  it('passes cdk-nag, every acknowledgement matching a real finding', () => {
    expect(report.flatMap((plugin) => plugin.violations.map((v) => `${plugin.pluginName}: ${v.ruleName}`))).toEqual([]);
    const suppressed = report.flatMap((plugin) => plugin.suppressedViolations ?? []);
    expect(suppressed.map((s) => s.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-L1', 'Serverless-LambdaLatestVersion', 'Serverless-LambdaDLQ']),
    );
    for (const acknowledgement of acknowledgementsIn(app)) {
      if (acknowledgement.id.startsWith('CloudFormation-Validate::')) continue;
      expect(
        suppressed.some((s) => s.acknowledgedId === acknowledgement.id && s.acknowledgedAt === acknowledgement.path),
        `${acknowledgement.id} at ${acknowledgement.path}`,
      ).toBe(true);
    }
  });
});

/** A throwaway stack with just enough network for constructs that need a placement. */
function bareNetwork(): { stack: Stack; placement: AgentPlacement; key: Key } {
  const stack = new Stack(new App(), 'Bare');
  const vpc = new Vpc(stack, 'Vpc', {
    natGateways: 0,
    maxAzs: 1,
    subnetConfiguration: [{ name: 'application', subnetType: SubnetType.PRIVATE_ISOLATED }],
  });
  return {
    stack,
    key: new Key(stack, 'Key'),
    placement: { vpc, vpcSubnets: { subnetGroupName: 'application' }, securityGroups: [] },
  };
}

function agentProps(
  overrides: Partial<AgentFunctionProps> & { placement: AgentPlacement; key: Key },
): AgentFunctionProps {
  return {
    entry: 'bundling-handler.ts',
    sourceRoot: FIXTURES,
    serviceName: 'unit',
    timeout: Duration.minutes(1),
    memorySize: 256,
    encryptionKey: overrides.key,
    ...overrides,
  };
}
