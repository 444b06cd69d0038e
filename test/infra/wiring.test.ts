// The product as each cell runs it: the pipeline's step functions and state machine, one agent
// worker per role, the outbox sweeper, the API, alarms and dashboards — their settings, and that
// each is granted what it touches and no more. Synthesized from the shipped customer files.
import fs from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, githubWebhookRoute } from '../../lib/api/routes';
import { AGENT_ROLES, type AgentRole } from '../../lib/domain/settings';
import { applyDefinitionSubstitutions } from '../../lib/local/definition-substitutions';
import { PIPELINE_STEPS, type PipelineStepName, pipelineSubstitutions, readGoalPipelineDefinition } from '../../lib/pipeline/definition';
import { buildApp, type CahootsApp } from '../../infra/app';
import { DEFAULT_AGENT_MAX_CONCURRENCY, listCustomerIds } from '../../infra/config/customer-config';
import { CAHOOTS_METRICS } from '../../infra/constructs/cahoots-metrics';
import { bedrockModelResources } from '../../infra/constructs/model-access';
import { SECRET_NAMES } from '../../infra/constructs/cell-secrets';
import { WORKSPACE_STEPS } from '../../infra/constructs/pipeline-steps';
import { REPOSITORY_SECRETS } from '../../lib/ports/repository/index';
import { REPO_ROOT } from '../../infra/paths';
import type { CustomerCell } from '../../infra/stages/customer-cell';
import { type CfnTemplate, resolveResource, removeTempDirs, type StackTemplate, stackTemplates, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

const CUSTOMER_IDS = listCustomerIds();
let built: CahootsApp;
const templates = new Map<string, StackTemplate>();
const allTemplates = new Map<string, CfnTemplate>();

beforeAll(() => {
  // cell.test.ts synthesizes the same cells with CloudFormation schema validation on.
  built = buildApp({ outdir: tempOutdir('wiring'), context: testContext(), builtinCloudFormationValidation: false });
  built.app.synth();
  for (const cell of built.cells) {
    for (const template of stackTemplates(cell.stacks)) {
      templates.set(template.stackName, template);
      allTemplates.set(template.stackName, template.json);
    }
  }
});

type Properties = Record<string, any>;
type StackKey = 'service' | 'pipeline' | 'agents' | 'api' | 'observability';

function cellOf(id: string): CustomerCell {
  return built.cells.find((cell) => cell.config.id === id)!;
}

function templateOf(id: string, stack: StackKey): StackTemplate {
  return templates.get(cellOf(id)[stack].stackName)!;
}

function resources(json: CfnTemplate, type: string): [string, Properties][] {
  return Object.entries(json.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([logicalId, resource]) => [logicalId, resource.Properties ?? {}]);
}

/** A Cahoots function by its Powertools service name. */
function functionNamed(json: CfnTemplate, serviceName: string): { logicalId: string; properties: Properties } {
  const found = resources(json, 'AWS::Lambda::Function').find(([, p]) => p.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === serviceName);
  if (!found) throw new Error(`no function ${serviceName}`);
  return { logicalId: found[0], properties: found[1] };
}

function statementsOf(json: CfnTemplate, roleLogicalId: string): Properties[] {
  return resources(json, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap(([, p]) => p.PolicyDocument.Statement as Properties[]);
}

function roleOf(fn: { properties: Properties }): string {
  return fn.properties.Role['Fn::GetAtt'][0];
}

function actionsOf(statements: Properties[]): string[] {
  return [...new Set(statements.flatMap((statement) => [statement.Action].flat() as string[]))].sort();
}

function statementsWith(statements: Properties[], action: string): Properties[] {
  return statements.filter((statement) => [statement.Action].flat().includes(action));
}

/** Names under `cahoots/<id>/` of the secrets a role may read; each grant names one secret and its random suffix, never a prefix. */
function secretsReadable(statements: Properties[], id: string): string[] {
  return statementsWith(statements, 'secretsmanager:GetSecretValue')
    .flatMap((statement) => [statement.Resource].flat())
    .map((resource) => {
      const text = typeof resource === 'string' ? resource : JSON.stringify(resource);
      const name = new RegExp(`:secret:cahoots/${id}/([a-z/-]+)-\\?{6}$`).exec(text)?.[1];
      if (!name) throw new Error(`not a single named secret: ${text}`);
      return name;
    })
    .sort();
}

const CREDENTIAL_SECRETS = ['git/token', 'git/username', 'github/app', 'github/token'];
const SECRET_ACTIONS = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
const WORKSPACE_ACTIONS = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'];

/** `<stack>/<logicalId>` of what a CloudFormation value points at, across the cell's stacks. */
function target(value: unknown, stackName: string): string {
  const resolved = resolveResource(value, stackName, allTemplates);
  return resolved ? `${resolved.stackName}/${resolved.logicalId}` : JSON.stringify(value);
}

/** The role queues (not DLQs) of a cell, as `<stack>/<logicalId>` by role. */
function roleQueues(id: string): Record<AgentRole, string> {
  const { stackName, json } = templateOf(id, 'service');
  return Object.fromEntries(
    AGENT_ROLES.map((role) => {
      const [logicalId] = resources(json, 'AWS::SQS::Queue').find(([, p]) => p.QueueName === `cahoots-${id}-${role}`)!;
      return [role, `${stackName}/${logicalId}`];
    }),
  ) as Record<AgentRole, string>;
}

/** Statements every AgentFunction role has: VPC networking, its log group, X-Ray. */
const BASELINE_ACTIONS = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];
const TABLE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
];

