// Shared plumbing for the infra tests: the CLI's context from cdk.json, synthesis into a temp dir,
// the CDK validation report, and following a KMS key reference across a cell's templates.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { VALIDATION_REPORT_FILE } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { REPO_ROOT } from '../../infra/paths';

/** The context the CLI passes to the app, so tests synthesize what `cdk synth` synthesizes. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

/**
 * cdk.json context, plus: no asset bundling (only the bundling test bundles), and validation
 * findings written to the report instead of thrown, so tests can assert on the report itself.
 */
export function testContext(options: { bundling?: boolean } = {}): Record<string, unknown> {
  return {
    ...cdkJsonContext(),
    ...(options.bundling ? {} : { 'aws:cdk:bundling-stacks': [] }),
    '@aws-cdk/core:failSynthOnValidationErrors': false,
  };
}

const createdDirs: string[] = [];

export function tempOutdir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cahoots-${prefix}-`));
  createdDirs.push(dir);
  return dir;
}

/** Call from afterAll: cloud assemblies with bundled assets add up on a CI disk. */
export function removeTempDirs(): void {
  for (const dir of createdDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export interface ReportedViolation {
  readonly ruleName: string;
  readonly severity?: string;
  readonly violatingConstructs: { readonly constructPath: string }[];
  readonly acknowledgedId?: string;
  readonly acknowledgedAt?: string;
  readonly reason?: string;
}

export interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: 'success' | 'failure';
  readonly violations: ReportedViolation[];
  readonly suppressedViolations?: ReportedViolation[];
}

/** The CDK's policy validation report in the cloud assembly (cdk-nag findings land here). */
export function readValidationReport(outdir: string): PluginReport[] {
  const report = JSON.parse(fs.readFileSync(path.join(outdir, VALIDATION_REPORT_FILE), 'utf8')) as {
    pluginReports: PluginReport[];
  };
  return report.pluginReports;
}

/** Every `Validations.of(x).acknowledge(...)` in the tree, as (construct path, acknowledged id). */
export function acknowledgementsIn(root: IConstruct): { path: string; id: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
      .map((id) => ({ path: construct.node.path, id })),
  );
}

export interface StackTemplate {
  readonly stackName: string;
  readonly template: Template;
  readonly json: CfnTemplate;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

export function stackTemplates(stacks: readonly Stack[]): StackTemplate[] {
  return stacks.map((stack) => {
    const template = Template.fromStack(stack);
    return { stackName: stack.stackName, template, json: template.toJSON() as CfnTemplate };
  });
}

export interface ResourceReference {
  readonly stackName: string;
  readonly logicalId: string;
}

/**
 * Follows a CloudFormation value to the resource it names: Ref/GetAtt in the same template, or a
 * cross-stack reference (Fn::GetStackOutput or Fn::ImportValue) into whichever synthesized stack
 * publishes it — including another cell's, which is exactly what the isolation tests must catch.
 */
export function resolveResource(
  value: unknown,
  stackName: string,
  allTemplates: ReadonlyMap<string, CfnTemplate>,
): ResourceReference | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const intrinsic = value as Record<string, unknown>;
  if (typeof intrinsic.Ref === 'string') return { stackName, logicalId: intrinsic.Ref };
  if (Array.isArray(intrinsic['Fn::GetAtt'])) return { stackName, logicalId: String(intrinsic['Fn::GetAtt'][0]) };
  const stackOutput = intrinsic['Fn::GetStackOutput'] as { StackName: string; OutputName: string } | undefined;
  if (stackOutput) {
    const output = allTemplates.get(stackOutput.StackName)?.Outputs?.[stackOutput.OutputName];
    return output ? resolveResource(output.Value, stackOutput.StackName, allTemplates) : undefined;
  }
  const importName = intrinsic['Fn::ImportValue'];
  if (importName !== undefined) {
    for (const [exporter, template] of allTemplates) {
      for (const output of Object.values(template.Outputs ?? {})) {
        if (JSON.stringify(output.Export?.Name) === JSON.stringify(importName)) {
          return resolveResource(output.Value, exporter, allTemplates);
        }
      }
    }
  }
  return undefined;
}

/** Where each encryptable resource type names its KMS key. */
const KEY_PROPERTY: Record<string, (properties: Record<string, any>) => unknown> = {
  'AWS::DynamoDB::Table': (p) => p.SSESpecification?.KMSMasterKeyId,
  'AWS::SQS::Queue': (p) => p.KmsMasterKeyId,
  'AWS::Events::EventBus': (p) => p.KmsKeyIdentifier,
  'AWS::Events::Archive': (p) => p.KmsKeyIdentifier,
  'AWS::S3::Bucket': (p) => p.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.KMSMasterKeyID,
  'AWS::Logs::LogGroup': (p) => p.KmsKeyId,
  'AWS::SNS::Topic': (p) => p.KmsMasterKeyId,
  'AWS::StepFunctions::StateMachine': (p) => p.EncryptionConfiguration?.KmsKeyId,
  'AWS::EFS::FileSystem': (p) => p.KmsKeyId,
  'AWS::SecretsManager::Secret': (p) => p.KmsKeyId,
};
export const ENCRYPTABLE_TYPES = Object.keys(KEY_PROPERTY);

export interface EncryptedResource {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly key: ResourceReference | undefined;
}

/** Every encryptable resource in `templates`, with the key it resolves to (undefined: no CMK). */
export function encryptedResources(
  templates: readonly StackTemplate[],
  allTemplates: ReadonlyMap<string, CfnTemplate>,
): EncryptedResource[] {
  return templates.flatMap(({ stackName, json }) =>
    Object.entries(json.Resources)
      .filter(([, resource]) => resource.Type in KEY_PROPERTY)
      .map(([logicalId, resource]) => ({
        stackName,
        logicalId,
        type: resource.Type,
        key: resolveResource(KEY_PROPERTY[resource.Type]!(resource.Properties ?? {}), stackName, allTemplates),
      })),
  );
}

/** All a sandbox or setup function's role may do: its logs, its network interfaces, the workspace mount. */
export const SANDBOX_ROLE_ACTIONS = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
  'elasticfilesystem:ClientMount',
  'elasticfilesystem:ClientWrite',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
].sort();
