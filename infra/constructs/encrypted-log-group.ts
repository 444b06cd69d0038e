// The one way cell log groups are made: encrypted with the customer key and with a retention,
// so no log group can be added that keeps customer data forever or in the clear.
import { RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Long enough to investigate last month's incident, short enough not to hoard prompts and code. */
export const DEFAULT_LOG_RETENTION = RetentionDays.ONE_MONTH;

export interface EncryptedLogGroupProps {
  readonly encryptionKey: IKey;
  readonly retention?: RetentionDays;
}

export function createEncryptedLogGroup(scope: Construct, id: string, props: EncryptedLogGroupProps): LogGroup {
  return new LogGroup(scope, id, {
    encryptionKey: props.encryptionKey,
    retention: props.retention ?? DEFAULT_LOG_RETENTION,
    // Logs are evidence: they outlive a stack that is torn down and expire by retention instead.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
