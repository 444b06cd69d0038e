// The customer cells as `cdk synth` builds them from infra/customers/: keys and encryption,
// isolation between cells, network shape per egress/endpoints setting, and cdk-nag's verdict.
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_ROLES } from '../../lib/domain/settings';
import { GSIS, TABLE_KEYS, TTL_ATTRIBUTE } from '../../lib/store/table-definition';
import { buildApp, type CahootsApp } from '../../infra/app';
import { listCustomerIds, loadCustomerConfigs } from '../../infra/config/customer-config';
import { GATEWAY_ENDPOINTS, INTERFACE_ENDPOINT_SETS } from '../../infra/constructs/cell-network';
import { PACKAGE_REGISTRY_ENDPOINTS } from '../../infra/constructs/cell-package-registry';
import type { CustomerCell } from '../../infra/stages/customer-cell';
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

let built: CahootsApp;
let report: PluginReport[];
const templatesByCell = new Map<string, StackTemplate[]>();
const allTemplates = new Map<string, CfnTemplate>();

function cell(id: string): CustomerCell {
  const found = built.cells.find((candidate) => candidate.config.id === id);
  if (!found) throw new Error(`no cell ${id}`);
  return found;
}

function templatesOf(id: string): StackTemplate[] {
  return templatesByCell.get(id)!;
}

function templateOf(id: string, stack: 'stateful' | 'network' | 'service' | 'pipeline' | 'agents' | 'api' | 'observability'): StackTemplate {
  const stackName = cell(id)[stack].stackName;
  return templatesOf(id).find((candidate) => candidate.stackName === stackName)!;
}

beforeAll(() => {
  const outdir = tempOutdir('cells');
  built = buildApp({ outdir, context: testContext() });
  built.app.synth();
  report = readValidationReport(outdir);
  for (const customerCell of built.cells) {
    const templates = stackTemplates(customerCell.stacks);
    templatesByCell.set(customerCell.config.id, templates);
    for (const { stackName, json } of templates) allTemplates.set(stackName, json);
  }
});

const CUSTOMER_IDS = listCustomerIds();
const PAIRS = CUSTOMER_IDS.flatMap((own) => CUSTOMER_IDS.filter((other) => other !== own).map((other) => [own, other]));

it('synthesizes every customer, including two that differ in account, egress and endpoints', () => {
  expect(built.cells.map((c) => c.config.id).sort()).toEqual(CUSTOMER_IDS);
  expect(cell('example').config).toMatchObject({ account: '123456789012', egress: 'nat', endpoints: 'full' });
  expect(cell('acme').config).toMatchObject({ egress: 'none', endpoints: 'minimal' });
  expect(cell('acme').config.account).not.toBe(cell('example').config.account);
});

