// The customer file's own settings reach the functions that use them.
import fs from 'node:fs';
import path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { CUSTOMERS_DIR } from '../../infra/paths';
import { readRuntimeConfig } from '../../lib/runtime';
import { acknowledgementsIn, readValidationReport, removeTempDirs, stackTemplates, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

function withChange(change: (config: Record<string, unknown>) => void): string {
  const dir = tempOutdir('customers');
  const example = JSON.parse(fs.readFileSync(path.join(CUSTOMERS_DIR, 'example.json'), 'utf8')) as Record<string, unknown>;
  change(example);
  fs.writeFileSync(path.join(dir, 'example.json'), JSON.stringify(example));
  return dir;
}

it("hands the customer file's prices to every agent worker, where the runtime reads them", () => {
  const prices = { 'bedrock:eu.amazon.nova-lite-v1:0': { input: 0.07, output: 0.28 } };
  const customersDir = withChange((config) => (config.prices = prices));
  const { app, cells } = buildApp({ outdir: tempOutdir('prices'), context: testContext(), customersDir, customerIds: ['example'] });
  app.synth();
  const agents = stackTemplates([cells[0]!.agents])[0]!.json;
  const workers = Object.values(agents.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties!.Environment).includes('AGENT_ROLE'));
  expect(workers).toHaveLength(5);
  for (const worker of workers) {
    const variables = (worker.Properties!.Environment as { Variables: Record<string, string> }).Variables;
    expect(readRuntimeConfig({ CAHOOTS_PRICES: variables.CAHOOTS_PRICES }).prices).toEqual(prices);
  }
});

it('refuses prices that are not a price table, naming the field', () => {
  const customersDir = withChange((config) => (config.prices = { 'bedrock:x': { input: 'cheap' } }));
  expect(() => buildApp({ outdir: tempOutdir('prices'), context: testContext(), customersDir, customerIds: ['example'] })).toThrow(/prices\.bedrock:x\.input/);
});

it("hands the customer file's project defaults to the create-project function alone, where the runtime reads them", () => {
  const projectDefaults = { autonomyLevel: 3, budgets: { perGoalUsd: 7 }, modelPolicy: { planner: ['bedrock:eu.amazon.nova-lite-v1:0'], developer: ['bedrock:eu.amazon.nova-lite-v1:0'], ux: ['bedrock:eu.amazon.nova-lite-v1:0'], qa: ['bedrock:eu.amazon.nova-lite-v1:0'], reviewer: ['bedrock:eu.amazon.nova-lite-v1:0'] } };
  const customersDir = withChange((config) => (config.projectDefaults = projectDefaults));
  const { app, cells } = buildApp({ outdir: tempOutdir('defaults'), context: testContext(), customersDir, customerIds: ['example'] });
  app.synth();
  const api = stackTemplates([cells[0]!.api])[0]!.json;
  const functions = Object.values(api.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const withDefaults = functions.filter((f) => JSON.stringify(f.Properties!.Environment ?? {}).includes('CAHOOTS_PROJECT_DEFAULTS'));
  expect(withDefaults.map((f) => f.Properties!.Description)).toEqual(['POST /projects']);
  const variables = (withDefaults[0]!.Properties!.Environment as { Variables: Record<string, string> }).Variables;
  expect(readRuntimeConfig({ CAHOOTS_PROJECT_DEFAULTS: variables.CAHOOTS_PROJECT_DEFAULTS }).projectDefaults).toEqual(projectDefaults);
});

const WEB_ACL = 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/cahoots-api/0f2a7c9e-1b3d-4e5f-8a6b-7c8d9e0f1a2b';

it("associates the customer file's web ACL with the API stage, and the WAF finding is met instead of acknowledged", () => {
  const outdir = tempOutdir('web-acl');
  const customersDir = withChange((config) => (config.webAclArn = WEB_ACL));
  const { app, cells } = buildApp({ outdir, context: testContext(), customersDir, customerIds: ['example'] });
  app.synth();
  const apiStack = cells[0]!.api;
  const template = Template.fromStack(apiStack);
  template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  const stageLogicalId = apiStack.getLogicalId(apiStack.api.api.deploymentStage.node.defaultChild as never);
  // The stage's ARN is built from the API id and the stage's name (a Ref to the stage).
  template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
    WebACLArn: WEB_ACL,
    ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: stageLogicalId }])] },
  });
  expect(acknowledgementsIn(apiStack).map((a) => a.id)).not.toContain('AwsSolutions::AwsSolutions-APIG3');
  const findings = readValidationReport(outdir).flatMap((plugin) =>
    plugin.violations
      .filter((violation) => violation.violatingConstructs.some((construct) => construct.constructPath.startsWith(`${apiStack.node.path}/`)))
      .map((violation) => `${plugin.pluginName} ${violation.ruleName}`),
  );
  expect(findings).toEqual([]);
});

