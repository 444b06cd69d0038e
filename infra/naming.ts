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
