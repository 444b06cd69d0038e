// The cell's single DynamoDB table, built from lib/store/table-definition.ts so the cloud table and
// the local (dynalite) table share keys, indexes and the TTL attribute by construction.
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { GSIS, TABLE_KEYS, TTL_ATTRIBUTE } from '../../lib/store/table-definition';

export interface StateTableProps {
  readonly encryptionKey: IKey;
}

export class StateTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      // Load is bursty (a goal fans out into many tasks, then nothing for hours): on-demand.
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const index of GSIS) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }
  }
}

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export interface StateTableAccess {
  readonly table: ITable;
  readonly encryptionKey: IKey;
  readonly access: 'read' | 'readWrite';
}

/**
 * Table access the way the store uses the table, and nothing more: item reads, queries and
 * single-item writes on the table and its named indexes. No Scan (single-table access is by key)
 * and no Transact* (docs/architecture.md, Decisions: single-item atomic operations only, so the local
 * store behaves like production). The generic Table.grant* would add both, wildcard KMS actions
 * and `index/*`.
 */
export function grantStateTableAccess(grantee: IGrantable, { table, encryptionKey, access }: StateTableAccess): Grant {
  const writes = access === 'readWrite';
  const data = Grant.addToPrincipal({
    grantee,
    actions: writes ? [...READ_ACTIONS, ...WRITE_ACTIONS] : READ_ACTIONS,
    resourceArns: [table.tableArn, ...GSIS.map((index) => `${table.tableArn}/index/${index.indexName}`)],
  });
  // DynamoDB calls KMS on the caller's behalf; the condition keeps this grant usable through DynamoDB only.
  const key = Grant.addToPrincipal({
    grantee,
    actions: writes ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt', 'kms:DescribeKey'],
    resourceArns: [encryptionKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(table).region}.amazonaws.com` } },
  });
  return data.combine(key);
}
