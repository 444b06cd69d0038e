// Every handler in functions/ bundled once with the deployed esbuild settings
// (infra/lambda-bundling.ts); esbuild's metafile says which modules each bundle holds. A bundle
// that pulls in a module its function must not carry, or outgrows its size budget, fails here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHandlerBundles, handlerEntryPoints, type HandlerBundle } from '../../infra/lambda-bundling';

const KB = 1024;

/** Packages no deployed function may carry: the local emulators, CDK and test tooling. */
const NEVER_BUNDLED = ['dynalite', 'aws-local-stepfunctions', 'aws-cdk-lib', 'constructs', 'cdk-nag', 'vitest', 'aws-sdk-client-mock'];

/**
 * The functions that work on repositories, and so carry isomorphic-git and Octokit: they declare
 * the repository host (lib/ports/aws/repository-host.ts). Any other function holding either has
 * picked git up through an import it should not have.
 */
const REPOSITORY_FUNCTIONS = [
  'agents/agent-worker',
  'api/create-project',
  'api/update-project',
  'api/github-webhook',
  'pipeline/assess-goal',
  'pipeline/deliver',
  'detection/prepare-detection',
  'detection/run-detector',
  'detection/record-detection',
];

/**
 * Size budgets in bytes of JavaScript, a little above what each kind of function measures today
 * (docs/deploy.md has the figures), so growth is a decision rather than an accident. The agent
 * worker runs the whole agent loop; a function with the repository host carries git and the
 * GitHub client (~450 KB on their own); every other function answers from the table with at most
 * one or two AWS clients. The goals are lower (500 KB and 1.2 MB); docs/deploy.md says what is left.
 */
function budgetOf(name: string): number {
  if (name.startsWith('agents/')) return 1_750 * KB;
  // RunDetector carries the repository host (the issue detector) and five AWS clients: S3 for the
  // findings, Lambda for the sandbox, Secrets Manager for the GitHub token, CloudWatch for alarms,
  // Bedrock Runtime and the model gateway for the analyst's model calls (1551 → 1648 KB).
  if (name === 'detection/run-detector') return 1_700 * KB;
  // DetectWork's steps hand detector results through the artifact store (S3) and run detectors
  // in the sandbox (Lambda), besides the table and the bus.
  if (name.startsWith('detection/')) return REPOSITORY_FUNCTIONS.includes(name) ? 1_350 * KB : 1_100 * KB;
  if (REPOSITORY_FUNCTIONS.includes(name)) return 1_250 * KB;
  return 760 * KB;
}

const packageOf = (input: string): string | undefined => input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];

let outdir: string;
let bundles: HandlerBundle[];

beforeAll(async () => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cahoots-function-bundles-'));
  bundles = await buildHandlerBundles(outdir, { sourceMaps: false });
}, 300_000);

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

describe('function bundles', () => {
  it('bundles every handler in functions/', () => {
    expect(bundles.map((bundle) => bundle.name)).toEqual(
      handlerEntryPoints().map((entry) => path.relative('functions', path.relative(process.cwd(), entry)).replace(/\.ts$/, '')),
    );
    expect(bundles.length).toBeGreaterThan(20);
  });

  it('never carries the local emulators, CDK or test tooling', () => {
    const offending = bundles.flatMap((bundle) =>
      bundle.inputs.filter((input) => NEVER_BUNDLED.includes(packageOf(input) ?? '') || /^lib\/local\//.test(input)).map((input) => `${bundle.name}: ${input}`),
    );
    expect(offending).toEqual([]);
  });

  it('carries isomorphic-git and Octokit only where the function works on repositories', () => {
    const withGit = bundles
      .filter((bundle) => bundle.inputs.some((input) => /^(isomorphic-git|@octokit\/(?!webhooks-methods))/.test(packageOf(input) ?? '')))
      .map((bundle) => bundle.name);
    expect(withGit.sort()).toEqual([...REPOSITORY_FUNCTIONS].sort());
    // Those are exactly the functions that declare the repository host.
    const declaring = bundles.filter((bundle) => bundle.inputs.includes('lib/ports/aws/repository-host.ts')).map((bundle) => bundle.name);
    expect(declaring.sort()).toEqual([...REPOSITORY_FUNCTIONS].sort());
  });

  it('carries an AWS service client only where the function declares the port that uses it', () => {
    const clientsOf = (bundle: HandlerBundle) => new Set(bundle.inputs.map(packageOf).filter((name) => name?.startsWith('@aws-sdk/client-')));
    const byName = new Map(bundles.map((bundle) => [bundle.name, clientsOf(bundle)]));
    // A route answering from the table holds the DynamoDB client and nothing else.
    expect([...byName.get('api/get-goal')!]).toEqual(['@aws-sdk/client-dynamodb']);
    expect([...byName.get('api/create-goal')!].sort()).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-sfn']);
    expect([...byName.get('pipeline/select-ready-tasks')!].sort()).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge']);
    // Only the agent worker and the detection step that runs a detector (the analyst) call models.
    // Both store artifacts (S3) and invoke the sandbox (Lambda); preparing a detection only needs its mount.
    const withClient = (client: string) => [...byName].filter(([, clients]) => clients.has(client)).map(([name]) => name).sort();
    expect(withClient('@aws-sdk/client-bedrock-runtime')).toEqual(['agents/agent-worker', 'detection/run-detector']);
    expect(withClient('@aws-sdk/client-lambda')).toEqual(['agents/agent-worker', 'detection/prepare-detection', 'detection/run-detector']);
    expect(withClient('@aws-sdk/client-s3')).toEqual(['agents/agent-worker', 'detection/merge-findings', 'detection/run-detector']);
    // The alarm detector reads the customer's CloudWatch alarms; nothing else does.
    expect(withClient('@aws-sdk/client-cloudwatch')).toEqual(['detection/run-detector']);
  });

  it('keeps each bundle within its size budget', () => {
    const over = bundles
      .filter((bundle) => bundle.bytes > budgetOf(bundle.name))
      .map((bundle) => `${bundle.name}: ${Math.round(bundle.bytes / KB)} KB > ${budgetOf(bundle.name) / KB} KB`);
    expect(over).toEqual([]);
  });
});