it('associates no web ACL when the customer file names none', () => {
  const { app, cells } = buildApp({ outdir: tempOutdir('no-web-acl'), context: testContext(), customersDir: withChange(() => {}), customerIds: ['example'] });
  app.synth();
  Template.fromStack(cells[0]!.api).resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
});

it('refuses a web ACL that is not a regional WAFv2 ARN of the cell’s account and region, naming the field', () => {
  const build = (webAclArn: string) => () =>
    buildApp({ outdir: tempOutdir('bad-web-acl'), context: testContext(), customersDir: withChange((config) => (config.webAclArn = webAclArn)), customerIds: ['example'] });
  expect(build('arn:aws:wafv2:eu-west-1:123456789012:global/webacl/cahoots-api/0f2a7c9e')).toThrow(/webAclArn.*regional WAFv2 web ACL ARN/);
  expect(build(WEB_ACL.replace('eu-west-1', 'us-east-1'))).toThrow(/webAclArn.*account 123456789012 and region eu-west-1/);
  expect(build(WEB_ACL.replace('123456789012', '210987654321'))).toThrow(/webAclArn.*account 123456789012 and region eu-west-1/);
});

it("gives the agent workers and RunDetector (the analyst) alone the customer file's OpenAI-compatible key secret, by name, and nothing else of the cell's prefix", () => {
  const customersDir = withChange((config) => (config.openAiApiKeySecret = 'openai/api-key'));
  const { app, cells } = buildApp({ outdir: tempOutdir('openai-key'), context: testContext(), customersDir, customerIds: ['example'] });
  app.synth();
  const templates = stackTemplates(cells.flatMap((cell) => [cell.agents, cell.api, cell.pipeline]));
  const readers: string[] = [];
  for (const { json } of templates) {
    for (const resource of Object.values(json.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const text = JSON.stringify(resource.Properties);
      if (text.includes('secret:cahoots/example/openai/api-key-??????')) readers.push(text);
    }
  }
  // Five workers and RunDetector.
  expect(readers).toHaveLength(6);
  for (const policy of readers) expect(policy).toContain('secretsmanager:GetSecretValue');
  const pipeline = templates[2]!.json;
  const runDetector = Object.values(pipeline.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties!.Environment).includes('"POWERTOOLS_SERVICE_NAME":"cahoots-example-detection-run-detector"'),
  )!;
  expect((runDetector.Properties!.Environment as { Variables: Record<string, string> }).Variables.CAHOOTS_OPENAI_API_KEY_SECRET).toBe('openai/api-key');
  const agents = templates[0]!.json;
  const workers = Object.values(agents.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties!.Environment).includes('AGENT_ROLE'));
  for (const worker of workers) {
    const variables = (worker.Properties!.Environment as { Variables: Record<string, string> }).Variables;
    expect(readRuntimeConfig({ CAHOOTS_OPENAI_API_KEY_SECRET: variables.CAHOOTS_OPENAI_API_KEY_SECRET }).openAiApiKeySecret).toBe('openai/api-key');
    expect(JSON.stringify(variables)).not.toMatch(/OPENAI_API_KEY"/);
  }
});

it('refuses a key secret name that Secrets Manager paths cannot hold, naming the field', () => {
  const customersDir = withChange((config) => (config.openAiApiKeySecret = '/openai//key'));
  expect(() => buildApp({ outdir: tempOutdir('openai-key'), context: testContext(), customersDir, customerIds: ['example'] })).toThrow(/openAiApiKeySecret/);
});
