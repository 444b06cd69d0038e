// The one test that really bundles: AgentFunction's esbuild settings produce an ESM bundle that
// Node 22 can load and run, built with the local esbuild (no Docker on CI or developer machines).
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
  const fn = new AgentFunction(stack, 'Fixture', {
    entry: 'bundling-handler.ts',
    sourceRoot: path.join(import.meta.dirname, 'fixtures'),
    serviceName: 'bundling-fixture',
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
}, 120_000);

it('emits index.mjs with the createRequire banner first, plus its source map', () => {
  expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
  expect(fs.existsSync(path.join(bundleDir, 'index.mjs.map'))).toBe(true);
  expect(fs.readdirSync(bundleDir).filter((file) => file.endsWith('.js') || file.endsWith('.cjs'))).toEqual([]);
});

it('is a self-contained ESM bundle that loads and handles an invocation', async () => {
  // Minified ESM exports the handler with an export clause; CommonJS would assign module.exports.
  expect(bundle).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}/);
  expect(bundle).not.toMatch(/from\s*["']@middy\/core["']/);

  process.env.POWERTOOLS_SERVICE_NAME = 'bundling-fixture';
  const module = (await import(pathToFileURL(path.join(bundleDir, 'index.mjs')).href)) as {
    handler: (event: unknown, context: unknown) => Promise<{ greeting: string; service: string }>;
  };
  const context = {
    functionName: 'fixture',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fixture',
    memoryLimitInMB: '256',
    awsRequestId: 'request-1',
    logGroupName: '/aws/lambda/fixture',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 10_000,
  };
  const result = await module.handler({ name: 'cahoots' }, context);
  expect(result).toEqual({ greeting: 'hello cahoots', service: 'bundling-fixture' });
});
