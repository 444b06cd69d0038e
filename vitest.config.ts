import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Most test files share their workers: starting a fresh worker per file (a Node process, vitest,
// and the AWS SDK, zod and dynalite loaded again) cost more than most files take. A file may share
// when everything it changes is its own — a dynalite, git repositories and child processes in its
// own temporary directories, local runtimes it stops — and what it changes process-wide it puts
// back: API dependencies reset, aws-sdk-client-mock mocks restored in afterAll, environment only
// through vi.stubEnv (unstubbed after each test). Files that are about process-wide state itself,
// or set it directly, keep one isolated worker per file. Checked by running the shared files in
// shuffled file order (`--sequence.shuffle.files`).
const SHARED = [
  'test/domain/**/*.test.ts',
  'test/unit/**/*.test.ts',
  'test/local/**/*.test.ts',
  'test/models/**/*.test.ts',
  'test/infra/**/*.test.ts',
  'test/store/**/*.test.ts',
  'test/agents/**/*.test.ts',
  // Not dependencies.test.ts: it is about the process-wide port declarations themselves.
  'test/api/!(dependencies).test.ts',
  'test/ports/**/*.test.ts',
  'test/detection/**/*.test.ts',
  'test/webhooks/**/*.test.ts',
  'test/layers/**/*.test.ts',
  // Not run-metrics or delivery-remote: they set process-wide environment (metrics on, a token).
  'test/pipeline/!(run-metrics|delivery-remote).test.ts',
  // Not http-server: it sets a process-wide secret.
  'test/e2e/!(http-server).test.ts',
  // Not sandbox.test.ts: it installs process-wide signal handlers.
  'test/workspace/!(sandbox).test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core CI machine. Many
    // tests wait on child processes (the CLI, git, the sandbox), so at least two keep both cores busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
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
