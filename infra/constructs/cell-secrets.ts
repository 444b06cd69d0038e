// The cell's secrets in Secrets Manager, named `cahoots/<customerId>/<name>` after SECRET_NAMES:
// the git host credentials, which the customer creates after deploy (a GitHub App, a token), and
// the GitHub webhook secret, generated here under the cell key for the customer to copy into
// GitHub. Functions are granted the secrets of a purpose by name, never the cell's whole prefix.
import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { GITHUB_WEBHOOK_SECRET, SECRET_NAMES, type SecretPurpose } from '../../lib/runtime-env';

export { SECRET_NAMES, type SecretPurpose };

/** SECRETS_PREFIX of the cell's functions; lib/ports/aws/secrets.ts prepends it to every name. */
export function cellSecretsPrefix(customerId: string): string {
  return `cahoots/${customerId}/`;
}

/** The secrets of each purpose, as references a function can be granted. */
export type CellSecretReferences = Readonly<Record<SecretPurpose, readonly ISecret[]>>;

export interface CellSecretsProps {
  readonly customerId: string;
  readonly encryptionKey: IKey;
}

export class CellSecrets extends Construct {
  /** Generated at deploy; the customer copies its value into the repository's webhook settings. */
  readonly githubWebhookSecret: Secret;
  private readonly customerId: string;

  constructor(scope: Construct, id: string, props: CellSecretsProps) {
    super(scope, id);
    this.customerId = props.customerId;
    this.githubWebhookSecret = new Secret(this, 'GitHubWebhookSecret', {
      secretName: `${cellSecretsPrefix(props.customerId)}${GITHUB_WEBHOOK_SECRET}`,
      description: `Cahoots ${props.customerId}: the secret GitHub signs webhook deliveries with; copy it into the repository's webhook settings.`,
      encryptionKey: props.encryptionKey,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      // Kept when the stack goes: GitHub still holds the value, and a redeploy would otherwise
      // generate a new one that every configured webhook fails against.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.githubWebhookSecret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'The webhook secret is shared with GitHub, which offers no way for a rotation function to change both sides at once; it is rotated by hand (docs/deploy.md). It only authenticates deliveries and grants no access to anything.',
    });
  }

  /**
   * The cell's secrets as references for another stack of the cell. The credential secrets are
   * named, not created: the customer creates the ones they use (docs/deploy.md), and a grant on a
   * name covers the secret whenever it appears.
   */
  importInto(scope: Construct, encryptionKey: IKey): CellSecretReferences {
    const references = new Construct(scope, 'CellSecrets');
    const byName = (name: string) => cellSecretReference(references, this.customerId, name, encryptionKey);
    return {
      gitHostCredentials: SECRET_NAMES.gitHostCredentials.map(byName),
      githubWebhookSecret: SECRET_NAMES.githubWebhookSecret.map(byName),
    };
  }
}

/**
 * The cell secret `cahoots/<customerId>/<name>` as a reference, whether or not it exists yet. A
 * partial ARN: CDK grants on `<name>-??????`, the random suffix Secrets Manager adds, so a grant
 * names exactly this secret and no other sharing its prefix.
 */
export function cellSecretReference(scope: Construct, customerId: string, name: string, encryptionKey: IKey): ISecret {
  return Secret.fromSecretAttributes(scope, name.replace(/[^A-Za-z0-9]/g, '-'), {
    secretPartialArn: Stack.of(scope).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${cellSecretsPrefix(customerId)}${name}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    encryptionKey,
  });
}

/** GetSecretValue on the secrets of these purposes only, and Decrypt with the cell key through Secrets Manager. */
export function grantSecretsRead(grantee: IGrantable, secrets: CellSecretReferences, purposes: readonly SecretPurpose[]): Grant[] {
  return purposes.flatMap((purpose) => secrets[purpose].map((secret) => secret.grantRead(grantee)));
}
