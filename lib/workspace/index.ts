// The workspace of an agent task: git branches and working copies, the sandboxed command runner,
// file tools confined to a working copy, and the repo map the context engine uses.
export * from './dependency-setup';
export * from './errors';
export * from './git';
export { gitFs, writeFileAtomic } from './git-fs';
export * from './paths';
export * from './repo-map';
export * from './sandbox';
export * from './sandbox-runner';
export * from './tools';
