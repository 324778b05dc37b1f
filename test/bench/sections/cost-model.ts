import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { findFunction } from '../../../infra/manifest';
import { READ_ON, REGION, prices } from '../prices';
import { overrideEnv } from '../lib/env';
import { busDelta, inProcessEventBus } from '../lib/event-bus';
import { countDynamoRequests, countsDelta, inProcessStore } from '../lib/store';
import { mean } from '../lib/stats';
import type { Json, Row, Section } from '../lib/types';
import { scriptedSource } from './sync-records';

/**
 * What one integration costs in AWS per month, for a stated activity profile,
 * priced with test/bench/prices.ts. The scheduled sync is measured here (the
 * real engine against dynalite, its DynamoDB requests counted); a webhook
 * delivery comes from the webhook-verify section when it ran in the same run;
 * the rest are per-operation figures read off the code paths and stated as
 * assumptions. Lambda bills wall time, and in AWS most of a sync or refresh is
 * waiting on the provider, so provider round trips are added at an assumed
 * latency. Fixed costs (keys, secrets, alarms, metrics, the schedules'
 * own invocations) are spread over the integrations.
 */
const PROFILE = {
  records: 2_000,
  changesPerSync: 20,
  syncsPerDay: 96,
  webhooksPerDay: 50,
  /** Of the webhooks, those that ask for a sync (change notifications); the rest are routed and published only. */
  syncingWebhooksPerDay: 10,
  changesPerWebhookSync: 2,
  tokenRefreshesPerDay: 24,
  renewalsPerDay: 1,
  apiReadsPerDay: 20,
  days: 30,
  providerLatencyMs: 250,
  /** Lambda's own START/END/REPORT lines per invocation (JSON log format). */
  platformLogBytes: 700,
} as const;

const SCALES = [1_000, 10_000, 100_000];

/** One kind of operation, per occurrence. */
interface Operation {
  name: string;
  perMonth: number;
  fn: string;
  durationMs: number;
  wru: number;
  rru: number;
  events: number;
  kms: number;
  logBytes: number;
  apiRequests: number;
  source: string;
}

const webhookRowsSchema = z.object({
  rows: z.array(
    z.object({
      provider: z.string(),
      case: z.string(),
      n: z.number(),
      latencyMs: z.object({ mean: z.number() }),
      dynamoRequests: z.object({ byCommand: z.record(z.string(), z.number()) }),
      bus: z.object({ accepted: z.record(z.string(), z.number()) }),
      logBytes: z.number(),
    }),
  ),
});

/** Write and read units of a set of small-item requests (items under 1 KB; reads under 4 KB, consistent unless a query). */
function units(byCommand: Record<string, number>, batchWrites: number, batchReads: number): { wru: number; rru: number } {
  const count = (name: string) => byCommand[`${name}Command`] ?? 0;
  return {
    wru: count('PutItem') + count('UpdateItem') + count('DeleteItem') + batchWrites,
    rru: count('GetItem') + count('Query') + batchReads,
  };
}

const memoryGb = (name: string): number => (findFunction(name)?.memoryMb ?? 1024) / 1024;

