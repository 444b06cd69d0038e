// Where dependency installs go in a synthesized cell. The example cell (egress nat) holds every
// name resolved in its VPC to the customer file's allow-list with a DNS firewall that blocks and
// logs the rest; the acme cell (egress none) installs from a CodeArtifact npm repository through
// two interface endpoints. In both, the setup function is the sandbox image with an empty role,
// and agent workers may invoke it and (without egress) fetch CodeArtifact read tokens, nothing more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { loadCustomerConfigs } from '../../infra/config/customer-config';
import { CUSTOMERS_DIR } from '../../infra/paths';
import { AGENT_ROLES } from '../../lib/domain/settings';
import { type CfnResource, type CfnTemplate, removeTempDirs, SANDBOX_ROLE_ACTIONS, stackTemplates, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

const resourcesOf = (json: CfnTemplate, type: string) => Object.entries(json.Resources).filter(([, r]) => r.Type === type);
const ref = (value: unknown) => JSON.stringify(value);
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

function synth(id: string): Map<string, CfnTemplate> {
  const { app, cells } = buildApp({ outdir: tempOutdir('setup'), context: testContext(), customersDir: CUSTOMERS_DIR, customerIds: [id] });
  app.synth();
  return new Map(stackTemplates(cells[0]!.stacks).map(({ stackName, json }) => [stackName.split('-').pop()!, json]));
}

function setupFunction(agents: CfnTemplate, customerId: string): [string, CfnResource] {
  return resourcesOf(agents, 'AWS::Lambda::Function').find(([, fn]) => ref(fn.Properties!.Environment).includes(`cahoots-${customerId}-dependency-setup`))!;
}

function statementsOfRole(json: CfnTemplate, roleId: string): Statement[] {
  return resourcesOf(json, 'AWS::IAM::Policy')
    .filter(([, policy]) => ref(policy.Properties!.Roles).includes(roleId))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

const roleIdOf = (fn: CfnResource) => (fn.Properties!.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];


let nat: Map<string, CfnTemplate>;
let none: Map<string, CfnTemplate>;

beforeAll(() => {
  nat = synth('example');
  none = synth('acme');
});

describe('a cell with egress nat: the DNS firewall', () => {
  it('allows the domains the customer file lists and the region\'s AWS endpoints, nothing else', () => {
    const [example] = loadCustomerConfigs({ ids: ['example'] });
    const network = Template.fromJSON(nat.get('Network')!);
    const lists = network.findResources('AWS::Route53Resolver::FirewallDomainList');
    const domains = Object.values(lists).map((list) => (list.Properties as { Domains: string[] }).Domains);
    expect(domains).toHaveLength(2);
    expect(domains).toContainEqual([...example!.egressAllowList!, 'eu-west-1.amazonaws.com', '*.eu-west-1.amazonaws.com']);
    expect(domains).toContainEqual(['*']);
  });

  it('has a rule group that allows the list first and blocks every other name, associated with the cell VPC', () => {
    const network = Template.fromJSON(nat.get('Network')!);
    const lists = network.findResources('AWS::Route53Resolver::FirewallDomainList');
    const allowId = Object.entries(lists).find(([, list]) => !(list.Properties as { Domains: string[] }).Domains.includes('*'))![0];
    const allId = Object.entries(lists).find(([, list]) => (list.Properties as { Domains: string[] }).Domains.includes('*'))![0];
    network.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroup', 1);
    network.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroup', {
      FirewallRules: [
        { Priority: 100, Action: 'ALLOW', FirewallDomainListId: { 'Fn::GetAtt': [allowId, 'Id'] } },
        { Priority: 200, Action: 'BLOCK', BlockResponse: 'NXDOMAIN', FirewallDomainListId: { 'Fn::GetAtt': [allId, 'Id'] } },
      ],
    });
    const vpcId = Object.keys(network.findResources('AWS::EC2::VPC'))[0]!;
    network.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroupAssociation', {
      VpcId: { Ref: vpcId },
      FirewallRuleGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('RuleGroup'), 'Id'] },
      Priority: 101,
    });
  });

  it('logs every query of the VPC to a log group encrypted with the customer key', () => {
    const network = Template.fromJSON(nat.get('Network')!);
    const vpcId = Object.keys(network.findResources('AWS::EC2::VPC'))[0]!;
    const [configId, config] = Object.entries(network.findResources('AWS::Route53Resolver::ResolverQueryLoggingConfig'))[0]!;
    const logGroupId = Object.keys(network.findResources('AWS::Logs::LogGroup')).find((id) => id.includes('QueryLogs'))!;
    expect(ref(config.Properties.DestinationArn)).toContain(logGroupId);
    expect(ref(config.Properties.DestinationArn)).not.toContain(':*');
    network.hasResourceProperties('AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation', {
      ResolverQueryLogConfigId: { 'Fn::GetAtt': [configId, 'Id'] },
      ResourceId: { Ref: vpcId },
    });
    network.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: Match.anyValue() });
    expect(network.findResources('AWS::Logs::LogGroup')[logGroupId]!.Properties.KmsKeyId).toBeDefined();
  });

  it('has no CodeArtifact registry or endpoints, and workers hold no CodeArtifact permission', () => {
    for (const json of nat.values()) {
      expect(resourcesOf(json, 'AWS::CodeArtifact::Domain')).toEqual([]);
      expect(ref(json)).not.toContain('codeartifact');
    }
  });

  it('places the setup function in the application subnets with HTTPS out, and tells workers its name', () => {
    const agents = nat.get('Agents')!;
    const [setupId, setup] = setupFunction(agents, 'example');
    expect(setup.Properties!.PackageType).toBe('Image');
    expect((setup.Properties!.ImageConfig as { Command: string[] }).Command).toEqual(['setup-dependencies.handler']);
    expect(ref((setup.Properties!.VpcConfig as { SubnetIds: unknown }).SubnetIds)).toMatch(/applicationSubnet1/);
    const groupId = ref((setup.Properties!.VpcConfig as { SecurityGroupIds: unknown }).SecurityGroupIds).match(/DependencySetupSecurityGroup\w+/)![0];
    expect(agents.Resources[groupId]!.Properties!.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    const workers = resourcesOf(agents, 'AWS::Lambda::Function').filter(([, fn]) => ref(fn.Properties!.Environment).includes('AGENT_ROLE'));
    expect(workers).toHaveLength(AGENT_ROLES.length);
    for (const [, worker] of workers) {
      const variables = (worker.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.SETUP_FUNCTION_NAME).toEqual({ Ref: setupId });
      expect(variables.CODEARTIFACT_DOMAIN).toBeUndefined();
    }
  });
});

