// Proves the cdk-nag wiring can fail: the same registration the app uses reports a non-compliant
// resource in the validation report, and synth refuses to complete.
import { App, Stack } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { afterAll, expect, it } from 'vitest';
import { addNagChecks } from '../../infra/nag';
import { readValidationReport, removeTempDirs, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

function appWithPlainQueue(context: Record<string, unknown>, outdir: string): App {
  // CloudFormation schema validation is beside the point here and costs seconds to load.
  const app = new App({ outdir, context, builtinCloudFormationValidation: false });
  addNagChecks(app);
  new Queue(new Stack(app, 'Careless'), 'PlainQueue', { encryption: QueueEncryption.UNENCRYPTED });
  return app;
}

it('reports an unencrypted, HTTP-accepting queue without a DLQ as findings of both packs', () => {
  const outdir = tempOutdir('nag-fails');
  appWithPlainQueue(testContext(), outdir).synth();

  const findings = readValidationReport(outdir).flatMap((plugin) =>
    plugin.violations.map((violation) => ({
      plugin: plugin.pluginName,
      rule: violation.ruleName,
      paths: violation.violatingConstructs.map((construct) => construct.constructPath),
    })),
  );
  expect(findings).toEqual(
    expect.arrayContaining([
      { plugin: 'AwsSolutions', rule: 'AwsSolutions-SQS2', paths: ['Careless/PlainQueue/Resource'] },
      { plugin: 'AwsSolutions', rule: 'AwsSolutions-SQS3', paths: ['Careless/PlainQueue/Resource'] },
      { plugin: 'AwsSolutions', rule: 'AwsSolutions-SQS4', paths: ['Careless/PlainQueue/Resource'] },
      { plugin: 'Serverless', rule: 'Serverless-SQSRedrivePolicy', paths: ['Careless/PlainQueue/Resource'] },
    ]),
  );
});

it('fails synth on an unacknowledged finding, as `npm run synth` does', () => {
  const { '@aws-cdk/core:failSynthOnValidationErrors': _reportOnly, ...context } = testContext();
  expect(() => appWithPlainQueue(context, tempOutdir('nag-throws')).synth()).toThrow(/A copy of this report can be found in/);
});
