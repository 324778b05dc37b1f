import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTable, startEmbeddedDynamo } from '../../infra/local/embedded-store';
import { startLocalServer } from '../../infra/local/server';
import { manifest } from '../../infra/manifest';

/**
 * The local runtime for the HTTP benchmark, run as a child process so the
 * load generator does not share its event loop: dynalite in memory, the table,
 * BENCH_SEED_COUNT integrations for BENCH_ORG_ID, every manifest function
 * behind one port (scheduler off). When ready it prints one line,
 * `BENCH_SERVER {"url","jwtSecret","orgId","seeded"}`, and runs until SIGTERM
 * or until the parent's IPC channel closes.
 */
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TABLE_NAME = 'hr-integrations-bench';
const EVENT_BUS_NAME = 'hr-integrations-bench';

const log = (line: string) => process.stderr.write(`[bench-server] ${line}\n`);

function positiveInt(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

async function main(): Promise<void> {
  const seedCount = positiveInt(process.env.BENCH_SEED_COUNT, 25);
  const orgId = process.env.BENCH_ORG_ID ?? 'bench-org';
  const jwtSecret = randomBytes(32).toString('hex');

  const dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.endpoint, TABLE_NAME);

  // What the handlers read, as on Lambda; set before any store code runs (configuration is read lazily).
  delete process.env.TOKEN_KMS_KEY_ARN;
  Object.assign(process.env, {
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TABLE_NAME,
    EVENT_BUS_NAME,
    INTEGRATION_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    APP_BASE_URL: 'http://127.0.0.1',
    POWERTOOLS_DEV: 'false',
    LOCAL_SCHEDULER: 'off',
    LOCAL_ACCESS_LOG: 'off',
  });

  const { createIntegration, newIntegrationId } = await import('../../shared/store/integrations');
  const { providerIds } = await import('../../shared/providers/registry');
  const base = Date.parse('2025-01-01T00:00:00.000Z');
  for (let index = 0; index < seedCount; index += 1) {
    const at = (minutes: number) => new Date(base + (index * 60 + minutes) * 60_000).toISOString();
    const providerId = providerIds[index % providerIds.length] ?? 'slack';
    await createIntegration({
      id: newIntegrationId(),
      orgId,
      providerId,
      status: 'active',
      healthStatus: 'healthy',
      healthReason: 'Connected',
      healthChangedAt: at(1),
      externalAccountId: `${providerId}-account-${index}`,
      externalAccountName: `Bench workspace ${index}`,
      scopesGranted: ['users:read', 'users:read.email'],
      connectedAt: at(1),
      connectedBy: 'bench-admin',
      lastSyncAt: at(30),
      createdAt: at(0),
      updatedAt: at(30),
      version: 1,
    });
  }

  const server = await startLocalServer({
    root,
    functions: manifest,
    host: '127.0.0.1',
    port: 0,
    jwtSecret,
    eventBusName: EVENT_BUS_NAME,
    scheduler: false,
    beforeLoad: (url) => {
      process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = `${url}/_local/eventbridge`;
      process.env.APP_BASE_URL = url;
    },
    log,
  });

  process.stdout.write(`\nBENCH_SERVER ${JSON.stringify({ url: server.url, jwtSecret, orgId, seeded: seedCount })}\n`);

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping`);
    const force = setTimeout(() => process.exit(0), 3_000);
    force.unref();
    server
      .close()
      .then(() => dynamo.close())
      .catch((error: unknown) => log(`error while stopping: ${String(error)}`))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('parent gone'));
}

main().catch((error: unknown) => {
  log(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
