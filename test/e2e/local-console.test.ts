import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';

/**
 * What an operator sees on the local runtime's console: a readable line for
 * each failed delivery, dead letter, alert and health change, and structured
 * log lines that name the function that wrote them, however many functions
 * run at once in the one process.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-console-'));
let server: LocalProcess;
let client: ReturnType<typeof runtimeClient>;
let admin = '';

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test' });
  client = runtimeClient(server.url);
  const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
  admin = await mintLocalToken(jwtSecret, { orgId: 'console', role: 'admin', sub: 'ops', ttlSeconds: 3600 });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface LogLine {
  message?: string;
  function_name?: string;
  job?: string;
}

/** The structured (Powertools) lines the runtime printed so far. */
function structuredLines(): LogLine[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

async function until(done: () => Promise<boolean> | boolean, what: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the local console', () => {
  let integrationId = '';

  it('every log line names the function that wrote it, while functions run at once', async () => {
    integrationId = await client.connect('slack', admin);
    // Jobs, a sync and requests in flight together, a few times over.
    for (let round = 0; round < 3; round += 1) {
      await Promise.all([
        ...['dispatch-sync', 'refresh-tokens', 'renew-subscriptions'].map((job) => fetch(`${server.url}/_local/jobs/${job}`, { method: 'POST' })),
        client.api('POST', `/api/integrations/${integrationId}/sync`, admin),
        client.api('GET', `/api/integrations/${integrationId}/sync-logs`, admin),
        client.api('GET', '/api/integrations', admin),
      ]);
    }
    await until(() => structuredLines().filter((line) => line.job === 'sync-worker').length >= 2, 'the syncs to finish');

    const jobLines = structuredLines().filter((line) => line.job !== undefined);
    // deliver-event-webhooks: the outgoing webhooks' rule target runs on the connected and synced events too.
    expect(new Set(jobLines.map((line) => line.job))).toEqual(new Set(['dispatch-sync', 'refresh-tokens', 'renew-subscriptions', 'sync-worker', 'deliver-event-webhooks']));
    expect(jobLines.filter((line) => line.function_name !== line.job)).toEqual([]);
  }, 60_000);

  it('a sync that keeps failing prints each failed attempt, the dead letter, the alert and the health change', async () => {
    await client.sandbox('faults', { provider: 'slack', path: '/slack/api/users.list', status: 503, times: 1000 });
    const queued = await client.api<{ syncId: string }>('POST', `/api/integrations/${integrationId}/sync`, admin);
    expect(queued.status).toBe(202);
    await until(() => server.output().includes('DEAD LETTER'), 'the dead letter');
    await fetch(`${server.url}/sandbox/_control/faults`, { method: 'DELETE' });

    const lines = server.output().split('\n');
    const about = `SyncRequested (org console, integration ${integrationId})`;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect(lines).toContainEqual(expect.stringContaining(`[local] sync-worker failed on ${about}, attempt ${attempt} of 5: `));
    }
    expect(lines).toContainEqual(`[local] DEAD LETTER ${about} → sync-worker: gave up after 5 attempts (GET /_local/dead-letters)`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\[local\\] ALERT integration\\.alert \\(org console, integration ${integrationId}\\): .*reason=sync_failing`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\[local\\] integration\\.health_changed \\(org console, integration ${integrationId}\\): \\w+ → degraded`)));
  }, 60_000);

  it('a sync failure that is not retried (a revoked grant) still prints a line, and so does the disconnect', async () => {
    await client.sandbox('revoke', { provider: 'slack', account: 'T0SANDBOX1' });
    expect((await client.api('POST', `/api/integrations/${integrationId}/sync`, admin)).status).toBe(202);
    const about = `SyncRequested (org console, integration ${integrationId})`;
    await until(() => server.output().includes(`[local] sync-worker on ${about}: failed, not retried`), 'the failure line');
    expect(server.output()).toMatch(new RegExp(`\\[local\\] integration\\.health_changed \\(org console, integration ${integrationId}\\): \\w+ → disconnected`));
  }, 60_000);
});
