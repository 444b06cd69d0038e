// The cell's EventBridge bus "cahoots-<customerId>" that carries every domain event, encrypted with
// the customer key, with an archive so past events can be replayed.
import { Duration, Stack } from 'aws-cdk-lib';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { cellEventBusName, cellResourceName } from '../naming';

export interface CellEventBusProps {
  readonly customerId: string;
  /** Must be an imported reference: the customer key's policy already admits this bus (customer-key.ts). */
  readonly encryptionKey: IKey;
  /** How far back a replay can reach. */
  readonly archiveRetention?: Duration;
}

export class CellEventBus extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;

  constructor(scope: Construct, id: string, props: CellEventBusProps) {
    super(scope, id);

    this.bus = new EventBus(this, 'Bus', {
      eventBusName: cellEventBusName(props.customerId),
      description: `Cahoots domain events of cell ${props.customerId}`,
      kmsKey: props.encryptionKey,
    });

    this.archive = new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      archiveName: cellResourceName(props.customerId, 'events'),
      description: 'Every event of the cell bus, for replay',
      // EventBridge requires a pattern; every event on this bus comes from this account.
      eventPattern: { account: [Stack.of(this).account] },
      retention: props.archiveRetention ?? Duration.days(90),
      // The archive holds the same events as the bus, so it is encrypted with the same key.
      kmsKey: props.encryptionKey,
    });
  }

  /**
   * events:PutEvents on this bus only. EventBridge encrypts with the customer key as itself (the
   * key policy admits it for this bus), so the publisher needs no KMS permission of its own.
   */
  grantPutEvents(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({ grantee, actions: ['events:PutEvents'], resourceArns: [this.bus.eventBusArn] });
  }
}
