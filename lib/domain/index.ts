// Public surface of the domain layer: schemas, types and pure rules. Import from here.
export * from './agent-run';
export * from './common';
export * from './errors';
export * from './events';
export * from './finding';
export * from './goal';
export * from './ids';
export * from './lesson';
export * from './plan';
export * from './project';
export * from './routing-stat';
export * from './settings';
export * from './status';
export * from './task';
export * from './task-graph';
export * from './usage';
