// cdk-nag 3 rule packs, registered as CDK validation plugins: they run on every synth and a finding
// without an acknowledgement fails it. Acknowledgements live next to the construct they concern.
//
// Acknowledgement ids take CDK's namespaced form, `<Pack>::<finding>` — e.g.
// `AwsSolutions::AwsSolutions-IAM5[Resource::*]` — rather than the bare finding id. With the bare id
// cdk-nag drops the finding silently; with the namespaced one the CDK suppresses it and writes it,
// with its reason and where it was acknowledged, to `suppressedViolations` in
// cdk.out/validation-report.json: an audit trail of every accepted finding.
import { type App, type Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

export const NAG_PACK_NAMES = ['AwsSolutions', 'Serverless'] as const;

export function addNagChecks(app: App): void {
  // Each pack walks the whole app, so registering at the app covers every cell exactly once.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new ServerlessChecks(app, { verbose: true }));
}

/**
 * How cdk-nag writes a resource in a finding id: the resolved ARN, with CloudFormation functions
 * (pseudo parameters, imports) as their JSON. Acknowledgements of `IAM5[Resource::…]` use it.
 */
export function nagResourceText(stack: Stack, value: string): string {
  const resolved: unknown = stack.resolve(value);
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(join[0]);
  return JSON.stringify(resolved);
}
