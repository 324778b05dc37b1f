import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs (`npm run test:mutation`): the unit and integration
 * tests that exercise the mutated modules, nothing slower. The integration
 * tests need dynalite, so the global setup of `npm test` (which also runs the
 * log audit) and its per-worker environment are kept.
 *
 * Cheapest first: Stryker stops a mutant's run at its first failing test, and
 * a mutant of module-level code (a schema, a pattern) runs every test file
 * that imports its module, so the fast unit tests that kill most mutants go
 * before the integration tests. A file that just failed runs first again.
 */
const files = [
  'test/unit/redact-invariants.test.ts',
  'test/unit/redact.test.ts',
  'test/unit/access-invariants.test.ts',
  'test/unit/slack-webhook-invariants.test.ts',
  'test/unit/slack-signature.test.ts',
  'test/unit/pkce.test.ts',
  'test/unit/vault-invariants.test.ts',
  'test/unit/vault.test.ts',
  'test/integration/oauth-state-invariants.test.ts',
  'test/integration/api-handler-invariants.test.ts',
  'test/integration/api.test.ts',
  'test/integration/push-webhook-invariants.test.ts',
];

class CheapestFirst extends BaseSequencer {
  override async sort(specs: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const index = files.findIndex((file) => spec.moduleId.endsWith(file));
      return index < 0 ? files.length : index;
    };
    const failed = (spec: TestSpecification) => (this.ctx.cache.getTestSpecificationResult(spec)?.failed ? 0 : 1);
    return [...specs].sort((a, b) => failed(a) - failed(b) || rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: files,
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/env.ts'],
    sequence: { sequencer: CheapestFirst },
    testTimeout: 20_000,
    hookTimeout: 60_000,
    silent: 'passed-only',
  },
});
