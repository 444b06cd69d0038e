// The sandbox function in a synthesized cell: a container image in isolated subnets whose role
// holds nothing but logs, network interfaces and the workspace mount, whose only way out is NFS,
// which the endpoints do not admit, and which each agent worker may invoke and nothing more.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { CUSTOMERS_DIR } from '../../infra/paths';
import { AGENT_ROLES } from '../../lib/domain/settings';
import { type CfnResource, type CfnTemplate, removeTempDirs, SANDBOX_ROLE_ACTIONS, stackTemplates, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

const resourcesOf = (json: CfnTemplate, type: string) => Object.entries(json.Resources).filter(([, r]) => r.Type === type);
const ref = (value: unknown) => JSON.stringify(value);

function synth(customersDir: string, id: string): Map<string, CfnTemplate> {
  const { app, cells } = buildApp({ outdir: tempOutdir('sandbox'), context: testContext(), customersDir, customerIds: [id] });
  app.synth();
  return new Map(stackTemplates(cells[0]!.stacks).map(({ stackName, json }) => [stackName.split('-').pop()!, json]));
}

let templates: Map<string, CfnTemplate>;
let agents: CfnTemplate;
let sandboxId: string;
let sandbox: CfnResource;
let sandboxGroupId: string;

beforeAll(() => {
  templates = synth(CUSTOMERS_DIR, 'acme');
  agents = templates.get('Agents')!;
  const found = resourcesOf(agents, 'AWS::Lambda::Function').find(([, fn]) => ref(fn.Properties!.Environment).includes('cahoots-acme-sandbox'));
  [sandboxId, sandbox] = found!;
  sandboxGroupId = resourcesOf(agents, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('SandboxSecurityGroup'))![0];
});

describe('the sandbox function', () => {
  it('is a container image on arm64 that mounts the workspace, with no tracing', () => {
    const properties = sandbox.Properties!;
    expect(properties.PackageType).toBe('Image');
    expect(ref((properties.Code as Record<string, unknown>).ImageUri)).toContain('container-assets');
    expect(properties.Architectures).toEqual(['arm64']);
    expect(properties.FileSystemConfigs).toEqual([{ Arn: expect.anything(), LocalMountPath: '/mnt/workspace' }]);
    expect(properties.TracingConfig).toBeUndefined();
    expect((properties.Environment as { Variables: Record<string, string> }).Variables.CAHOOTS_WORKSPACE_ROOT).toBe('/mnt/workspace');
  });

  it('runs in the isolated "ai" subnets', () => {
    const subnets = ref((sandbox.Properties!.VpcConfig as { SubnetIds: unknown }).SubnetIds);
    expect(subnets).toMatch(/aiSubnet1/);
    expect(subnets).toMatch(/aiSubnet2/);
    expect(subnets).not.toMatch(/application/i);
  });

  it('has a role with nothing but its logs, network interfaces and the workspace mount', () => {
    const roleId = (sandbox.Properties!.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const role = agents.Resources[roleId]!;
    expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
    const statements = resourcesOf(agents, 'AWS::IAM::Policy')
      .filter(([, policy]) => ref(policy.Properties!.Roles).includes(roleId))
      .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement);
    const actions = new Set(statements.flatMap((s) => [s.Action].flat()));
    expect([...actions].sort()).toEqual(SANDBOX_ROLE_ACTIONS);
    const mount = statements.find((s) => [s.Action].flat().includes('elasticfilesystem:ClientMount'))!;
    expect(ref(mount)).toContain('elasticfilesystem:AccessPointArn');
  });

  it('has a security group whose only way out is NFS to the mount targets', () => {
    const group = agents.Resources[sandboxGroupId]!.Properties!;
    // Inline, only the rule that matches nothing (so EC2 adds no default allow-all rule).
    expect(group.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 })]);
    const egress = [...templates.values()].flatMap((json) => resourcesOf(json, 'AWS::EC2::SecurityGroupEgress').map(([, rule]) => rule.Properties!));
    const ours = egress.filter((rule) => ref(rule.GroupId).includes(sandboxGroupId));
    expect(ours).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 2049, ToPort: 2049, DestinationSecurityGroupId: expect.anything() })]);
    expect(ref(ours[0]!.DestinationSecurityGroupId)).toMatch(/MountTargetSecurityGroup/);
  });

  it('is not admitted anywhere but the mount targets, and never by the endpoints', () => {
    const ingress = [...templates.values()].flatMap((json) => resourcesOf(json, 'AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties!));
    const fromSandbox = ingress.filter((rule) => ref(rule.SourceSecurityGroupId).includes(sandboxGroupId));
    expect(fromSandbox).toHaveLength(1);
    expect(fromSandbox[0]).toMatchObject({ FromPort: 2049, ToPort: 2049 });
    expect(ref(fromSandbox[0]!.GroupId)).toMatch(/MountTargetSecurityGroup/);
    const endpointGroups = [...templates.values()].flatMap((json) => resourcesOf(json, 'AWS::EC2::SecurityGroup').filter(([id]) => id.includes('EndpointSecurityGroup')));
    for (const [, group] of endpointGroups) expect(ref(group.Properties!.SecurityGroupIngress ?? [])).not.toContain('Sandbox');
  });

  it('may be invoked by every agent worker, with the dependency-setup function and nothing else of its kind, and the worker is told its name', () => {
    const workers = resourcesOf(agents, 'AWS::Lambda::Function').filter(([, fn]) => ref(fn.Properties!.Environment).includes('AGENT_ROLE'));
    expect(workers).toHaveLength(AGENT_ROLES.length);
    for (const [, worker] of workers) {
      expect((worker.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.SANDBOX_FUNCTION_NAME).toEqual({ Ref: sandboxId });
    }
    const invokes = resourcesOf(agents, 'AWS::IAM::Policy')
      .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
      .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invokes).toHaveLength(AGENT_ROLES.length);
    const setupId = resourcesOf(agents, 'AWS::Lambda::Function').find(([, fn]) => ref(fn.Properties!.Environment).includes('cahoots-acme-dependency-setup'))![0];
    for (const statement of invokes) {
      expect([statement.Resource].flat()).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [sandboxId, 'Arn'] }, { 'Fn::GetAtt': [setupId, 'Arn'] }]));
      expect([statement.Resource].flat()).toHaveLength(2);
    }
  });
});