/** Every Lambda state of the definition file, with the step it calls and its TimeoutSeconds. */
function lambdaStates(): { state: string; step: PipelineStepName; timeoutSeconds?: number }[] {
  const found: { state: string; step: PipelineStepName; timeoutSeconds?: number }[] = [];
  const walk = (states: Record<string, Properties>) => {
    for (const [state, definition] of Object.entries(states)) {
      const reference = JSON.stringify([definition.Resource, definition.Parameters?.FunctionName]).match(/\$\{(\w+)FunctionArn\}/);
      if (reference) found.push({ state, step: reference[1] as PipelineStepName, timeoutSeconds: definition.TimeoutSeconds });
      if (definition.ItemProcessor) walk(definition.ItemProcessor.States);
      for (const branch of definition.Branches ?? []) walk(branch.States);
    }
  };
  walk(JSON.parse(readGoalPipelineDefinition()).States);
  return found;
}

describe.each(CUSTOMER_IDS)('cell %s', (id) => {
  const config = () => cellOf(id).config;

  describe('pipeline', () => {
    it('runs each step of PIPELINE_STEPS as its own Node 22 arm64 function with the runtime settings', () => {
      const { json } = templateOf(id, 'pipeline');
      const queues = roleQueues(id);
      for (const [step, file] of Object.entries(PIPELINE_STEPS)) {
        const { properties } = functionNamed(json, `cahoots-${id}-pipeline-${file}`);
        expect(properties, step).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
        const variables = properties.Environment.Variables as Properties;
        expect(variables).toMatchObject({
          TASK_TIMEOUT_SECONDS: String(config().pipelineTimeouts.taskTimeoutSeconds),
          HEARTBEAT_SECONDS: String(config().pipelineTimeouts.heartbeatSeconds),
          APPROVAL_TIMEOUT_SECONDS: String(config().pipelineTimeouts.approvalTimeoutSeconds),
        });
        expect(target(variables.TABLE_NAME, cellOf(id).pipeline.stackName)).toMatch(new RegExp(`^Cahoots-${id}-Stateful/StateTable`));
        expect(target(variables.EVENT_BUS_NAME, cellOf(id).pipeline.stackName)).toMatch(new RegExp(`^Cahoots-${id}-Service/EventBus`));
        for (const role of AGENT_ROLES) {
          expect(target(variables[`QUEUE_URL_${role.toUpperCase()}`], cellOf(id).pipeline.stackName), `${step} ${role}`).toBe(queues[role]);
        }
        // No pipeline step calls a model: it gets no model list and no Bedrock access.
        expect(variables.CAHOOTS_MODEL).toBeUndefined();
      }
      expect(resources(json, 'AWS::Lambda::Function').filter(([, p]) => String(p.Environment?.Variables?.POWERTOOLS_SERVICE_NAME).includes('-pipeline-'))).toHaveLength(
        Object.keys(PIPELINE_STEPS).length,
      );
    });

    it('stops every step function before the state that calls it times out', () => {
      const { json } = templateOf(id, 'pipeline');
      const states = lambdaStates();
      expect(new Set(states.map((state) => state.step))).toEqual(new Set(Object.keys(PIPELINE_STEPS)));
      for (const { state, step, timeoutSeconds } of states) {
        if (timeoutSeconds === undefined) continue; // callback states wait for a token, not for the function
        const { properties } = functionNamed(json, `cahoots-${id}-pipeline-${PIPELINE_STEPS[step]}`);
        expect(properties.Timeout, `${state} → ${step}`).toBeLessThan(timeoutSeconds);
      }
    });

    it('grants each step the table and the bus; the workspace steps the workspace; Deliver the git host credentials', () => {
      const { stackName, json } = templateOf(id, 'pipeline');
      for (const [step, file] of Object.entries(PIPELINE_STEPS) as [PipelineStepName, string][]) {
        const statements = statementsOf(json, roleOf(functionNamed(json, `cahoots-${id}-pipeline-${file}`)));
        const secrets = WORKSPACE_STEPS[step];
        const extra = [...(secrets ? WORKSPACE_ACTIONS : []), ...(secrets?.length ? SECRET_ACTIONS : [])];
        expect(actionsOf(statements), file).toEqual([...BASELINE_ACTIONS, ...TABLE_ACTIONS, 'events:PutEvents', ...extra].sort());
        expect(secretsReadable(statements, id), file).toEqual(step === 'Deliver' ? CREDENTIAL_SECRETS : []);
        const [putEvents] = statementsWith(statements, 'events:PutEvents');
        expect(target(putEvents!.Resource, stackName)).toMatch(new RegExp(`^Cahoots-${id}-Service/EventBus`));
        for (const statement of statementsWith(statements, 'kms:Decrypt')) {
          expect([`dynamodb.${config().region}.amazonaws.com`, `secretsmanager.${config().region}.amazonaws.com`]).toContain(
            statement.Condition?.StringEquals?.['kms:ViaService'],
          );
        }
      }
    });

    it('deploys statemachines/goal-pipeline.asl.json as the local runner executes it, with every step wired', () => {
      const { json } = templateOf(id, 'pipeline');
      const [[, stateMachine]] = resources(json, 'AWS::StepFunctions::StateMachine') as [[string, Properties]];
      expect(stateMachine).toMatchObject({
        StateMachineName: `cahoots-${id}-goal-pipeline`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
        EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY' },
      });
      // Template values are intrinsics; stand each in with a string that names what it points at.
      const substitutions = Object.fromEntries(
        Object.entries(stateMachine.DefinitionSubstitutions as Record<string, { 'Fn::GetAtt': [string, string] }>).map(([name, value]) => [
          name,
          `\${Token[${value['Fn::GetAtt'].join('.')}]}`,
        ]),
      );
      expect(Object.keys(substitutions).sort()).toEqual(Object.keys(pipelineSubstitutions(() => '')).sort());
      const deployed = JSON.parse(applyDefinitionSubstitutions(stateMachine.DefinitionString as string, substitutions));
      const local = JSON.parse(applyDefinitionSubstitutions(readGoalPipelineDefinition(), substitutions));
      expect(deployed).toEqual(local);

      // Each ${<Step>FunctionArn} is the ARN of that step's own function.
      for (const [step, file] of Object.entries(PIPELINE_STEPS)) {
        const value = (stateMachine.DefinitionSubstitutions as Properties)[`${step}FunctionArn`];
        expect(value, step).toEqual({ 'Fn::GetAtt': [functionNamed(json, `cahoots-${id}-pipeline-${file}`).logicalId, 'Arn'] });
      }
    });

    it('lets the state machine invoke exactly the step functions and send to exactly the role queues', () => {
      const { stackName, json } = templateOf(id, 'pipeline');
      const [[, stateMachine]] = resources(json, 'AWS::StepFunctions::StateMachine') as [[string, Properties]];
      const statements = statementsOf(json, stateMachine.RoleArn['Fn::GetAtt'][0]);

      const invoked = statementsWith(statements, 'lambda:InvokeFunction').flatMap((statement) => [statement.Resource].flat());
      const stepFunctions = Object.values(PIPELINE_STEPS).map((file) => ({ 'Fn::GetAtt': [functionNamed(json, `cahoots-${id}-pipeline-${file}`).logicalId, 'Arn'] }));
      expect(invoked).toHaveLength(stepFunctions.length);
      expect(invoked).toEqual(expect.arrayContaining(stepFunctions));

      const sentTo = statementsWith(statements, 'sqs:SendMessage').flatMap((statement) => [statement.Resource].flat().map((arn) => target(arn, stackName)));
      expect(sentTo.sort()).toEqual(Object.values(roleQueues(id)).sort());
      expect(actionsOf(statements).filter((action) => action.startsWith('sqs:') || action.startsWith('lambda:'))).toEqual([
        'lambda:InvokeFunction',
        'sqs:SendMessage',
      ]);
      // The queues are encrypted: sending needs the key, and only the two operations SQS performs.
      expect(statements.some((s) => JSON.stringify([s.Action].flat()) === JSON.stringify(['kms:Decrypt', 'kms:GenerateDataKey']))).toBe(true);
    });

    it('publishes deferred events every minute through the outbox sweeper', () => {
      const { json } = templateOf(id, 'pipeline');
      const sweeper = functionNamed(json, `cahoots-${id}-outbox-sweeper`);
      expect(Object.keys(sweeper.properties.Environment.Variables)).toEqual(expect.arrayContaining(['TABLE_NAME', 'EVENT_BUS_NAME']));
      expect(actionsOf(statementsOf(json, roleOf(sweeper)))).toEqual([...BASELINE_ACTIONS, ...TABLE_ACTIONS, 'events:PutEvents'].sort());
      const [[, schedule]] = resources(json, 'AWS::Scheduler::Schedule') as [[string, Properties]];
      expect(schedule).toMatchObject({
        ScheduleExpression: 'rate(1 minute)',
        Target: { Arn: { 'Fn::GetAtt': [sweeper.logicalId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } },
      });
      const schedulerRole = statementsOf(json, schedule.Target.RoleArn['Fn::GetAtt'][0]);
      expect(schedulerRole).toEqual([expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [sweeper.logicalId, 'Arn'] } })]);
    });
  });

  describe('detection', () => {
    it('lets only RunDetector read alarms (DescribeAlarms on "*", acknowledged by name) and the git credentials for issues', () => {
      const { json } = templateOf(id, 'pipeline');
      const run = functionNamed(json, `cahoots-${id}-detection-run-detector`);
      const statements = statementsOf(json, roleOf(run));
      // DescribeAlarms has no resource-level scoping that covers composite alarms: "*" and nothing else from CloudWatch.
      // (CDK merges it into the statement of the other "*" actions, X-Ray's.)
      expect(statementsWith(statements, 'cloudwatch:DescribeAlarms')).toEqual([expect.objectContaining({ Effect: 'Allow', Resource: '*' })]);
      expect(actionsOf(statements).filter((action) => action.startsWith('cloudwatch:'))).toEqual(['cloudwatch:DescribeAlarms']);
      expect(secretsReadable(statements, id)).toEqual(CREDENTIAL_SECRETS);
      expect(Object.keys(run.properties.Environment.Variables)).toEqual(expect.arrayContaining(['SECRETS_PREFIX']));
      const others = resources(json, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.PolicyDocument).includes('cloudwatch:DescribeAlarms'));
      expect(others).toHaveLength(1);
      // One acknowledgement of IAM5[Resource::*] on the role, whose reason names DescribeAlarms among its "*" statements.
      const role = cellOf(id).pipeline.node.findAll().find((construct) => construct.node.path.endsWith('/DetectWork/RunDetector/Role'))!;
      const reasons = role.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
        .filter(([rule]) => rule === 'AwsSolutions::AwsSolutions-IAM5[Resource::*]');
      expect(reasons).toHaveLength(1);
      expect(reasons[0]![1]).toContain('cloudwatch:DescribeAlarms for the alarm detector');
    });

    it('lets RunDetector, and no other detection step, call the cell models as the agent workers may, with the reviewer\'s defaults', () => {
      const { json } = templateOf(id, 'pipeline');
      const cell = cellOf(id);
      const run = functionNamed(json, `cahoots-${id}-detection-run-detector`);
      const bedrock = [statementsWith(statementsOf(json, roleOf(run)), 'bedrock:InvokeModel')[0]!.Resource].flat();
      const policyModels = Object.values(cell.config.projectDefaults.modelPolicy).flat();
      expect(bedrock.sort()).toEqual(bedrockModelResources(cell.agents, policyModels).resources.sort());
      const invoking = resources(json, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.PolicyDocument).includes('bedrock:'));
      expect(invoking).toHaveLength(1);
      const variables = run.properties.Environment.Variables as Properties;
      expect(variables.CAHOOTS_MODEL).toBe(cell.config.projectDefaults.modelPolicy.reviewer?.join(','));
      expect(variables.CAHOOTS_PRICES).toBe(cell.config.prices ? JSON.stringify(cell.config.prices) : undefined);
    });
  });

  describe('agents', () => {
    it('runs one worker per role, consuming its own queue one message at a time with partial batch failures', () => {
      const { stackName, json } = templateOf(id, 'agents');
      const queues = roleQueues(id);
      for (const role of AGENT_ROLES) {
        const worker = functionNamed(json, `cahoots-${id}-agent-${role}`);
        expect(worker.properties, role).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Timeout: 900,
          MemorySize: 2048,
        });
        const mappings = resources(json, 'AWS::Lambda::EventSourceMapping').filter(([, p]) => p.FunctionName.Ref === worker.logicalId);
        expect(mappings, role).toHaveLength(1);
        const [, mapping] = mappings[0]!;
        const concurrency = config().agentConcurrency?.[role];
        expect(mapping).toMatchObject({
          BatchSize: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: concurrency ?? DEFAULT_AGENT_MAX_CONCURRENCY[role] },
        });
        expect(target(mapping.EventSourceArn, stackName)).toBe(queues[role]);
        // A role named in agentConcurrency is throttled to, and guaranteed, that many runs.
        expect(worker.properties.ReservedConcurrentExecutions, role).toBe(concurrency);
      }
    });

    it('tells each worker its role, its own queue, its checkpoints, secrets and default models', () => {
      const { stackName, json } = templateOf(id, 'agents');
      for (const role of AGENT_ROLES) {
        const variables = functionNamed(json, `cahoots-${id}-agent-${role}`).properties.Environment.Variables as Properties;
        expect(variables).toMatchObject({
          AGENT_ROLE: role,
          ARTIFACTS_BUCKET: cellOf(id).stateful.artifactsBucketName,
          ARTIFACTS_PREFIX: 'checkpoints/',
          SECRETS_PREFIX: `cahoots/${id}/`,
          CAHOOTS_WORKSPACE_ROOT: '/mnt/workspace',
          HEARTBEAT_SECONDS: String(config().pipelineTimeouts.heartbeatSeconds),
        });
        expect(Object.keys(variables).filter((name) => name.startsWith('QUEUE_URL_'))).toEqual([`QUEUE_URL_${role.toUpperCase()}`]);
        expect(target(variables[`QUEUE_URL_${role.toUpperCase()}`], stackName)).toBe(roleQueues(id)[role]);
        const models = config().projectDefaults.modelPolicy[role];
        expect(variables.CAHOOTS_MODEL, role).toBe(models?.join(','));
      }
    });

    it('grants each worker what a run touches: table, bus, its task token, its queue, checkpoints, cell secrets, the cell models', () => {
      const { stackName, json } = templateOf(id, 'agents');
      const cell = cellOf(id);
      const bucketArn = `arn:aws:s3:::${cell.stateful.artifactsBucketName}`;
      for (const role of AGENT_ROLES) {
        const statements = statementsOf(json, roleOf(functionNamed(json, `cahoots-${id}-agent-${role}`)));
        expect(actionsOf(statements), role).toEqual(
          [
            ...BASELINE_ACTIONS,
            ...TABLE_ACTIONS,
            'events:PutEvents',
            'states:SendTaskFailure',
            'states:SendTaskHeartbeat',
            'states:SendTaskSuccess',
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
            'sqs:SendMessage',
            's3:GetObject',
            's3:PutObject',
            's3:ListBucket',
            ...SECRET_ACTIONS,
            ...WORKSPACE_ACTIONS,
            'bedrock:InvokeModel',
            // Its commands run in the sandbox function (test/infra/sandbox.test.ts checks the resource).
            'lambda:InvokeFunction',
            // Without egress, installs come from CodeArtifact with a read token the worker fetches
            // (test/infra/dependency-setup.test.ts checks the resources).
            ...(cell.config.egress === 'none' ? ['codeartifact:GetAuthorizationToken', 'sts:GetServiceBearerToken'] : []),
          ]
            .filter((action, index, all) => all.indexOf(action) === index)
            .sort(),
        );
        const sqs = statementsWith(statements, 'sqs:SendMessage').flatMap((s) => [s.Resource].flat().map((arn) => target(arn, stackName)));
        expect(sqs, role).toEqual([roleQueues(id)[role]]);
        const [taskResponse] = statementsWith(statements, 'states:SendTaskSuccess');
        expect(target(taskResponse!.Resource, stackName)).toMatch(new RegExp(`^Cahoots-${id}-Pipeline/GoalPipelineStateMachine`));
        expect(statementsWith(statements, 's3:GetObject')[0]!.Resource).toBe(`${bucketArn}/checkpoints/*`);
        expect(statementsWith(statements, 's3:ListBucket')[0]).toMatchObject({ Resource: bucketArn, Condition: { StringLike: { 's3:prefix': 'checkpoints/*' } } });
        // The git host credentials only: not the webhook secret, not the cell's whole prefix.
        expect(secretsReadable(statements, id), role).toEqual(CREDENTIAL_SECRETS);
        const bedrock = [statementsWith(statements, 'bedrock:InvokeModel')[0]!.Resource].flat();
        const policyModels = Object.values(cell.config.projectDefaults.modelPolicy).flat();
        expect(bedrock.sort()).toEqual(bedrockModelResources(cell.agents, policyModels).resources.sort());
      }
    });

    it('scopes Bedrock to the models of the customer file: each named profile and its model, no wildcard model', () => {
      const cell = cellOf(id);
      const { resources: arns, wildcard } = bedrockModelResources(cell.agents, Object.values(cell.config.projectDefaults.modelPolicy).flat());
      expect(wildcard).toBe(false);
      for (const spec of new Set(Object.values(cell.config.projectDefaults.modelPolicy).flat())) {
        const profile = spec.slice('bedrock:'.length);
        const model = profile.slice(profile.indexOf('.') + 1);
        expect(arns).toContain(`arn:aws:bedrock:${cell.config.region}:${cell.config.account}:inference-profile/${profile}`);
        expect(arns).toContain(`arn:aws:bedrock:*::foundation-model/${model}`);
      }
      expect(arns.filter((arn) => arn.endsWith('/*'))).toEqual([]);
    });
  });

  describe('API', () => {
    it('requires AWS_IAM on every method but the GitHub webhook, one Lambda per route, and outputs its URL', () => {
      const { json } = templateOf(id, 'api');
      const methods = resources(json, 'AWS::ApiGateway::Method');
      expect(methods).toHaveLength(API_ROUTES.length);
      const open = methods.filter(([, method]) => method.AuthorizationType !== 'AWS_IAM');
      expect(open.map(([, method]) => [method.OperationName, method.AuthorizationType])).toEqual([[githubWebhookRoute.operationId, 'NONE']]);
      expect(resources(json, 'AWS::Lambda::Function').filter(([, p]) => p.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'cahoots-api')).toHaveLength(
        API_ROUTES.length,
      );
      expect(json.Outputs?.ApiUrl).toBeDefined();
    });

    it('lets the routes start, stop, describe and answer executions of this pipeline only', () => {
      const { json } = templateOf(id, 'api');
      const cell = cellOf(id);
      const fnOf = (operationId: string) => statementsOf(json, roleLogicalId(cell, operationId));
      const executions = `arn:aws:states:${cell.config.region}:${cell.config.account}:execution:cahoots-${id}-goal-pipeline:*`;

      const create = fnOf('createGoal');
      expect(statementsWith(create, 'states:StartExecution')).toHaveLength(1);
      expect(statementsWith(create, 'states:DescribeExecution')[0]!.Resource).toBe(executions);
      const cancel = fnOf('cancelGoal');
      expect(statementsWith(cancel, 'states:StopExecution')[0]!.Resource).toBe(executions);
      const approve = fnOf('decideApproval');
      expect(actionsOf(approve)).toEqual(expect.arrayContaining(['states:SendTaskFailure', 'states:SendTaskSuccess']));
      // Only the webhook reads the webhook secret; project creation checks URLs with the host credentials.
      expect(secretsReadable(fnOf(githubWebhookRoute.operationId), id)).toEqual([...CREDENTIAL_SECRETS, 'github/webhook-secret'].sort());
      expect(secretsReadable(fnOf('createProject'), id)).toEqual(CREDENTIAL_SECRETS);
      expect(secretsReadable(fnOf('createGoal'), id)).toEqual([]);
      // A read-only route gets reads only.
      const getGoal = actionsOf(fnOf('getGoal'));
      expect(getGoal).toContain('dynamodb:GetItem');
      expect(getGoal.filter((action) => action.startsWith('states:') || /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(action))).toEqual([]);
    });
  });

  describe('observability', () => {
    it('alarms to the alarm topic on failed and timed-out executions, dead letters, throttling, budget stops and agent errors', () => {
      const alarms = [templateOf(id, 'service'), templateOf(id, 'observability')].flatMap(({ stackName, json }) =>
        resources(json, 'AWS::CloudWatch::Alarm').map(([, p]): Properties => ({ stackName, ...p })),
      );
      const names = alarms.map((alarm) => alarm.AlarmName).sort();
      expect(names).toEqual(
        [
          ...AGENT_ROLES.map((role) => `cahoots-${id}-${role}-dead-letters`),
          `cahoots-${id}-pipeline-failed`,
          `cahoots-${id}-pipeline-timed-out`,
          `cahoots-${id}-model-throttled`,
          `cahoots-${id}-budget-exceeded`,
          `cahoots-${id}-agent-errors`,
          `cahoots-${id}-notifications-dead-letters`,
        ].sort(),
      );
      for (const alarm of alarms) {
        expect(alarm.AlarmActions.map((action: unknown) => target(action, alarm.stackName)), alarm.AlarmName).toEqual([
          expect.stringMatching(new RegExp(`^Cahoots-${id}-Service/AlarmTopic`)),
        ]);
      }
      const byName = (name: string) => alarms.find((alarm) => alarm.AlarmName === `cahoots-${id}-${name}`)!;
      expect(byName('pipeline-failed')).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionsFailed', Threshold: 1 });
      expect(byName('pipeline-timed-out')).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionsTimedOut', Threshold: 1 });
      expect(byName('model-throttled').Metrics[0].Expression).toBe('SELECT SUM(ModelThrottled) FROM Cahoots');
      expect(byName('budget-exceeded').Metrics[0].Expression).toBe('SELECT SUM(BudgetExceeded) FROM Cahoots');
      expect(byName('agent-errors').Metrics.filter((metric: Properties) => metric.MetricStat?.Metric.MetricName === 'Errors')).toHaveLength(AGENT_ROLES.length);
    });

    it('has the Cost and Behaviour dashboards', () => {
      const dashboards = resources(templateOf(id, 'observability').json, 'AWS::CloudWatch::Dashboard').map(([, p]) => ({
        name: p.DashboardName as string,
        body: dashboardText(p.DashboardBody),
      }));
      expect(dashboards.map((dashboard) => dashboard.name).sort()).toEqual([`cahoots-${id}-behaviour`, `cahoots-${id}-cost`]);
      const cost = dashboards.find((dashboard) => dashboard.name.endsWith('-cost'))!.body;
      for (const dimension of ['model', 'role', 'projectId']) expect(cost).toContain(`SELECT SUM(CostUsd) FROM Cahoots GROUP BY ${dimension}`);
      // The cache share: read / (plain + read + write), in all and per role, with no Metrics Insights query.
      const shares = [...cost.matchAll(/100 \* SUM\(SEARCH\('Namespace=\\"Cahoots\\" MetricName=\\"TokensCacheRead\\"( role=\\"(\w+)\\")?'.*?\)\)\)/g)];
      expect(shares.map((match) => match[2] ?? 'all').sort()).toEqual(['all', ...AGENT_ROLES].sort());
      for (const [share] of shares) {
        expect(share).toMatch(/\/ \(SUM\(SEARCH\('[^']*TokensIn[^']*'.*\+ SUM\(SEARCH\('[^']*TokensCacheRead[^']*'.*\+ SUM\(SEARCH\('[^']*TokensCacheWrite[^']*'/);
        expect(share).not.toContain('SELECT');
      }
      expect(cost).toContain('SELECT SUM(GoalCostUsd) FROM SCHEMA(Cahoots, kind, service) GROUP BY kind');
      const behaviour = dashboards.find((dashboard) => dashboard.name.endsWith('-behaviour'))!.body;
      for (const metric of ['GoalCompleted', 'GoalFailed', 'GoalCancelled']) expect(behaviour).toContain(`SELECT SUM(${metric}) FROM Cahoots`);
      for (const metric of ['QualityGatePassed', 'QualityGateRejected', 'ReworkRounds']) expect(behaviour).toContain(`"${metric}"`);
      for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'Throttles', 'Errors', 'ExecutionsFailed']) {
        expect(behaviour).toContain(`"${metric}"`);
      }
    });
  });
});

describe('secret names', () => {
  it('grant exactly the credential secrets the repository adapters read', () => {
    expect([...SECRET_NAMES.gitHostCredentials].sort()).toEqual(Object.values(REPOSITORY_SECRETS).sort());
    expect(CREDENTIAL_SECRETS).toEqual([...SECRET_NAMES.gitHostCredentials].sort());
  });
});

describe('metrics read by dashboards and alarms', () => {
  it('are all emitted by the code under those names', () => {
    const emitted = new Set<string>();
    const visit = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) visit(file);
        else if (file.endsWith('.ts')) {
          for (const call of fs.readFileSync(file, 'utf8').matchAll(/(?:addMetric|emitModelCallMetric|countRun)\(([^;]*?)\)/g)) {
            for (const name of call[1]!.matchAll(/'([A-Za-z]+)'/g)) emitted.add(name[1]!);
          }
        }
      }
    };
    visit(path.join(REPO_ROOT, 'lib'));
    visit(path.join(REPO_ROOT, 'functions'));
    expect(Object.values(CAHOOTS_METRICS).filter((metric) => !emitted.has(metric))).toEqual([]);
  });
});

