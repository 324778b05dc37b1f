import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    // One embedded DynamoDB (dynalite, in memory) for the whole run; each test file uses its own organisations.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/env.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    silent: 'passed-only',
  },
});