describe("the customer's own sandbox image", () => {
  it('is pulled from the ECR URI the customer file names instead of being built', () => {
    const dir = tempOutdir('customers');
    const acme = JSON.parse(fs.readFileSync(path.join(CUSTOMERS_DIR, 'acme.json'), 'utf8')) as Record<string, unknown>;
    const image = '210987654321.dkr.ecr.us-east-1.amazonaws.com/acme/ci-sandbox:2026-12-01';
    fs.writeFileSync(path.join(dir, 'acme.json'), JSON.stringify({ ...acme, sandbox: { image } }));
    const custom = synth(dir, 'acme').get('Agents')!;
    const fn = resourcesOf(custom, 'AWS::Lambda::Function').find(([, f]) => f.Properties!.PackageType === 'Image')!;
    const uri = ref((fn[1].Properties!.Code as Record<string, unknown>).ImageUri);
    expect(uri).toContain('acme/ci-sandbox');
    expect(uri).toContain('2026-12-01');
    expect(uri).not.toContain('container-assets');
  });

  it('must be an ECR image URI, or synth fails naming the field', () => {
    const dir = tempOutdir('customers');
    const acme = JSON.parse(fs.readFileSync(path.join(CUSTOMERS_DIR, 'acme.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, 'acme.json'), JSON.stringify({ ...acme, sandbox: { image: 'docker.io/library/node:22' } }));
    expect(() => synth(dir, 'acme')).toThrow(/sandbox\.image: must be an ECR image URI/);
  });
});
