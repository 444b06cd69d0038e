// The cell's secrets namespace in Secrets Manager: `cahoots/<customerId>/<name>`. The customer (or
// an operator) creates the secrets; agent Lambdas may read those under the cell's prefix, nothing else.
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';

/** SECRETS_PREFIX of the cell's functions; lib/ports/aws/secrets.ts prepends it to every name. */
export function cellSecretsPrefix(customerId: string): string {
  return `cahoots/${customerId}/`;
}

export interface CellSecretsAccess {
  readonly customerId: string;
  /** The customer key: secrets of the cell are expected to be encrypted with it. */
  readonly encryptionKey: IKey;
}

/**
 * GetSecretValue on every secret under the cell's prefix. Secret ARNs end in a random suffix that
 * is only known once a secret exists, so the prefix must end in `*`; the IAM5 finding this raises
 * is acknowledged on `role`, naming the exact ARN.
 */
export function grantCellSecretsRead(grantee: IGrantable, role: IConstruct, { customerId, encryptionKey }: CellSecretsAccess): Grant {
  const stack = Stack.of(role);
  const secrets = stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${cellSecretsPrefix(customerId)}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const read = Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [secrets] });
  // Secrets Manager decrypts with the customer key on the caller's behalf; only through it.
  const key = Grant.addToPrincipal({
    grantee,
    actions: ['kms:Decrypt'],
    resourceArns: [encryptionKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
  });
  Validations.of(role).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::${secrets}]`,
    reason: `Secrets of this cell are named ${cellSecretsPrefix(customerId)}<name> and created after deploy; Secrets Manager appends a random suffix to each ARN, so the cell prefix followed by * is the narrowest ARN that names them. Other cells and other secrets of the account stay out of reach.`,
  });
  return read.combine(key);
}
