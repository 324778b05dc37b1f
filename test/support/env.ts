import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { TEST_TABLE } from './global-setup';

// Handlers read their configuration from the environment, as on Lambda.
process.env.AWS_REGION = 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynamoEndpoint');
process.env.TABLE_NAME = TEST_TABLE;
process.env.EVENT_BUS_NAME = 'hr-integrations-test';
process.env.APP_BASE_URL = 'http://app.test';
process.env.INTEGRATION_ENCRYPTION_KEY ??= '6a'.repeat(32);
// Pagination cursors are sealed with this key (shared/store/cursor.ts).
process.env.CURSOR_SIGNING_KEY ??= 'test-cursor-signing-key-'.padEnd(48, '0');
delete process.env.CURSOR_KEY_SECRET_ARN;
delete process.env.TOKEN_KMS_KEY_ARN;
// Powertools then logs through the global console, which vitest captures and shows only for failing tests.
process.env.POWERTOOLS_DEV = 'true';
// Dev mode would also switch Powertools Metrics off; the tests read its EMF lines.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.API_BASE_URL = 'http://api.test';

// Log audit (see global-setup): every console line of this worker is kept, and in-process sandboxes record what they issue.
const auditDir = inject('auditDir');
const workerLog = join(auditDir, `log-worker-${process.pid}.log`);
process.env.SANDBOX_SECRETS_LEDGER = join(auditDir, `secrets-${process.pid}.txt`);
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    appendFileSync(workerLog, `${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`);
    original(...args);
  };
}
