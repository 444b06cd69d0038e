// The agent layer's public surface: the loop, roles and finish schemas, budgets, errors with their
// Step Functions names, checkpoints, redaction, the context engine and learning. Import from here.
export * from './errors';
export * from './budget';
export * from './checkpoint';
export * from './context';
export * from './learning';
export * from './loop';
export * from './redaction';
export * from './roles';
export * from './stuck';
export * from './tools';
