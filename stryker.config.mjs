// @ts-check
/**
 * Mutation testing of the security-critical modules (`npm run test:mutation`,
 * not part of `npm test`): webhook verification, RBAC and the principal, the
 * API handler, OAuth state and PKCE, the token vault and log redaction.
 * Survivors and why each is equivalent: test/mutation/survivors.md.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'shared/providers/slack/webhook.ts',
    'shared/providers/google/webhook.ts',
    'shared/providers/microsoft/webhook.ts',
    'shared/http/rbac.ts',
    'shared/http/principal.ts',
    'shared/http/api-handler.ts',
    'shared/oauth/state.ts',
    'shared/oauth/pkce.ts',
    'shared/crypto/vault.ts',
    'shared/logging/redact.ts',
  ],
  // The sandbox copy needs the sources, the tests and infra/local (dynalite, Lambda events); not local data or build output.
  ignorePatterns: ['.data', 'cdk.out', 'bench-results', 'reports', 'test/e2e', 'test/bench', 'test/infra', '*.log'],
  // Two cores, shared with other test runs.
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 90, break: 90 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};

export default config;
