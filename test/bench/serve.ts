import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { ensureTable, startEmbeddedDynamo } from '../../infra/local/embedded-store';
import type { LocalEventBus } from '../../infra/local/event-bus';
import { startLocalServer } from '../../infra/local/server';
import { manifest } from '../../infra/manifest';
import { BENCH_SLACK_TEAM, benchIntegration } from './lib/webhooks';

/**
 * The local runtime for the HTTP benchmark, run as a child process so the
 * load generator does not share its event loop: dynalite in memory, the table,
 * BENCH_SEED_COUNT integrations for BENCH_ORG_ID, every manifest function
 * behind one port (scheduler off). When ready it prints one line,
 * `BENCH_SERVER {"url","jwtSecret","orgId","seeded"}`, and runs until SIGTERM
 * or until the parent's IPC channel closes.
 *
 * BENCH_SEED=slack also connects a Slack integration for team T0BENCH, sets
 * SLACK_SIGNING_SECRET to a fresh random value before the handlers load, and
 * adds `"slack": {"teamId","integrationId","signingSecret"}` to that line. It
 * then tallies, in this process, every `integration.webhook.received` entry
 * from Slack the local EventBridge accepts (the bus's own history keeps only
 * the last 1000 events): the parent sends `{"type":"webhook-tally","id",
 * "prefix"}` over IPC and gets back `{"type":"webhook-tally","id","entries",
 * "duplicates","eventIds","cpuMicros"}` with the accepted event ids that
 * start with `prefix` and this process's CPU time so far.
 */
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TABLE_NAME = 'hr-integrations-bench';
const EVENT_BUS_NAME = 'hr-integrations-bench';

const log = (line: string) => process.stderr.write(`[bench-server] ${line}\n`);

function nonNegativeInt(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== '' && Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback;
}

const tallyRequestSchema = z.object({ type: z.literal('webhook-tally'), id: z.number(), prefix: z.string() });

/** Counts the Slack `integration.webhook.received` entries the bus accepts, by event id. */
function tallySlackWebhookEvents(bus: LocalEventBus) {
  const seen = new Set<string>();
  let entries = 0;
  let duplicates = 0;
  const putEvents = bus.putEvents.bind(bus);
  bus.putEvents = (body: unknown) => {
    const result = putEvents(body);
    const requested = (body as { Entries?: { DetailType?: unknown; Detail?: unknown }[] } | null)?.Entries ?? [];
    const answered = (result.body as { Entries?: { EventId?: string }[] } | null)?.Entries ?? [];
    answered.forEach((entry, index) => {
      const request = requested[index];
      if (entry.EventId === undefined || request?.DetailType !== 'integration.webhook.received') return;
      let detail: unknown;
      try {
        detail = JSON.parse(String(request.Detail));
      } catch {
        return;
      }
      const { providerId, eventId } = (detail ?? {}) as { providerId?: unknown; eventId?: unknown };
      if (providerId !== 'slack' || typeof eventId !== 'string') return;
      entries += 1;
      if (seen.has(eventId)) duplicates += 1;
      else seen.add(eventId);
    });
    return result;
  };
  process.on('message', (message: unknown) => {
    const request = tallyRequestSchema.safeParse(message);
    if (!request.success || !process.send) return;
    const eventIds = [...seen].filter((id) => id.startsWith(request.data.prefix));
    process.send({ type: 'webhook-tally', id: request.data.id, entries, duplicates, eventIds, cpuMicros: process.cpuUsage() });
  });
}

async function main(): Promise<void> {
  const seedCount = nonNegativeInt(process.env.BENCH_SEED_COUNT, 25);
  const orgId = process.env.BENCH_ORG_ID ?? 'bench-org';
  const jwtSecret = randomBytes(32).toString('hex');
  const seedSlack = process.env.BENCH_SEED === 'slack';
  const slackSigningSecret = randomBytes(32).toString('hex');

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
  if (seedSlack) {
    // The Slack function verifies with this secret (read per request); provider secrets come from the environment.
    process.env.SLACK_SIGNING_SECRET = slackSigningSecret;
    delete process.env.PROVIDER_CREDENTIALS_SECRET_ARN;
  }

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

  let slack: { teamId: string; integrationId: string; signingSecret: string } | undefined;
  if (seedSlack) {
    const integration = benchIntegration({ id: newIntegrationId(), orgId, providerId: 'slack', externalAccountId: BENCH_SLACK_TEAM });
    await createIntegration(integration);
    slack = { teamId: BENCH_SLACK_TEAM, integrationId: integration.id, signingSecret: slackSigningSecret };
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

  if (seedSlack) tallySlackWebhookEvents(server.bus);

  process.stdout.write(`\nBENCH_SERVER ${JSON.stringify({ url: server.url, jwtSecret, orgId, seeded: seedCount, ...(slack ? { slack } : {}) })}\n`);

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
