// The cell's stateful stack: the customer key, the state table, the artifacts bucket and the cell's
// secrets. Retained on deletion and termination-protected, so tearing down compute never touches data.
import { Stack, type StackProps } from 'aws-cdk-lib';
import { type ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { GSIS } from '../../lib/store/table-definition';
import type { CustomerConfig } from '../config/customer-config';
import { ArtifactsBucket } from '../constructs/artifacts-bucket';
import { CellSecrets, type CellSecretReferences } from '../constructs/cell-secrets';
import { CustomerKey } from '../constructs/customer-key';
import { StateTable } from '../constructs/state-table';
import { cellArtifactsBucketName, cellEventBusName } from '../naming';

export interface StatefulStackProps extends StackProps {
  readonly config: CustomerConfig;
}

/** What another stack of the cell holds of the stateful stack: references, never the resources. */
export interface CellDataReferences {
  readonly key: IKey;
  readonly table: ITable;
  readonly artifactsBucket: IBucket;
  readonly secrets: CellSecretReferences;
}

export class StatefulStack extends Stack {
  readonly key: Key;
  readonly table: Table;
  readonly artifactsBucket: Bucket;
  readonly artifactsBucketName: string;
  readonly secrets: CellSecrets;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, {
      ...props,
      terminationProtection: true,
      description: `Cahoots cell ${props.config.id}: customer key, state table, artifacts bucket, secrets (retained)`,
    });
    const customerId = props.config.id;

    this.key = new CustomerKey(this, 'CustomerKey', { customerId, eventBusName: cellEventBusName(customerId) }).key;
    this.table = new StateTable(this, 'StateTable', { encryptionKey: this.key }).table;
    this.artifactsBucketName = cellArtifactsBucketName(customerId, props.config.account, props.config.region);
    this.artifactsBucket = new ArtifactsBucket(this, 'Artifacts', {
      encryptionKey: this.key,
      bucketName: this.artifactsBucketName,
    }).bucket;
    // Through a reference, like every other user of the key: the key policy stays the one written in customer-key.ts.
    this.secrets = new CellSecrets(this, 'Secrets', { customerId, encryptionKey: this.importKey(this, 'SecretsKey') });
  }

  /**
   * The customer key as seen from another stack of the cell. An imported key cannot be changed
   * from there: constructs that would add to its policy (EventBus, Archive, StateMachine) leave it
   * alone, and the key policy stays the one written in customer-key.ts.
   */
  importKey(scope: Construct, id = 'CustomerKey'): IKey {
    return Key.fromKeyArn(scope, id, this.key.keyArn);
  }

  /**
   * Key, table, bucket and secrets as references for another stack of the cell. grant*() on them adds to
   * the grantee's policy only, so consumers can never make this stack depend on theirs.
   */
  importInto(scope: Construct): CellDataReferences {
    const references = new Construct(scope, 'CellData');
    const key = this.importKey(references, 'CustomerKey');
    return {
      key,
      table: Table.fromTableAttributes(references, 'StateTable', {
        tableName: this.table.tableName,
        encryptionKey: key,
        globalIndexes: GSIS.map((index) => index.indexName),
      }),
      artifactsBucket: Bucket.fromBucketAttributes(references, 'ArtifactsBucket', {
        // The literal name, not a reference: grants on it are ARNs a nag acknowledgement can name.
        bucketName: this.artifactsBucketName,
        encryptionKey: key,
      }),
      secrets: this.secrets.importInto(references, key),
    };
  }
}
