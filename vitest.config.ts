import { defineConfig } from 'vitest/config';

// Tests that only compute (schemas, the local state machine, queues and bus, model providers
// against HTTP fakes, CDK synth), and tests whose resources are their own — a dynalite per file
// reached in-process (store), git repositories in their own temporary directories (workspace),
// agent loops on scripted models (agents) — share their workers: starting a fresh worker per file
// costs more than most of these files take. Tests that wire the process-wide runtime or API
// dependencies, patch prototypes, mock AWS SDK clients or start sandboxes keep one isolated worker
// per file.
const SHARED = [
  'test/domain/**/*.test.ts',
  'test/unit/**/*.test.ts',
  'test/local/**/*.test.ts',
  'test/models/**/*.test.ts',
  'test/infra/**/*.test.ts',
  'test/store/**/*.test.ts',
  'test/agents/**/*.test.ts',
  // Named one by one: the others start child processes (sandboxes, installs, several processes on
  // one root), and a new workspace test stays isolated until someone checks it can share.
  'test/workspace/@(file-lock|git-fs|git|repo-map|tools).test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    // Guards against hangs, not speed limits: a loaded 2-core CI machine can take minutes over a
    // CDK synth or a spawned goal, and a test must not fail for the machine's speed.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    reporters: ['default'],
    // Quiet, offline defaults: no EMF output or info logs in test output, and no real AWS credentials.
    env: {
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: SHARED,
          isolate: false,
          // A worker runs many files: spies and stubbed variables must not outlive their test.
          restoreMocks: true,
          unstubEnvs: true,
        },
      },
      {
        extends: true,
        test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: SHARED },
      },
    ],
  },
});