export const costModelSection: Section = {
  id: 'cost-model',
  title: 'Cost model: one integration per month, and per 1,000 integrations',
  async run(context) {
    await inProcessStore(context);
    const counter = await countDynamoRequests(context);
    const bus = await inProcessEventBus(context);
    const restoreEnv = overrideEnv({
      INTEGRATION_ENCRYPTION_KEY: process.env.INTEGRATION_ENCRYPTION_KEY ?? randomBytes(32).toString('hex'),
      SANDBOX_BASE_URL: 'http://127.0.0.1:9/sandbox',
      // The engine's EMF lines would land among the tables (read when shared/metrics.ts first loads).
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    let restoreLogLevel = () => {};
    try {
      const [{ runSync }, { createIntegration }, { replaceCredentials }, { integrationRecord, uniqueOrg }, { logger }] = await Promise.all([
        import('../../../shared/sync/engine'),
        import('../../../shared/store/integrations'),
        import('../../../shared/store/tokens'),
        import('../../support/api'),
        import('../../../shared/logging/logger'),
      ]);
      const previousLevel = logger.getLevelName();
      logger.setLogLevel('SILENT');
      restoreLogLevel = () => logger.setLogLevel(previousLevel);

      // The scheduled sync, measured: an integration with PROFILE.records records, then incremental syncs of PROFILE.changesPerSync changes.
      const record = integrationRecord(uniqueOrg('bench-cost'), { providerId: 'slack' });
      await createIntegration(record);
      await replaceCredentials({ orgId: record.orgId, integrationId: record.id, providerId: 'slack' }, [
        { kind: 'slack-bot', accessToken: `xoxb-bench-${randomBytes(8).toString('hex')}`, scopes: [] },
      ]);
      const source = scriptedSource(PROFILE.records, 100);
      const request = { orgId: record.orgId, integrationId: record.id, trigger: 'bench' };
      context.log(`cost-model: seeding ${PROFILE.records} records`);
      await runSync(request, () => source.provider);
      const runs = 5;
      const durations: number[] = [];
      const before = { byCommand: counter.byCommand(), byItemKind: counter.byItemKind(), bus: bus.counts(), pulls: source.pulls() };
      for (let run = 0; run < runs; run += 1) {
        source.change(PROFILE.changesPerSync);
        const started = performance.now();
        await runSync(request, () => source.provider);
        durations.push(performance.now() - started);
      }
      const byCommand = countsDelta(before.byCommand, counter.byCommand());
      const syncWrites = Object.entries(countsDelta(before.byItemKind, counter.byItemKind()))
        .filter(([name]) => /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/.test(name))
        .map(([name, count]) => `${name.replace('Command', '')} ${(count / runs).toFixed(1)}`)
        .join(', ');
      const perRun = Object.fromEntries(Object.entries(byCommand).map(([name, count]) => [name, count / runs]));
      const upserts = PROFILE.changesPerSync - Math.floor(PROFILE.changesPerSync / 10);
      const syncUnits = units(perRun, PROFILE.changesPerSync, (perRun.BatchGetItemCommand ?? 0) > 0 ? upserts : 0);
      const syncEvents = busDelta(before.bus, bus.counts()).calls / runs + 1; // + the SyncRequested that started it
      const pullsPerSync = (source.pulls() - before.pulls) / runs;
      const syncMs = mean(durations) + pullsPerSync * PROFILE.providerLatencyMs;

      const webhook = webhookRowsSchema.safeParse(context.earlier('webhook-verify'));
      const slackAccepted = webhook.success ? webhook.data.rows.find((row) => row.provider === 'slack' && row.case === 'accepted') : undefined;
      const webhookPerOp = slackAccepted
        ? Object.fromEntries(Object.entries(slackAccepted.dynamoRequests.byCommand).map(([name, count]) => [name, count / slackAccepted.n]))
        : {};
      const webhookOp: Omit<Operation, 'name' | 'perMonth'> = slackAccepted
        ? {
            fn: 'slack-webhook',
            durationMs: slackAccepted.latencyMs.mean,
            // Its BatchWriteItem writes the delivery's log items, one per integration the event was routed to (one here).
            ...units(webhookPerOp, webhookPerOp.BatchWriteItemCommand ?? 0, 0),
            events: Object.values(slackAccepted.bus.accepted).reduce((sum, count) => sum + count, 0) / slackAccepted.n,
            kms: 0,
            logBytes: slackAccepted.logBytes / slackAccepted.n + PROFILE.platformLogBytes,
            apiRequests: 0,
            source: 'measured (webhook-verify section, Slack accepted)',
          }
        : { fn: 'slack-webhook', durationMs: 15, wru: 1, rru: 2, events: 1, kms: 0, logBytes: 1_200, apiRequests: 0, source: 'assumed (webhook-verify not run): 1 routing Query, 1 GetItem, 1 dedupe PutItem, 1 event' };

      const perDay = (count: number) => count * PROFILE.days;
      const syncLogBytes = 1_000 + PROFILE.platformLogBytes;
      const operations: Operation[] = [
        {
          name: `scheduled sync (${PROFILE.changesPerSync} changes)`,
          perMonth: perDay(PROFILE.syncsPerDay),
          fn: 'sync-worker',
          durationMs: syncMs,
          ...syncUnits,
          events: syncEvents,
          kms: 0,
          logBytes: syncLogBytes,
          apiRequests: 0,
          source: `measured here (${runs} runs, ${mean(durations).toFixed(0)} ms with dynalite) + ${pullsPerSync.toFixed(1)} provider pulls x ${PROFILE.providerLatencyMs} ms`,
        },
        { name: 'webhook delivery', perMonth: perDay(PROFILE.webhooksPerDay), ...webhookOp },
        {
          name: `sync asked for by a webhook (${PROFILE.changesPerWebhookSync} changes)`,
          perMonth: perDay(PROFILE.syncingWebhooksPerDay),
          fn: 'sync-worker',
          durationMs: syncMs,
          wru: syncUnits.wru - PROFILE.changesPerSync + PROFILE.changesPerWebhookSync,
          rru: syncUnits.rru,
          events: syncEvents,
          kms: 0,
          logBytes: syncLogBytes,
          apiRequests: 0,
          source: 'as the scheduled sync, fewer records written',
        },
        {
          name: 'outgoing-webhook run per synced event',
          perMonth: perDay(PROFILE.syncsPerDay + PROFILE.syncingWebhooksPerDay),
          fn: 'deliver-event-webhooks',
          durationMs: 15,
          wru: 0,
          rru: 1,
          events: 0,
          kms: 0,
          logBytes: 300 + PROFILE.platformLogBytes,
          apiRequests: 0,
          source: "assumed: the rule invokes it on every integration.synced; one endpoints Query, none configured (the organisation's own endpoints cost more)",
        },
        {
          name: 'token refresh',
          perMonth: perDay(PROFILE.tokenRefreshesPerDay),
          fn: 'refresh-tokens',
          durationMs: 20 + PROFILE.providerLatencyMs,
          wru: 4,
          rru: 3,
          events: 0,
          kms: 0,
          logBytes: 500,
          apiRequests: 0,
          source: 'assumed from the code path: due Query, tokens GetItem, lease Put/Delete, tokens Put, integration Update; 1 provider call',
        },
        {
          name: 'subscription renewal',
          perMonth: perDay(PROFILE.renewalsPerDay),
          fn: 'renew-subscriptions',
          durationMs: 20 + PROFILE.providerLatencyMs,
          wru: 2,
          rru: 2,
          events: 0,
          kms: 0,
          logBytes: 500,
          apiRequests: 0,
          source: 'assumed: due Query, tokens GetItem, subscription Put and due update; 1 provider call',
        },
        {
          name: 'API read (HR admin)',
          perMonth: perDay(PROFILE.apiReadsPerDay),
          fn: 'list-integrations',
          durationMs: 15,
          wru: 0,
          rru: 2,
          events: 0,
          kms: 0,
          logBytes: 800 + PROFILE.platformLogBytes,
          apiRequests: 1,
          source: 'assumed: one integrations Query (and the visibility read); HTTP API request',
        },
      ];

      // Per integration per month.
      const month = operations.reduce(
        (sum, op) => ({
          invocations: sum.invocations + op.perMonth,
          gbSeconds: sum.gbSeconds + op.perMonth * (op.durationMs / 1000) * memoryGb(op.fn),
          wru: sum.wru + op.perMonth * op.wru,
          rru: sum.rru + op.perMonth * op.rru,
          events: sum.events + op.perMonth * op.events,
          logBytes: sum.logBytes + op.perMonth * op.logBytes,
          apiRequests: sum.apiRequests + op.perMonth * op.apiRequests,
        }),
        { invocations: 0, gbSeconds: 0, wru: 0, rru: 0, events: 0, logBytes: 0, apiRequests: 0 },
      );
      const storageGb = (PROFILE.records * 400) / 1024 ** 3;

      // Fixed per month, whatever the number of integrations.
      const scheduleInvocations = perDay(96 + 96 + 24 + 288 + 1440); // dispatch, refresh, renewal, abandoned grants, outgoing-webhook retries
      const kmsBranchKeyCalls = 50 * 24 * PROFILE.days; // one Decrypt per warm container and hour; 50 sync workers at most
      const fixed = {
        keys: 2 * prices.kmsKeyMonth.usd,
        secrets: 2 * prices.secretMonth.usd,
        alarms: 5 * prices.alarmMonth.usd,
        metrics: 9 * prices.customMetricMonth.usd,
        schedules: scheduleInvocations * (prices.schedulerInvocation.usd + prices.lambdaRequest.usd),
        kms: kmsBranchKeyCalls * prices.kmsRequest.usd,
      };
      const fixedTotal = Object.values(fixed).reduce((sum, value) => sum + value, 0);

      const variable = {
        'Lambda requests': month.invocations * prices.lambdaRequest.usd,
        'Lambda GB-seconds': month.gbSeconds * prices.lambdaGbSecondArm.usd,
        'DynamoDB writes': month.wru * prices.dynamoWriteUnit.usd,
        'DynamoDB reads': month.rru * prices.dynamoReadUnit.usd,
        'DynamoDB storage': storageGb * prices.dynamoStorageGbMonth.usd,
        'EventBridge events': month.events * prices.eventBridgeEvent.usd,
        'CloudWatch Logs': (month.logBytes / 1024 ** 3) * (prices.logIngestGb.usd + prices.logStorageGbMonth.usd),
        'HTTP API': month.apiRequests * prices.httpApiRequest.usd,
      };
      // Dispatch work grows with integrations: one SyncRequested each (counted in the sync) and a share of the due Query.
      const perIntegration = Object.values(variable).reduce((sum, value) => sum + value, 0);

      const operationRows: Row[] = operations.map((op) => ({
        operation: op.name,
        perMonth: op.perMonth,
        fn: `${op.fn} (${(memoryGb(op.fn) * 1024).toFixed(0)} MB)`,
        ms: op.durationMs,
        wru: op.wru,
        rru: op.rru,
        events: op.events,
        logBytes: op.logBytes,
        source: op.source,
      }));
      const termRows: Row[] = Object.entries(variable)
        .sort((a, b) => b[1] - a[1])
        .map(([term, usd]) => ({ term, usd, share: usd / perIntegration }));
      const scaleRows: Row[] = SCALES.map((count) => {
        const total = count * perIntegration + fixedTotal;
        return { integrations: count, monthly: total, per1000: (total / count) * 1000, fixedShare: fixedTotal / total };
      });
      const dominant = termRows[0];

      return {
        tables: [
          {
            title: `Activity profile: what one integration does in a month (${PROFILE.days} days) and what each occurrence costs in AWS requests`,
            columns: [
              { key: 'operation', title: 'operation' },
              { key: 'perMonth', title: 'per month' },
              { key: 'fn', title: 'function' },
              { key: 'ms', title: 'billed ms', digits: 0 },
              { key: 'wru', title: 'WRU', maxDigits: 1 },
              { key: 'rru', title: 'RRU', maxDigits: 1 },
              { key: 'events', title: 'events', maxDigits: 1 },
              { key: 'logBytes', title: 'log B', digits: 0 },
              { key: 'source', title: 'figures from' },
            ],
            rows: operationRows,
            notes: [
              `profile: ${PROFILE.records} records, a sync every 15 minutes with ${PROFILE.changesPerSync} changes, ${PROFILE.webhooksPerDay} webhooks a day (${PROFILE.syncingWebhooksPerDay} asking for a sync), ${PROFILE.tokenRefreshesPerDay} token refreshes a day (1-hour access tokens), ${PROFILE.renewalsPerDay} subscription renewal a day, ${PROFILE.apiReadsPerDay} API reads a day`,
              `per integration and month: ${month.invocations.toFixed(0)} Lambda invocations, ${month.gbSeconds.toFixed(1)} GB-s, ${month.wru.toFixed(0)} WRU, ${month.rru.toFixed(0)} RRU, ${month.events.toFixed(0)} EventBridge events, ${(month.logBytes / 1024 ** 2).toFixed(1)} MiB of logs, ${month.apiRequests} HTTP API requests; KMS: none per integration (branch keys: one Decrypt per container and hour, below)`,
              `provider latency is assumed at ${PROFILE.providerLatencyMs} ms per call: Lambda bills the wait`,
              `write requests of one scheduled sync (by kind of item): ${syncWrites}`,
            ],
          },
          {
            title: `Cost of one integration per month by term (${REGION} list prices read ${READ_ON}, test/bench/prices.ts)`,
            columns: [
              { key: 'term', title: 'term' },
              { key: 'usd', title: 'USD', maxDigits: 6 },
              { key: 'share', title: 'share', digits: 2 },
            ],
            rows: termRows,
            notes: [
              `fixed per month, whatever the count: KMS keys $${fixed.keys.toFixed(2)}, secrets $${fixed.secrets.toFixed(2)}, alarms $${fixed.alarms.toFixed(2)}, custom metrics $${fixed.metrics.toFixed(2)}, schedules $${fixed.schedules.toFixed(3)}, KMS branch-key calls $${fixed.kms.toFixed(3)}`,
              `dominant: ${dominant?.term} (${((Number(dominant?.share) || 0) * 100).toFixed(0)}%)`,
            ],
          },
          {
            title: 'Cost per 1,000 integrations per month',
            columns: [
              { key: 'integrations', title: 'integrations' },
              { key: 'monthly', title: 'USD / month', digits: 2 },
              { key: 'per1000', title: 'USD per 1,000', digits: 2 },
              { key: 'fixedShare', title: 'fixed share', digits: 2 },
            ],
            rows: scaleRows,
          },
        ],
        data: {
          profile: { ...PROFILE },
          pricesReadOn: READ_ON,
          perIntegrationMonth: { ...month, usd: perIntegration },
          terms: variable,
          fixed,
          scales: scaleRows,
          operations: operations.map((op): Json => ({ ...op })),
        },
      };
    } finally {
      restoreLogLevel();
      restoreEnv();
    }
  },
};