describe('model access without named models', () => {
  // The cells' context (cdk.json) makes the partition a literal, which the ARNs rely on.
  const stack = () => new Stack(new App({ context: testContext() }), 'Models', { env: { account: '123456789012', region: 'eu-west-1' } });

  it('falls back to every inference profile of the cell and foundation models in any region', () => {
    expect(bedrockModelResources(stack(), ['openai:gpt-4o@https://example.test/v1'])).toEqual({
      resources: ['arn:aws:bedrock:eu-west-1:123456789012:inference-profile/*', 'arn:aws:bedrock:*::foundation-model/*'],
      wildcard: true,
    });
  });

  it('names an in-region foundation model, and falls back for models it cannot name', () => {
    expect(bedrockModelResources(stack(), ['bedrock:amazon.nova-lite-v1:0']).resources).toEqual([
      'arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0',
    ]);
    const application = 'bedrock:arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123';
    expect(bedrockModelResources(stack(), ['bedrock:amazon.nova-lite-v1:0', application]).wildcard).toBe(true);
  });
});

function roleLogicalId(cell: CustomerCell, operationId: string): string {
  const role = cell.api.api.functions[operationId]!.role;
  return cell.api.getLogicalId(role.node.defaultChild as never);
}

/** A dashboard body as text, with any intrinsic (the region) written as JSON. */
function dashboardText(body: unknown): string {
  if (typeof body === 'string') return body;
  const [, parts] = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
}
