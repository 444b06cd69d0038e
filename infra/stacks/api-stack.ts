// The cell's API stack: the REST API (infra/constructs/cell-api.ts), one Lambda per route, and the
// API URL as a stack output for the CLI and for callers signing requests with SigV4.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CustomerConfig } from '../config/customer-config';
import { CellApi } from '../constructs/cell-api';
import { grantStateTableAccess } from '../constructs/state-table';
import type { NetworkStack } from './network-stack';
import type { PipelineStack } from './pipeline-stack';
import type { StatefulStack } from './stateful-stack';

export interface ApiStackProps extends StackProps {
  readonly config: CustomerConfig;
  readonly stateful: StatefulStack;
  readonly network: NetworkStack;
  readonly pipeline: PipelineStack;
}

export class ApiStack extends Stack {
  readonly api: CellApi;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, {
      ...props,
      description: `Cahoots cell ${props.config.id}: REST API (AWS_IAM; the GitHub webhook HMAC-signed), one Lambda per route`,
    });
    const { key, table, secrets } = props.stateful.importInto(this);

    // The handlers append domain events to the table's event log and leave publishing them to the
    // outbox sweeper, so they get neither EVENT_BUS_NAME nor events:PutEvents.
    this.api = new CellApi(this, 'Api', {
      customerId: props.config.id,
      encryptionKey: key,
      placement: props.network.network.agentPlacement,
      tableName: table.tableName,
      grantTableAccess: (grantee, access) => grantStateTableAccess(grantee, { table, encryptionKey: key, access }),
      pipeline: props.pipeline.pipeline,
      detection: props.pipeline.detectWorkStateMachine,
      detectionSchedules: props.pipeline.detectionSchedules,
      secrets,
      egress: props.config.egress,
      projectDefaults: props.config.projectDefaults,
      ...(props.config.webAclArn === undefined ? {} : { webAclArn: props.config.webAclArn }),
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the Cahoots API (requests are signed with SigV4 for service execute-api)',
      value: this.api.url,
    });
  }
}
