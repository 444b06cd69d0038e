// The one test that really bundles: AgentFunction's esbuild settings turn a real pipeline handler
// (functions/pipeline/select-ready-tasks.ts, with middy, Powertools, zod and the AWS SDK) into an
// ESM bundle Node 22 can load and run, built with the local esbuild (no Docker on CI or laptops).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AgentFunction, ESM_REQUIRE_BANNER } from '../../infra/constructs/agent-function';
import { removeTempDirs, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

let bundle: string;
let bundleDir: string;

beforeAll(() => {
  const outdir = tempOutdir('bundling');
  const app = new App({ outdir, context: testContext({ bundling: true }) });
  const stack = new Stack(app, 'Bundling');
  const vpc = new Vpc(stack, 'Vpc', {
    natGateways: 0,
    maxAzs: 1,
    subnetConfiguration: [{ name: 'application', subnetType: SubnetType.PRIVATE_ISOLATED }],
  });
  const fn = new AgentFunction(stack, 'SelectReadyTasks', {
    entry: 'pipeline/select-ready-tasks.ts',
    serviceName: 'bundling-select-ready-tasks',
    encryptionKey: new Key(stack, 'Key'),
    placement: { vpc, vpcSubnets: { subnetGroupName: 'application' }, securityGroups: [] },
    timeout: Duration.seconds(10),
    memorySize: 256,
  });
  app.synth();

  // The function's code points at the staged asset by hash.
  const code = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.function.node.defaultChild as never)].Properties.Code;
  const hash = String(code.S3Key).replace(/\.zip$/, '');
  bundleDir = path.join(outdir, `asset.${hash}`);
  bundle = fs.readFileSync(path.join(bundleDir, 'index.mjs'), 'utf8');
});

it('emits index.mjs with the createRequire banner first, plus its source map', () => {
  expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
  expect(fs.existsSync(path.join(bundleDir, 'index.mjs.map'))).toBe(true);
  expect(fs.readdirSync(bundleDir).filter((file) => file.endsWith('.js') || file.endsWith('.cjs'))).toEqual([]);
});

it('is a self-contained ESM bundle that loads, and its handler answers bad input with the named step error', async () => {
  // Minified ESM exports the handler with an export clause; CommonJS would assign module.exports.
  expect(bundle).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}/);
  // Dependencies are inside the bundle, not imported from node_modules at run time.
  expect(bundle).not.toMatch(/from\s*["'](@middy\/core|zod|@aws-lambda-powertools\/[a-z]+|@aws-sdk\/[a-z-]+)["']/);

  process.env.POWERTOOLS_SERVICE_NAME = 'bundling-select-ready-tasks';
  const module = (await import(pathToFileURL(path.join(bundleDir, 'index.mjs')).href)) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  };
  const context = {
    functionName: 'select-ready-tasks',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:select-ready-tasks',
    memoryLimitInMB: '512',
    awsRequestId: 'request-1',
    logGroupName: '/aws/lambda/select-ready-tasks',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 10_000,
  };
  // Input is parsed before the runtime (and so any AWS client) is touched: no AWS needed here.
  // Step Functions matches Retry/Catch on the error's name, so the name is the contract.
  await expect(module.handler({ goalId: 42 }, context)).rejects.toMatchObject({
    name: 'Pipeline.InvalidInput',
    message: expect.stringContaining('SelectReadyTasks received invalid input'),
  });
});
