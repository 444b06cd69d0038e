import { defineConfig } from 'vitest/config';

// Two cores on CI: forks keep dynalite, git and child processes isolated per file.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
