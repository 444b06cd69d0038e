// Test support: an in-memory dynalite with the Cahoots table, from the local runtime's own starter.
export { startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