describe('a cell with egress none: the CodeArtifact registry', () => {
  it('has a domain encrypted with the customer key and an npm repository with the public npm upstream', () => {
    const network = Template.fromJSON(none.get('Network')!);
    network.resourceCountIs('AWS::CodeArtifact::Domain', 1);
    network.hasResourceProperties('AWS::CodeArtifact::Domain', { DomainName: 'cahoots-acme', EncryptionKey: Match.anyValue() });
    network.hasResourceProperties('AWS::CodeArtifact::Repository', {
      DomainName: 'cahoots-acme',
      RepositoryName: 'npm',
      ExternalConnections: ['public:npmjs'],
    });
  });

  it('is reached through the codeartifact.api and codeartifact.repositories endpoints with private DNS, each behind its own group', () => {
    const network = none.get('Network')!;
    const endpoints = resourcesOf(network, 'AWS::EC2::VPCEndpoint').filter(([, e]) => ref(e.Properties!.ServiceName).includes('codeartifact'));
    expect(endpoints.map(([, e]) => ref(e.Properties!.ServiceName).match(/codeartifact\.(api|repositories)/)![0]).sort()).toEqual([
      'codeartifact.api',
      'codeartifact.repositories',
    ]);
    for (const [, endpoint] of endpoints) {
      expect(endpoint.Properties!.PrivateDnsEnabled).toBe(true);
      expect(endpoint.Properties!.VpcEndpointType).toBe('Interface');
    }
    const groups = endpoints.map(([, e]) => ref(e.Properties!.SecurityGroupIds));
    expect(new Set(groups).size).toBe(2);
  });

  it('admits the agent workers to the API endpoint and only the setup function to the repositories endpoint', () => {
    const ingress: Record<string, unknown>[] = [...none.values()].flatMap((json) => [
      ...resourcesOf(json, 'AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties!),
      ...resourcesOf(json, 'AWS::EC2::SecurityGroup').flatMap(([id, group]) =>
        ((group.Properties!.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? []).map((rule) => ({ ...rule, GroupId: { Ref: id } })),
      ),
    ]);
    const into = (pattern: RegExp) => ingress.filter((rule) => pattern.test(ref(rule.GroupId)));
    const api = into(/ApiEndpointSecurityGroup/);
    expect(api).toHaveLength(1);
    expect(ref(api[0]!.SourceSecurityGroupId)).toMatch(/AgentSecurityGroup/);
    const repositories = into(/RepositoriesEndpointSecurityGroup/);
    expect(repositories).toHaveLength(1);
    expect(ref(repositories[0]!.SourceSecurityGroupId)).toMatch(/DependencySetupSecurityGroup/);
    expect(repositories[0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
  });

  it('has no DNS firewall (nothing leaves the VPC to filter)', () => {
    for (const json of none.values()) expect(resourcesOf(json, 'AWS::Route53Resolver::FirewallRuleGroup')).toEqual([]);
  });

  it('gives every agent worker exactly the token permissions on the one domain, and the registry settings', () => {
    const agents = none.get('Agents')!;
    const workers = resourcesOf(agents, 'AWS::Lambda::Function').filter(([, fn]) => ref(fn.Properties!.Environment).includes('AGENT_ROLE'));
    expect(workers).toHaveLength(AGENT_ROLES.length);
    for (const [, worker] of workers) {
      const statements = statementsOfRole(agents, roleIdOf(worker));
      const codeArtifact = statements.filter((s) => ref(s.Action).includes('codeartifact:') || ref(s.Action).includes('sts:'));
      expect(codeArtifact).toHaveLength(2);
      const token = codeArtifact.find((s) => ref(s.Action).includes('codeartifact:'))!;
      expect([token.Action].flat()).toEqual(['codeartifact:GetAuthorizationToken']);
      expect(ref(token.Resource)).toContain(':codeartifact:us-east-1:210987654321:domain/cahoots-acme"');
      const bearer = codeArtifact.find((s) => ref(s.Action).includes('sts:'))!;
      expect([bearer.Action].flat()).toEqual(['sts:GetServiceBearerToken']);
      expect(bearer.Condition).toEqual({ StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } });
      const variables = (worker.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.CODEARTIFACT_DOMAIN).toBe('cahoots-acme');
      expect(variables.CODEARTIFACT_DOMAIN_OWNER).toBe('210987654321');
      // https://cahoots-acme-210987654321.d.codeartifact.us-east-1.amazonaws.com/npm/npm/ (the partition's URL suffix)
      expect(variables.CODEARTIFACT_NPM_URL).toEqual({
        'Fn::Join': ['', ['https://cahoots-acme-210987654321.d.codeartifact.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/npm/npm/']],
      });
    }
  });
});

describe('the setup function, in both kinds of cell', () => {
  it('has a role with nothing but its logs, network interfaces and the workspace mount', () => {
    for (const [cell, templates] of [['example', nat], ['acme', none]] as const) {
      const agents = templates.get('Agents')!;
      const [, setup] = setupFunction(agents, cell);
      const roleId = roleIdOf(setup);
      expect(agents.Resources[roleId]!.Properties!.ManagedPolicyArns).toBeUndefined();
      const actions = new Set(statementsOfRole(agents, roleId).flatMap((s) => [s.Action].flat()));
      expect([...actions].sort()).toEqual(SANDBOX_ROLE_ACTIONS);
    }
  });

  it('is never admitted to the AWS service endpoints', () => {
    for (const templates of [nat, none]) {
      const groups = [...templates.values()].flatMap((json) => resourcesOf(json, 'AWS::EC2::SecurityGroup').filter(([id]) => id.includes('CellNetworkEndpointSecurityGroup')));
      expect(groups.length).toBeGreaterThan(0);
      for (const [, group] of groups) expect(ref(group.Properties!.SecurityGroupIngress ?? [])).not.toContain('DependencySetup');
    }
  });
});

describe("DetectWork's snapshot install and registry", () => {
  const functionNamed = (json: CfnTemplate, suffix: string) =>
    resourcesOf(json, 'AWS::Lambda::Function').find(([, fn]) => ref(fn.Properties!.Environment).includes(`detection-${suffix}`))!;
  const variables = (fn: CfnResource) => (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

  it('PrepareDetection invokes the dependency-setup function by its fixed name, with the time an install takes', () => {
    for (const [cells, customerId] of [[nat, 'example'], [none, 'acme']] as const) {
      const pipeline = cells.get('Pipeline')!;
      const [, prepare] = functionNamed(pipeline, 'prepare-detection');
      expect(variables(prepare).SETUP_FUNCTION_NAME).toBe(`cahoots-${customerId}-dependency-setup`);
      expect(prepare.Properties!.Timeout).toBe(900);
      const invokes = statementsOfRole(pipeline, roleIdOf(prepare)).filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
      expect(ref(invokes.map((s) => s.Resource))).toContain(`function:cahoots-${customerId}-dependency-setup`);
      // The function carries that name in the agents stack.
      expect(setupFunction(cells.get('Agents')!, customerId)[1].Properties!.FunctionName).toBe(`cahoots-${customerId}-dependency-setup`);
    }
  });

  it('without egress PrepareDetection fetches CodeArtifact read tokens, and RunDetector knows it cannot reach the npm registry', () => {
    const pipeline = none.get('Pipeline')!;
    const [, prepare] = functionNamed(pipeline, 'prepare-detection');
    expect(Object.keys(variables(prepare))).toEqual(expect.arrayContaining(['CODEARTIFACT_DOMAIN', 'CODEARTIFACT_DOMAIN_OWNER', 'CODEARTIFACT_NPM_URL']));
    expect(statementsOfRole(pipeline, roleIdOf(prepare)).flatMap((s) => [s.Action].flat())).toContain('codeartifact:GetAuthorizationToken');
    expect(variables(functionNamed(pipeline, 'run-detector')[1])).toMatchObject({ CAHOOTS_DEPLOYMENT: 'cell', CAHOOTS_EGRESS: 'none' });

    const natPipeline = nat.get('Pipeline')!;
    const [, natPrepare] = functionNamed(natPipeline, 'prepare-detection');
    expect(Object.keys(variables(natPrepare))).not.toContain('CODEARTIFACT_DOMAIN');
    expect(variables(functionNamed(natPipeline, 'run-detector')[1])).toMatchObject({ CAHOOTS_EGRESS: 'nat' });
  });
});
