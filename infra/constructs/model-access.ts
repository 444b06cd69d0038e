// Which Bedrock models an agent Lambda may invoke: the ones the customer file names when it names
// any, otherwise every foundation model and inference profile the cell's region offers.
import { Stack, Token, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** Actions the model gateway needs: it calls Converse only, which IAM authorizes as bedrock:InvokeModel. */
export const MODEL_INVOCATION_ACTIONS = ['bedrock:InvokeModel'] as const;

/**
 * Geography prefixes of system-defined cross-region inference profiles (`us.anthropic.…`). Such a
 * profile lives in the cell's region but routes each request to a foundation model in any region of
 * its geography, and IAM checks both.
 */
const INFERENCE_PROFILE_GEOGRAPHIES = new Set(['us', 'us-gov', 'eu', 'apac', 'jp', 'au', 'ca', 'global']);

export interface ModelResources {
  readonly resources: string[];
  /** True when the resources are the whole-region wildcard rather than named models. */
  readonly wildcard: boolean;
}

/**
 * The ARNs to allow for `specs` (model specs as in the customer file: `bedrock:<modelId>`, others
 * ignored). A spec whose models cannot be named — an application inference profile, a provisioned
 * or imported model — makes the whole grant fall back to the wildcard rather than fail at run time.
 */
export function bedrockModelResources(scope: IConstruct, specs: readonly string[]): ModelResources {
  const stack = Stack.of(scope);
  const { partition, region, account } = stack;
  // The ARNs double as nag acknowledgement ids, which must be literal text.
  if ([partition, region, account].some((part) => Token.isUnresolved(part))) {
    throw new Error(`${stack.node.path}: Bedrock model ARNs need a stack with a concrete account and region (and partition literals)`);
  }
  const foundationModel = (modelRegion: string, id: string) => `arn:${partition}:bedrock:${modelRegion}::foundation-model/${id}`;
  const inferenceProfile = (id: string) => `arn:${partition}:bedrock:${region}:${account}:inference-profile/${id}`;
  const wildcard: ModelResources = {
    // foundation-model in any region covers the cell's own region as well as cross-region routing.
    resources: [inferenceProfile('*'), foundationModel('*', '*')],
    wildcard: true,
  };

  const modelIds = [...new Set(specs.filter((spec) => spec.startsWith('bedrock:')).map((spec) => spec.slice('bedrock:'.length)))];
  if (modelIds.length === 0) return wildcard;

  const resources = new Set<string>();
  for (const modelId of modelIds) {
    const arn = /^arn:[a-z-]+:bedrock:([a-z0-9-]*):(\d{12})?:([a-z-]+)\/(.+)$/.exec(modelId);
    const [resourceType, id] = arn ? [arn[3]!, arn[4]!] : [undefined, modelId];
    if (arn && resourceType !== 'foundation-model' && resourceType !== 'inference-profile') return wildcard;
    if (arn) resources.add(modelId);

    const geography = id.split('.')[0]!;
    const systemProfile = INFERENCE_PROFILE_GEOGRAPHIES.has(geography);
    if (resourceType === 'inference-profile' && !systemProfile) return wildcard;
    if (systemProfile) {
      if (!arn) resources.add(inferenceProfile(id));
      resources.add(foundationModel('*', id.slice(geography.length + 1)));
    } else if (!arn) {
      resources.add(foundationModel(region, id));
    }
  }
  return { resources: [...resources].sort(), wildcard: false };
}

/**
 * Grants model invocation on `resources` and acknowledges, on `role`, the IAM5 finding each
 * wildcard ARN raises — so a new model in the customer file is acknowledged by the same rule.
 */
export function grantModelInvocation(grantee: IGrantable, role: IConstruct, { resources, wildcard }: ModelResources): Grant {
  const grant = Grant.addToPrincipal({ grantee, actions: [...MODEL_INVOCATION_ACTIONS], resourceArns: resources });
  for (const resource of resources.filter((arn) => arn.includes('*'))) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
      reason: wildcard
        ? 'The customer file names no Bedrock model, so agents may use any foundation model or inference profile of the cell: projects choose their models at run time. Cross-region inference profiles route to foundation models in other regions, which IAM also checks, hence the region wildcard on foundation-model.'
        : 'A cross-region inference profile named in the customer file routes each request to this foundation model in whichever region of its geography has capacity, and IAM checks the foundation model in that region too; the model is named, only its region is open.',
    });
  }
  return grant;
}
