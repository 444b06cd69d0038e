// Physical names of cell resources. Every name carries the customer id, so two cells in one
// account and region never collide and a name alone tells an operator whose resource it is.

/** `cahoots-<customerId>[-<part>…]`, e.g. `cahoots-acme-planner-dlq`. */
export function cellResourceName(customerId: string, ...parts: string[]): string {
  return ['cahoots', customerId, ...parts].join('-');
}

/** The CDK Stage id, which also prefixes every stack name of the cell (`Cahoots-acme-Stateful`). */
export function cellStageId(customerId: string): string {
  return `Cahoots-${customerId}`;
}

/** The cell's EventBridge bus, `cahoots-<customerId>`; the key policy names it before the bus exists. */
export function cellEventBusName(customerId: string): string {
  return cellResourceName(customerId);
}

/**
 * The artifacts bucket, named so that every stack of the cell can write its ARN as a literal
 * (IAM grants on `checkpoints/*`, and the nag acknowledgement naming them) instead of reading it
 * from the stateful stack. Account and region make it globally unique, as S3 requires.
 */
export function cellArtifactsBucketName(customerId: string, account: string, region: string): string {
  const name = cellResourceName(customerId, account, region);
  if (name.length > 63) throw new Error(`Artifacts bucket name ${name} is longer than S3's 63 characters`);
  return name;
}

/** The notification topics, named so the key policy can admit EventBridge for them before they exist. */
export function notificationTopicName(customerId: string): string {
  return cellResourceName(customerId, 'notifications');
}

export function chatNotificationTopicName(customerId: string): string {
  return cellResourceName(customerId, 'chat-notifications');
}

/** Where the notification rules put a message SNS refused after every retry. */
export function notificationDeadLetterQueueName(customerId: string): string {
  return cellResourceName(customerId, 'notifications', 'dlq');
}
