// The CellApi construct on its own: one method per route, IAM-authorized except the GitHub webhook,
// a Lambda per route granted only what the route touches (secrets by name), the stage and
// per-route throttling, and no cdk-nag finding under the construct that is not acknowledged.
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellApi } from '../../infra/constructs/cell-api';
import { CellSecrets, SECRET_NAMES, type SecretPurpose } from '../../infra/constructs/cell-secrets';
import { PipelineStateMachine } from '../../infra/constructs/pipeline-state-machine';
import { grantStateTableAccess } from '../../infra/constructs/state-table';
import { addNagChecks } from '../../infra/nag';
import { API_ROUTES, githubWebhookRoute } from '../../lib/api/routes';
import { readValidationReport, removeTempDirs, tempOutdir, testContext, type PluginReport } from '../infra/helpers';

const FIXTURES = path.join(import.meta.dirname, '..', 'infra', 'fixtures');

let template: Template;
let report: PluginReport[];
let api: CellApi;

beforeAll(() => {
  const outdir = tempOutdir('cell-api');
  const app = new App({ outdir, context: testContext(), builtinCloudFormationValidation: false });
  addNagChecks(app);
  const stack = new Stack(app, 'ApiOnly', { env: { account: '210987654321', region: 'us-east-1' } });
  const key = new Key(stack, 'Key', { enableKeyRotation: true });
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'app', subnetType: SubnetType.PRIVATE_ISOLATED }] });
  const table = new Table(stack, 'Table', {
    partitionKey: { name: 'PK', type: AttributeType.STRING },
    sortKey: { name: 'SK', type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
    encryption: TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
  });
  const pipeline = new PipelineStateMachine(stack, 'Pipeline', {
    customerId: 'acme',
    definitionName: 'fixture-pipeline',
    definitionDirectory: path.join(FIXTURES, 'statemachines'),
    definitionSubstitutions: { StartFunctionArn: 'arn:aws:lambda:us-east-1:210987654321:function:start', PlannerQueueUrl: 'https://sqs.us-east-1.amazonaws.com/210987654321/q' },
    encryptionKey: key,
  });
  const secrets = new CellSecrets(stack, 'Secrets', { customerId: 'acme', encryptionKey: key });
  api = new CellApi(stack, 'Api', {
    customerId: 'acme',
    encryptionKey: key,
    placement: { vpc, vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED }, securityGroups: [new SecurityGroup(stack, 'Sg', { vpc })] },
    tableName: table.tableName,
    grantTableAccess: (grantee, access) => grantStateTableAccess(grantee, { table, encryptionKey: key, access }),
    pipeline,
    // Any state machine will do for the DetectWork grants; the fixture stands in.
    detection: pipeline,
    secrets: secrets.importInto(stack, key),
    egress: 'nat',
  });
  app.synth();
  template = Template.fromStack(stack);
  report = readValidationReport(outdir);
});
afterAll(removeTempDirs);

type Resource = { Properties: Record<string, any> };

function functionOf(operationId: string): { logicalId: string; properties: Record<string, any> } {
  const logicalId = Stack.of(api).getLogicalId(api.functions[operationId]!.function.node.defaultChild as never);
  return { logicalId, properties: (template.toJSON().Resources[logicalId] as Resource).Properties };
}

type Statement = { Action: string | string[]; Resource: unknown };

