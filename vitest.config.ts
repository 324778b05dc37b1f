import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    // One embedded DynamoDB (dynalite, in memory) for the whole run; each test file uses its own organisations.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/env.ts'],
    // vitest's default is one worker fewer than the cores: one on a 2-core machine, where the e2e files mostly wait on
    // the runtime they start as a child process and the second core sat idle. Two files at a time, however few cores.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    silent: 'passed-only',
    // `npm test -- --coverage`: V8's own counters, so the code runs unchanged. Only code run inside the test
    // workers counts; the local runtime the e2e tests start is a child process and is not measured.
    coverage: {
      provider: 'v8',
      include: ['functions/**/*.ts', 'shared/**/*.ts', 'infra/**/*.ts'],
      exclude: ['**/*.d.ts'],
      reporter: ['text-summary', 'html', 'lcov'],
      reportsDirectory: 'reports/coverage',
    },
  },
});
