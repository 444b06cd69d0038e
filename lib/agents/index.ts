// The agent layer's public surface: the loop and its options, roles (prompts, permissions, finish
// schemas), budgets, errors with their Step Functions names, the run state and its checkpoints,
// redaction, the context engine and learning. Import from here.
export * from './errors';
export * from './budget';
export * from './checkpoint';
export * from './context';
export * from './elision';
export * from './finish-schemas';
export * from './learning';
export * from './loop';
export * from './options';
export * from './permissions';
export * from './prompts';
export * from './redaction';
export * from './roles';
export * from './run-state';
export * from './stuck';
export * from './tools';
