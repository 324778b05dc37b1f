import { appendFileSync } from 'node:fs';

/**
 * Test-only: when SANDBOX_SECRETS_LEDGER names a file, every code and token
 * the sandbox issues is appended to it, so the test suite can search every
 * log line it captured for any of them (there must be none).
 */
export function recordIssuedSecret(raw: string): void {
  const ledger = process.env.SANDBOX_SECRETS_LEDGER;
  if (ledger) appendFileSync(ledger, `${raw}\n`);
}