function statementsGrantedTo(operationId: string): Statement[] {
  const roleLogicalId = Stack.of(api).getLogicalId(api.functions[operationId]!.role.node.defaultChild as never);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
  return policies
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

function actionsGrantedTo(operationId: string): string[] {
  return statementsGrantedTo(operationId).flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
}

/** The names (under `cahoots/acme/`) of the secrets a route's function may read; each ARN must end in exactly the random suffix. */
function secretsReadBy(operationId: string): string[] {
  return statementsGrantedTo(operationId)
    .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
    .flatMap((statement) => [statement.Resource].flat())
    .map((resource) => {
      const name = /:secret:cahoots\/acme\/([a-z/-]+)-\?{6}"/.exec(JSON.stringify(resource))?.[1];
      expect(name, JSON.stringify(resource)).toBeDefined();
      return name!;
    })
    .sort();
}

function secretNames(purposes: readonly SecretPurpose[]): string[] {
  return purposes.flatMap((purpose) => SECRET_NAMES[purpose]).sort();
}

describe('CellApi', () => {
  it('has one method per route, AWS_IAM on all but the GitHub webhook, and checks bodies of the routes that require one', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[];
    expect(methods).toHaveLength(API_ROUTES.length);
    const withoutIam = methods.filter((m) => m.Properties.AuthorizationType !== 'AWS_IAM');
    expect(withoutIam.map((m) => [m.Properties.OperationName, m.Properties.AuthorizationType])).toEqual([[githubWebhookRoute.operationId, 'NONE']]);
    const validated = methods.filter((m) => m.Properties.RequestValidatorId !== undefined).map((m) => m.Properties.OperationName).sort();
    expect(validated).toEqual(API_ROUTES.filter((r) => r.body?.required).map((r) => r.operationId).sort());
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
  });

  it('traces, throttles and writes JSON access logs to a log group under the cell key', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      MethodSettings: [
        { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, DataTraceEnabled: false, HttpMethod: '*', ResourcePath: '/*' },
        // The webhook is throttled on its own, well below the stage: it is open to the internet.
        { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20, HttpMethod: 'POST', ResourcePath: '/~1webhooks~1github' },
      ],
    });
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0] as Resource;
    expect(JSON.parse(stage.Properties.AccessLogSetting.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status', userArn: '$context.identity.userArn' });
    const accessLogs = template.toJSON().Resources[Stack.of(api).getLogicalId(api.accessLogGroup.node.defaultChild as never)] as Resource;
    expect(accessLogs.Properties.KmsKeyId).toBeDefined();
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Throttle: { RateLimit: 50, BurstLimit: 100 } });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'DEFAULT_4XX' });
  });

  it('gives each route’s function only what the route touches', () => {
    for (const route of API_ROUTES) {
      const actions = actionsGrantedTo(route.operationId);
      const environment = functionOf(route.operationId).properties.Environment.Variables as Record<string, unknown>;
      const context = `${route.operationId}: ${actions.join(' ')}`;
      expect(actions.includes('dynamodb:GetItem'), context).toBe(route.touches.table !== 'none');
      expect(actions.includes('dynamodb:PutItem'), context).toBe(route.touches.table === 'readWrite');
      expect(actions.includes('states:StartExecution'), context).toBe(route.touches.pipeline.includes('start') || route.touches.pipeline.includes('detect'));
      expect(actions.includes('states:StopExecution'), context).toBe(route.touches.pipeline.includes('stop'));
      expect(actions.includes('states:SendTaskSuccess'), context).toBe(route.touches.pipeline.includes('answer'));
      expect('TABLE_NAME' in environment, context).toBe(route.touches.table !== 'none');
      expect('STATE_MACHINE_ARN' in environment, context).toBe(route.touches.pipeline.some((action) => action !== 'detect'));
      expect('DETECT_WORK_STATE_MACHINE_ARN' in environment, context).toBe(route.touches.pipeline.includes('detect'));
      expect(actions.some((action) => action.includes('*')), context).toBe(false);
      expect(secretsReadBy(route.operationId), context).toEqual(secretNames(route.touches.secrets ?? []));
      expect('SECRETS_PREFIX' in environment, context).toBe((route.touches.secrets ?? []).length > 0);
      expect(environment, context).toMatchObject({ CAHOOTS_DEPLOYMENT: 'cell', CAHOOTS_EGRESS: 'nat' });
    }
    // Only the webhook reads the HMAC secret; creating a project checks the URL with the host credentials.
    expect(secretsReadBy(githubWebhookRoute.operationId)).toEqual(['git/token', 'git/username', 'github/app', 'github/token', 'github/webhook-secret']);
    expect(secretsReadBy('createProject')).toEqual(['git/token', 'git/username', 'github/app', 'github/token']);
  });

  it('serves GET /projects, signed with SigV4, from a function that may only read the table', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', { OperationName: 'listProjects', HttpMethod: 'GET', AuthorizationType: 'AWS_IAM' });
    const actions = actionsGrantedTo('listProjects');
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(actions.filter((action) => /^dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite)/.test(action))).toEqual([]);
    expect(actions.some((action) => action.startsWith('states:') || action.startsWith('secretsmanager:'))).toBe(false);
  });

  it('leaves no unacknowledged cdk-nag finding under the construct', () => {
    const findings = report.flatMap((plugin) =>
      plugin.violations
        .filter((violation) => violation.violatingConstructs.some((construct) => construct.constructPath.startsWith('ApiOnly/Api/')))
        .map((violation) => `${plugin.pluginName} ${violation.ruleName}`),
    );
    expect(findings).toEqual([]);
  });
});
