import { defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs (`npm run test:mutation`): the unit and integration
 * tests that exercise the mutated modules, nothing slower. The integration
 * tests need dynalite, so the global setup of `npm test` (which also runs the
 * log audit) and its per-worker environment are kept.
 */
export default defineConfig({
  test: {
    include: [
      'test/unit/slack-signature.test.ts',
      'test/unit/slack-webhook-invariants.test.ts',
      'test/unit/vault.test.ts',
      'test/unit/vault-invariants.test.ts',
      'test/unit/pkce.test.ts',
      'test/unit/redact.test.ts',
      'test/unit/redact-invariants.test.ts',
      'test/unit/access-invariants.test.ts',
      'test/integration/api.test.ts',
      'test/integration/api-handler-invariants.test.ts',
      'test/integration/oauth-state-invariants.test.ts',
      'test/integration/push-webhook-invariants.test.ts',
    ],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/env.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    silent: 'passed-only',
  },
});