describe.each(CUSTOMER_IDS)('cell %s', (id) => {
  it('has its own customer key, rotated every 90 days and retained', () => {
    const { template } = templateOf(id, 'stateful');
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, RotationPeriodInDays: 90 },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/cahoots-${id}` });
    expect(cell(id).stateful.terminationProtection).toBe(true);
  });

  it('lets only the services that need the key use it as themselves', () => {
    const { json } = templateOf(id, 'stateful');
    const key = Object.values(json.Resources).find((resource) => resource.Type === 'AWS::KMS::Key')!;
    const statements = (key.Properties!.KeyPolicy as { Statement: { Principal: Record<string, string> }[] }).Statement;
    const servicePrincipals = statements.flatMap((statement) => (statement.Principal.Service ? [statement.Principal.Service] : []));
    expect(new Set(servicePrincipals)).toEqual(
      new Set([
        `logs.${cell(id).config.region}.amazonaws.com`,
        'delivery.logs.amazonaws.com',
        'events.amazonaws.com',
        'cloudwatch.amazonaws.com',
      ]),
    );
    const accountPrincipals = statements.flatMap((statement) => (statement.Principal.AWS ? [statement.Principal.AWS] : []));
    expect(accountPrincipals).toEqual([`arn:aws:iam::${cell(id).config.account}:root`]);
  });

  it("encrypts every table, queue, bus, archive, bucket, log group, topic, file system and secret with this cell's key", () => {
    const stateful = templateOf(id, 'stateful');
    const keyLogicalId = Object.entries(stateful.json.Resources).find(([, r]) => r.Type === 'AWS::KMS::Key')![0];
    const resources = encryptedResources(templatesOf(id), allTemplates);
    const logDestinations = accessLogDestinations(templatesOf(id));

    const counts = Object.fromEntries(
      [
        'AWS::DynamoDB::Table',
        'AWS::SQS::Queue',
        'AWS::Events::EventBus',
        'AWS::Events::Archive',
        'AWS::S3::Bucket',
        'AWS::Logs::LogGroup',
        'AWS::SNS::Topic',
        'AWS::StepFunctions::StateMachine',
        'AWS::EFS::FileSystem',
        'AWS::SecretsManager::Secret',
      ].map((type) => [type, resources.filter((resource) => resource.type === type).length]),
    );
    // Not vacuous: the cell really has these resources. Log groups: one per Cahoots function, plus
    // flow logs, the two state machines' (goal pipeline, DetectWork) and the API access logs, and with NAT the DNS query log.
    expect(counts).toEqual({
      'AWS::DynamoDB::Table': 1,
      // The role queues and their DLQs, the notifications' DLQ and the detection schedules' DLQ.
      'AWS::SQS::Queue': AGENT_ROLES.length * 2 + 2,
      'AWS::Events::EventBus': 1,
      'AWS::Events::Archive': 1,
      'AWS::S3::Bucket': 2,
      'AWS::Logs::LogGroup': cahootsFunctionCount(templatesOf(id)) + 4 + (cell(id).config.egress === 'nat' ? 1 : 0),
      // Alarms, notifications, and the chat notifications of a cell with a Slack channel.
      'AWS::SNS::Topic': cell(id).config.notifications.slack ? 3 : 2,
      'AWS::StepFunctions::StateMachine': 2,
      'AWS::EFS::FileSystem': 1,
      'AWS::SecretsManager::Secret': 1,
    });
    expect(cahootsFunctionCount(templatesOf(id))).toBeGreaterThan(AGENT_ROLES.length);

    for (const resource of resources) {
      if (logDestinations.has(`${resource.stackName}/${resource.logicalId}`)) continue;
      expect(resource.key, `${resource.type} ${resource.stackName}/${resource.logicalId}`).toEqual({
        stackName: cell(id).stateful.stackName,
        logicalId: keyLogicalId,
      });
    }
  });

  it('keeps the one SSE-S3 bucket for what S3 requires: the access-log destination', () => {
    const { template } = templateOf(id, 'stateful');
    const destinations = accessLogDestinations(templatesOf(id));
    expect(destinations.size).toBe(1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  it('builds the single table from lib/store/table-definition.ts', () => {
    const { template } = templateOf(id, 'stateful');
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        GlobalSecondaryIndexes: GSIS.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    });
  });

  it('keeps artifacts versioned, TLS-only, private, logged and tidied by lifecycle rules', () => {
    const { template } = templateOf(id, 'stateful');
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
            Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
          ]),
        },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has one queue and one DLQ per agent role, sized for a 15-minute consumer', () => {
    const { template } = templateOf(id, 'service');
    for (const role of AGENT_ROLES) {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `cahoots-${id}-${role}`,
        VisibilityTimeout: 6 * 15 * 60,
        RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
      });
      template.hasResourceProperties('AWS::SQS::Queue', { QueueName: `cahoots-${id}-${role}-dlq` });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `cahoots-${id}-${role}-dead-letters`,
        AlarmActions: [Match.anyValue()],
      });
    }
    // Every queue refuses plain HTTP.
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      },
      AGENT_ROLES.length * 2,
    );
  });

  it('has the bus cahoots-<id> with an encrypted archive, and the alarm topic mails the customer', () => {
    const { template } = templateOf(id, 'service');
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `cahoots-${id}` });
    template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 90 });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: cell(id).config.alarmEmail });
  });

  it('sends what needs people from the bus to a notification topic under the cell key, in readable words', () => {
    const { template, json } = templateOf(id, 'observability');
    const { config } = cell(id);
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: `cahoots-${id}-notifications`, KmsMasterKeyId: Match.anyValue() });
    for (const email of config.notifications.emails) template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
    const rules = Object.values(json.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.map((r) => r.Properties!.Name).sort()).toEqual(
      ['approval-waiting', 'critical-finding', 'goal-failed', 'goal-succeeded'].map((n) => `cahoots-${id}-notify-${n}`),
    );
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: `cahoots-${id}-notify-critical-finding`,
      EventPattern: { source: ['cahoots'], 'detail-type': ['Finding.Detected'], detail: { data: { severity: ['critical'] } } },
    });
    const approval = rules.find((r) => r.Properties!.Name === `cahoots-${id}-notify-approval-waiting`)!;
    const targets = approval.Properties!.Targets as Array<{ InputTransformer: { InputTemplate: unknown; InputPathsMap: Record<string, string> } }>;
    expect(targets).toHaveLength(config.notifications.slack ? 2 : 1);
    expect(targets[0]!.InputTransformer.InputPathsMap).toMatchObject({ goalId: '$.detail.goalId', stage: '$.detail.data.stage' });
    // What SNS refuses after the retries is kept, under the cell key, and alarms.
    for (const target of targets as unknown as Array<{ DeadLetterConfig: unknown; RetryPolicy: unknown }>) {
      expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/DeadLetterQueue/), 'Arn'] } });
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21_600 });
    }
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: `cahoots-${id}-notifications-dlq`, KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `cahoots-${id}-notifications-dead-letters` });
    // Plain text, not a JSON string: an e-mail shows the lines, not quotes and \n.
    const text = JSON.stringify(targets[0]!.InputTransformer.InputTemplate);
    expect(text).toContain('Approve:  cahoots approve <goalId> --endpoint https://');
    expect(text).not.toMatch(/^"\\"/);
  });

  it('posts to the Slack channel of the customer file through AWS Chatbot, where there is one', () => {
    const { template, json } = templateOf(id, 'observability');
    const slack = cell(id).config.notifications.slack;
    if (!slack) {
      template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
      return;
    }
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: slack.workspaceId,
      SlackChannelId: slack.channelId,
      SnsTopicArns: [{ Ref: Match.stringLikeRegexp('ChatTopic') }],
      GuardrailPolicies: [{ Ref: Match.stringLikeRegexp('ChatGuardrail') }],
    });
    const chatTargets = Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => (r.Properties!.Targets as Array<{ InputTransformer: { InputTemplate: unknown } }>)[1]!.InputTransformer.InputTemplate);
    for (const target of chatTargets) expect(JSON.stringify(target)).toContain('\\"source\\":\\"custom\\"');
  });

  it('restricts the default security group, logs flows, and lets agents out on 443 only', () => {
    const { template } = templateOf(id, 'network');
    template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Agent Lambdas: outbound HTTPS only',
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })],
    });
    // The endpoints' group sends nothing: CDK renders "no egress" as a rule no packet can match.
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Interface endpoints: HTTPS in from agent Lambdas only',
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
    // The only rules between groups: agents to endpoints on 443 (without egress, also to the
    // CodeArtifact API endpoint, for registry tokens).
    const pairs = cell(id).config.egress === 'none' ? 2 : 1;
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', pairs);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 443, ToPort: 443, DestinationSecurityGroupId: Match.anyValue() });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', pairs);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, ToPort: 443, SourceSecurityGroupId: Match.anyValue() });
  });

  it('creates exactly the documented endpoints, interface ones in the two "ai" subnets', () => {
    const { json } = templateOf(id, 'network');
    const endpoints = Object.values(json.Resources).filter((resource) => resource.Type === 'AWS::EC2::VPCEndpoint');
    const serviceOf = (resource: (typeof endpoints)[number]) => serviceSuffix(resource.Properties!.ServiceName);
    const interfaces = endpoints.filter((resource) => resource.Properties!.VpcEndpointType === 'Interface');
    const gateways = endpoints.filter((resource) => resource.Properties!.VpcEndpointType === 'Gateway');

    const registry = cell(id).config.egress === 'none' ? PACKAGE_REGISTRY_ENDPOINTS : [];
    expect(interfaces.map(serviceOf).sort()).toEqual([...INTERFACE_ENDPOINT_SETS[cell(id).config.endpoints], ...registry].sort());
    expect(gateways.map(serviceOf).sort()).toEqual([...GATEWAY_ENDPOINTS].sort());
    const aiSubnets = Object.entries(json.Resources)
      .filter(([logicalId, resource]) => resource.Type === 'AWS::EC2::Subnet' && logicalId.includes('aiSubnet'))
      .map(([logicalId]) => logicalId)
      .sort();
    expect(aiSubnets).toHaveLength(2);
    for (const endpoint of interfaces) {
      expect(endpoint.Properties!.PrivateDnsEnabled).toBe(true);
      const subnets = (endpoint.Properties!.SubnetIds as { Ref: string }[]).map((subnet) => subnet.Ref).sort();
      expect(subnets).toEqual(aiSubnets);
    }
  });
});

describe.each(CUSTOMER_IDS)('workspace of cell %s', (id) => {
  const service = () => templateOf(id, 'service');
  const resourcesOf = (json: CfnTemplate, type: string) => Object.entries(json.Resources).filter(([, resource]) => resource.Type === type);
  const groupId = (description: string) =>
    resourcesOf(service().json, 'AWS::EC2::SecurityGroup').find(([, resource]) => resource.Properties!.GroupDescription === description)![0];
  const MOUNT_TARGETS = 'Workspace mount targets: NFS in from workspace clients only';
  const CLIENTS = 'Functions that mount the workspace: HTTPS out, NFS to the workspace';

  it('is one EFS file system, encrypted, elastic, tiered to IA after 30 days, without backups', () => {
    const { template } = service();
    template.resourceCountIs('AWS::EFS::FileSystem', 1);
    template.hasResourceProperties('AWS::EFS::FileSystem', {
      Encrypted: true,
      KmsKeyId: Match.anyValue(),
      ThroughputMode: 'elastic',
      PerformanceMode: 'generalPurpose',
      BackupPolicy: { Status: 'DISABLED' },
      LifecyclePolicies: [{ TransitionToIA: 'AFTER_30_DAYS' }, { TransitionToPrimaryStorageClass: 'AFTER_1_ACCESS' }],
    });
    // Clients come through TLS and a mount target, or not at all.
    const [[, fileSystem]] = resourcesOf(service().json, 'AWS::EFS::FileSystem') as unknown as [[string, { Properties: Record<string, any> }]];
    expect(fileSystem.Properties.FileSystemPolicy.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    );
  });

  it('has a mount target in each application subnet, behind its own security group', () => {
    const { json } = service();
    const mountTargets = resourcesOf(json, 'AWS::EFS::MountTarget');
    expect(mountTargets).toHaveLength(2);
    const subnets = mountTargets.map(([, target]) => JSON.stringify(target.Properties!.SubnetId));
    expect(subnets.every((subnet) => subnet.includes('applicationSubnet'))).toBe(true);
    expect(new Set(subnets).size).toBe(2);
    for (const [, target] of mountTargets) {
      expect(target.Properties!.SecurityGroups).toEqual([{ 'Fn::GetAtt': [groupId(MOUNT_TARGETS), 'GroupId'] }]);
    }
  });

  it('is entered through one access point as uid/gid 1000 under /cahoots (750)', () => {
    const { template } = service();
    template.resourceCountIs('AWS::EFS::AccessPoint', 1);
    template.hasResourceProperties('AWS::EFS::AccessPoint', {
      PosixUser: { Uid: '1000', Gid: '1000' },
      RootDirectory: { Path: '/cahoots', CreationInfo: { OwnerUid: '1000', OwnerGid: '1000', Permissions: '750' } },
    });
  });

  it('admits NFS from the workspace clients only; clients reach NFS and HTTPS, nothing else', () => {
    const { json } = service();
    const mountTargets = groupId(MOUNT_TARGETS);
    const clients = groupId(CLIENTS);
    const ingress = resourcesOf(json, 'AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties!);
    const toMountTargets = ingress.filter((rule) => JSON.stringify(rule.GroupId).includes(mountTargets));
    expect(toMountTargets).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 2049, ToPort: 2049, SourceSecurityGroupId: { 'Fn::GetAtt': [clients, 'GroupId'] } })]);
    const mountTargetGroup = json.Resources[mountTargets]!.Properties!;
    expect(mountTargetGroup.SecurityGroupIngress ?? []).toEqual([]);

    const egress = resourcesOf(json, 'AWS::EC2::SecurityGroupEgress')
      .map(([, rule]) => rule.Properties!)
      .filter((rule) => JSON.stringify(rule.GroupId).includes(clients));
    expect(egress.map((rule) => rule.FromPort).sort()).toEqual([2049, 443]);
    const inline = json.Resources[clients]!.Properties!.SecurityGroupEgress as Record<string, unknown>[];
    expect(inline).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })]);
  });

  it('is mounted at /mnt/workspace by the agent workers, Deliver, AssessGoal, the detection steps that touch the snapshot, the sandbox and dependency-setup functions, and by no other function', () => {
    const mounted: string[] = [];
    const notMounted: string[] = [];
    for (const stack of ['pipeline', 'agents', 'api'] as const) {
      for (const [, fn] of resourcesOf(templateOf(id, stack).json, 'AWS::Lambda::Function')) {
        const properties = fn.Properties!;
        const name = (properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME;
        if (!name) continue;
        if (properties.FileSystemConfigs) {
          expect(properties.FileSystemConfigs, name).toEqual([{ Arn: expect.anything(), LocalMountPath: '/mnt/workspace' }]);
          expect((properties.Environment as { Variables: Record<string, string> }).Variables.CAHOOTS_WORKSPACE_ROOT, name).toBe('/mnt/workspace');
          const groups = JSON.stringify((properties.VpcConfig as { SecurityGroupIds: unknown }).SecurityGroupIds);
          expect(groups, name).not.toContain('AgentSecurityGroup');
          mounted.push(name);
        } else {
          notMounted.push(name);
        }
      }
    }
    expect(mounted.sort()).toEqual(
      [
        ...AGENT_ROLES.map((role) => `cahoots-${id}-agent-${role}`),
        `cahoots-${id}-pipeline-deliver`,
        `cahoots-${id}-pipeline-assess-goal`,
        `cahoots-${id}-detection-prepare-detection`,
        `cahoots-${id}-detection-run-detector`,
        `cahoots-${id}-detection-record-detection`,
        `cahoots-${id}-sandbox`,
        `cahoots-${id}-dependency-setup`,
      ].sort(),
    );
    expect(notMounted.length).toBeGreaterThan(10);
  });
});

describe('egress', () => {
  const withEgress = (mode: string) => CUSTOMER_IDS.filter((id) => loadCustomerConfigs({ ids: [id] })[0]!.egress === mode);

  it.each(withEgress('none'))('none (%s): no internet gateway, NAT gateway, elastic IP, public subnet or route out', (id) => {
    const { template } = templateOf(id, 'network');
    for (const type of ['AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::EC2::Route', 'AWS::EC2::VPCGatewayAttachment']) {
      template.resourceCountIs(type, 0);
    }
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true }, 0);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
  });

  it.each(withEgress('nat'))('nat (%s): one NAT gateway for two AZs, public subnets hand out no public IPs', (id) => {
    const { template } = templateOf(id, 'network');
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 6);
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true }, 0);
    // Both application subnets route to the single NAT gateway.
    template.resourcePropertiesCountIs('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: Match.anyValue() }, 2);
  });

  it('the shipped customers cover both settings', () => {
    expect(withEgress('none')).toContain('acme');
    expect(withEgress('nat')).toContain('example');
  });
});

it.each(CUSTOMER_IDS)('lists the stacks of %s in an order that deploys: each after the stacks it reads from', (id) => {
  const order = cell(id).stacks;
  let dependencies = 0;
  for (const [index, stack] of order.entries()) {
    for (const dependency of stack.dependencies) {
      dependencies += 1;
      expect(order.findIndex((candidate) => candidate === dependency), `${stack.stackName} after ${dependency.stackName}`).toBeLessThan(index);
    }
  }
  expect(dependencies).toBeGreaterThan(order.length - 1);
  expect(cell(id).stateful.dependencies).toEqual([]);
});

describe('isolation between cells', () => {
  it.each(PAIRS)("no resource or output of %s's stacks mentions %s", (ownId, otherId) => {
    const other = cell(otherId);
    const markers = [other.config.account, `Cahoots-${otherId}-`, `cahoots-${otherId}`, `alias/cahoots-${otherId}`, other.config.alarmEmail];
    for (const { stackName, json } of templatesOf(ownId)) {
      const text = JSON.stringify({ Resources: json.Resources, Outputs: json.Outputs ?? {} });
      for (const marker of markers) {
        expect(text.includes(marker), `${stackName} mentions ${marker}`).toBe(false);
      }
    }
  });

  it.each(CUSTOMER_IDS)("every cross-stack reference of %s points into its own cell", (id) => {
    const ownStacks = new Set(cell(id).stacks.map((stack) => stack.stackName));
    let referenceCount = 0;
    for (const { stackName, json } of templatesOf(id)) {
      for (const reference of crossStackReferences(json)) {
        referenceCount += 1;
        expect(ownStacks.has(reference), `${stackName} refers to ${reference}`).toBe(true);
      }
    }
    // The network and service stacks do read the key from the stateful stack: the scan saw them.
    expect(referenceCount).toBeGreaterThan(0);
    expect(cell(id).stacks.every((stack) => stack.account === cell(id).config.account && stack.region === cell(id).config.region)).toBe(true);
  });
});

describe('cdk-nag', () => {
  it('reports no unacknowledged finding for any cell', () => {
    const failing = report.flatMap((plugin) =>
      plugin.violations.map((violation) => `${plugin.pluginName}: ${violation.ruleName} at ${violation.violatingConstructs.map((c) => c.constructPath).join(', ')}`),
    );
    expect(failing).toEqual([]);
    expect(report.every((plugin) => plugin.conclusion === 'success')).toBe(true);
    // The packs did run on this app: their acknowledged findings are in the report.
    expect(report.map((plugin) => plugin.pluginName)).toEqual(expect.arrayContaining(['Serverless']));
  });

  it('has no stale acknowledgement: each one suppresses a finding and gives a reason', () => {
    const suppressed = report.flatMap((plugin) => plugin.suppressedViolations ?? []);
    for (const acknowledgement of acknowledgementsIn(built.app)) {
      if (acknowledgement.id.startsWith('CloudFormation-Validate::')) continue; // CDK's own
      const match = suppressed.find((s) => s.acknowledgedId === acknowledgement.id && s.acknowledgedAt === acknowledgement.path);
      expect(match, `${acknowledgement.id} at ${acknowledgement.path}`).toBeDefined();
      expect(match!.reason!.length).toBeGreaterThan(40);
    }
  });
});

/** Lambda functions built by AgentFunction (CDK's own custom-resource providers have no service name). */
function cahootsFunctionCount(templates: readonly StackTemplate[]): number {
  return templates
    .flatMap(({ json }) => Object.values(json.Resources))
    .filter((resource) => resource.Type === 'AWS::Lambda::Function')
    .filter((resource) => (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME)
    .length;
}

/** `Cahoots-acme-Stateful`-style names of stacks a template reads outputs or exports from. */
function crossStackReferences(json: CfnTemplate): string[] {
  const names: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    const stackOutput = record['Fn::GetStackOutput'] as { StackName: string } | undefined;
    if (stackOutput) names.push(stackOutput.StackName);
    const importName = record['Fn::ImportValue'];
    if (typeof importName === 'string') names.push(importName.split(':')[0]!);
    Object.values(record).forEach(visit);
  };
  visit({ Resources: json.Resources, Outputs: json.Outputs ?? {} });
  return names;
}

/** Buckets named as another bucket's server access log destination, as `<stack>/<logicalId>`. */
function accessLogDestinations(templates: readonly StackTemplate[]): Set<string> {
  const destinations = new Set<string>();
  for (const { stackName, json } of templates) {
    for (const resource of Object.values(json.Resources)) {
      const logging = resource.Properties?.LoggingConfiguration as { DestinationBucketName?: unknown } | undefined;
      const destination = logging && resolveResource(logging.DestinationBucketName, stackName, allTemplates);
      if (destination) destinations.add(`${destination.stackName}/${destination.logicalId}`);
    }
  }
  return destinations;
}

/** `com.amazonaws.<region>.<service>` → `<service>`, whether rendered literally or with Fn::Join. */
function serviceSuffix(serviceName: unknown): string {
  if (typeof serviceName === 'string') return serviceName.split('.').slice(3).join('.');
  const parts = (serviceName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return String(parts[parts.length - 1]).replace(/^\./, '');
}
