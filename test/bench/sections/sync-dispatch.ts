import { randomBytes } from 'node:crypto';
import type { Item } from '../../../shared/store/items';
import { busDelta, inProcessEventBus } from '../lib/event-bus';
import { countDynamoRequests, countsDelta, inProcessStore } from '../lib/store';
import type { BenchContext, Json, Row, Section } from '../lib/types';

/**
 * The 15-minute dispatcher at scale: N integrations scheduled in the past
 * (items in the shape `createIntegration` + `scheduleSync` leave, written with
 * BatchWrite straight through the store's document client; seeding is not
 * the figure), then one `dispatchDueSyncs()`: wall time, DynamoDB requests by
 * command (it must Query the sharded `due` index, never Scan), items read,
 * PutEvents calls at the local bus (ceil(N/10) expected) and the events
 * published. Sizes are seeded cumulatively (10,000, then 90,000 more for
 * 100,000); a size that would not fit the time budget is extrapolated from
 * the largest measured one and labelled so.
 */
const BATCH = 25;
const SEED_CONCURRENCY = 4;
const PROVIDERS = ['slack', 'google', 'microsoft'] as const;
/** Integrations per seeded organisation. */
const PER_ORG = 20;

interface Measured {
  n: number;
  measured: true;
  due: number;
  published: number;
  wallMs: number;
  queryMs: number;
  publishMs: number;
  queries: number;
  scans: number;
  otherDynamo: number;
  refused: number;
  itemsRead: number;
  putEvents: number;
  eventsAccepted: number;
  eventsRefused: number;
  alerts: number;
  seedMs: number;
  rssMiB: number;
  byCommand: Record<string, number>;
}

interface Extrapolated {
  n: number;
  measured: false;
  from: number;
  wallMs: number;
  queries: number;
  putEvents: number;
  itemsRead: number;
  projectedSeconds: number;
}

/** Records when the store client last answered a Query (once per run: the dispatcher's index reads end there). */
function lastQueryClock(context: BenchContext): Promise<{ last(): number }> {
  return context.memo('dynamo-last-query-clock', async () => {
    const { dynamo } = await import('../../../shared/store/client');
    let last = 0;
    dynamo().middlewareStack.add(
      (next, handlerContext) => async (args) => {
        const result = await next(args);
        if (handlerContext.commandName === 'QueryCommand') last = performance.now();
        return result;
      },
      { step: 'initialize', name: 'benchLastQueryClock' },
    );
    return { last: () => last };
  });
}

export const syncDispatchSection: Section = {
  id: 'sync-dispatch',
  title: 'Scheduled sync dispatch',
  async run(context) {
    const sectionStarted = performance.now();
    const { dispatchSizes: sizes, dispatchBudgetSeconds: budget } = context.options;
    await inProcessStore(context);
    const counter = await countDynamoRequests(context);
    const queryClock = await lastQueryClock(context);
    // The run's shared bus: it counts PutEvents requests and the entries it accepted.
    const bus = await inProcessEventBus(context);
    const [{ BatchWriteCommand }, { ulid }, { dispatchDueSyncs }, { dueItems, dueShardOf }, { syncKeys }, { keys }, { DUE_SHARDS }, { dynamo, tableName }, { integrationRecord }] =
      await Promise.all([
        import('@aws-sdk/lib-dynamodb'),
        import('ulid'),
        import('../../../shared/sync/dispatch'),
        import('../../../shared/store/due'),
        import('../../../shared/store/sync'),
        import('../../../shared/store/keys'),
        import('../../../shared/store/table'),
        import('../../../shared/store/client'),
        import('../../support/api'),
      ]);

    // Due integrations other sections left in the shared table (none expected: connect schedules 15 minutes ahead).
    const preexisting = (await dueItems(syncKeys.syncDuePrefix, new Date())).length;

    const runTag = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    // Integration ids as newIntegrationId() makes them (int_ + ULID), with the randomness drawn from a pool:
    // ulid's default PRNG asks the OS for one byte per character, a fifth of the seeding time at this scale.
    let pool = randomBytes(0);
    let offset = 0;
    const pooledRandom = (): number => {
      if (offset + 4 > pool.length) {
        pool = randomBytes(64 * 1024);
        offset = 0;
      }
      const value = pool.readUInt32BE(offset) / 2 ** 32;
      offset += 4;
      return value;
    };
    const integrationId = () => `int_${ulid(Date.now(), pooledRandom)}`;
    // The test suite's integration record (active, healthy, connected), given an id, org and account per item below.
    const template = integrationRecord('template');
    const seedBase = Date.now();
    /** Integration `index` as createIntegration + scheduleSync would leave it, due between 1 and 15 minutes ago. */
    function seededItem(index: number): Item {
      const orgId = `bench-dispatch-${runTag}-${Math.floor(index / PER_ORG)}`;
      const providerId = PROVIDERS[index % PROVIDERS.length] ?? 'slack';
      const externalAccountId = `bench-${runTag}-${index}`;
      const record = { ...template, id: integrationId(), orgId, providerId, externalAccountId, externalAccountName: `Bench account ${index}` };
      const at = new Date(seedBase - 60_000 - (index % 840) * 1000).toISOString();
      return {
        pk: keys.org(orgId),
        sk: keys.integration(record.id),
        routeKey: keys.accountRoute(providerId, externalAccountId),
        routeSk: keys.accountRouteSk(orgId, record.id),
        ...record,
        dueShard: dueShardOf(record.id),
        dueAt: syncKeys.syncDue(at),
        nextSyncAt: at,
      };
    }

    async function writeBatch(items: Item[]): Promise<void> {
      let pending = items.map((item) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 10) throw new Error(`BatchWrite left ${pending.length} item(s) unprocessed`);
        const { UnprocessedItems } = await dynamo().send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
        pending = (UnprocessedItems?.[tableName()] ?? []).flatMap((request) => (request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : []));
      }
    }

    /** DynamoDB's size of an item, roughly: attribute names plus string, number and list values. */
    const approximateBytes = (value: unknown): number => {
      if (typeof value === 'string') return Buffer.byteLength(value);
      if (typeof value === 'number') return Math.ceil(String(value).length / 2) + 1;
      if (typeof value === 'boolean' || value === null || value === undefined) return 1;
      if (Array.isArray(value)) return 3 + value.reduce<number>((sum, entry) => sum + 1 + approximateBytes(entry), 0);
      return 3 + Object.entries(value as Record<string, unknown>).reduce((sum, [name, entry]) => sum + Buffer.byteLength(name) + 1 + approximateBytes(entry), 0);
    };
    const itemBytes = approximateBytes(seededItem(0));

    let seeded = 0;
    /** Writes integrations seeded..target-1; returns milliseconds. */
    async function seedTo(target: number): Promise<number> {
      const started = performance.now();
      let next = seeded;
      const worker = async () => {
        while (next < target) {
          const from = next;
          const to = Math.min(target, from + BATCH);
          next = to;
          const items: Item[] = [];
          for (let index = from; index < to; index += 1) items.push(seededItem(index));
          await writeBatch(items);
        }
      };
      await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
      seeded = target;
      return performance.now() - started;
    }

    const measured: Measured[] = [];
    const extrapolated: Extrapolated[] = [];
    let seedMsPerItem = Number.NaN;
    for (const n of sizes) {
      const elapsed = (performance.now() - sectionStarted) / 1000;
      const largest = measured.at(-1);
      if (largest) {
        // Time left to reach n: seeding the difference plus a dispatch of n, both scaled linearly.
        const projectedSeconds = ((n - seeded) * seedMsPerItem + (n * largest.wallMs) / largest.n) / 1000;
        if (elapsed + projectedSeconds > budget) {
          context.log(`sync-dispatch: N=${n} would take ~${projectedSeconds.toFixed(0)}s more (budget ${budget}s); extrapolating from N=${largest.n}`);
          extrapolated.push({
            n,
            measured: false,
            from: largest.n,
            wallMs: (largest.wallMs * n) / largest.n,
            // Every shard pages at 1 MB of items.
            queries: DUE_SHARDS * Math.max(1, Math.ceil(((n / DUE_SHARDS) * itemBytes) / 2 ** 20)),
            putEvents: Math.ceil(n / 10),
            itemsRead: n,
            projectedSeconds,
          });
          continue;
        }
      }

      context.log(`sync-dispatch: seeding ${n - seeded} due integrations (BatchWrite, ${BATCH} per request) to reach ${n}`);
      const seedMs = await seedTo(n);
      seedMsPerItem = seedMs / Math.max(1, n - (measured.at(-1)?.n ?? 0));

      const before = { total: counter.total(), failed: counter.failed(), byCommand: counter.byCommand(), itemsRead: counter.itemsRead() };
      const busBefore = bus.counts();
      context.log(`sync-dispatch: dispatchDueSyncs() over ${n + preexisting} due integrations`);
      const started = performance.now();
      const result = await dispatchDueSyncs(new Date());
      const ended = performance.now();
      const queriesEnded = queryClock.last();
      const byCommand = countsDelta(before.byCommand, counter.byCommand());
      const read = countsDelta(before.itemsRead, counter.itemsRead());
      const events = busDelta(busBefore, bus.counts());
      const queries = byCommand.QueryCommand ?? 0;
      const scans = byCommand.ScanCommand ?? 0;
      const row: Measured = {
        n,
        measured: true,
        due: result.due,
        published: result.published,
        wallMs: ended - started,
        queryMs: queriesEnded - started,
        publishMs: ended - queriesEnded,
        queries,
        scans,
        otherDynamo: counter.total() - before.total - queries - scans,
        refused: counter.failed() - before.failed,
        itemsRead: Object.values(read).reduce((sum, count) => sum + count, 0),
        putEvents: events.calls,
        eventsAccepted: events.accepted.SyncRequested ?? 0,
        eventsRefused: events.refused,
        alerts: events.accepted['integration.alert'] ?? 0,
        seedMs,
        rssMiB: process.memoryUsage().rss / 2 ** 20,
        byCommand,
      };
      measured.push(row);
      context.log(
        `sync-dispatch: N=${n}: ${row.wallMs.toFixed(0)} ms, ${queries} Query, ${scans} Scan, ${row.putEvents} PutEvents, ${row.eventsAccepted} events (seeded in ${(seedMs / 1000).toFixed(1)}s)`,
      );
    }
    if (measured.length === 0) throw new Error('no dispatch size measured');

    const rows: Row[] = [
      ...measured.map(
        (m): Row => ({
          n: m.n,
          kind: 'measured',
          due: m.due,
          wallMs: m.wallMs,
          queryMs: m.queryMs,
          publishMs: m.publishMs,
          perSecond: (m.due / m.wallMs) * 1000,
          queries: m.queries,
          scans: m.scans,
          otherDynamo: m.otherDynamo,
          itemsRead: m.itemsRead,
          putEvents: m.putEvents,
          expectedPutEvents: Math.ceil(m.due / 10),
          events: m.eventsAccepted,
          refused: m.eventsRefused,
        }),
      ),
      ...extrapolated.map(
        (e): Row => ({
          n: e.n,
          kind: `EXTRAPOLATED from ${e.from}`,
          due: e.n,
          wallMs: e.wallMs,
          queryMs: null,
          publishMs: null,
          perSecond: (e.n / e.wallMs) * 1000,
          queries: e.queries,
          scans: 0,
          otherDynamo: null,
          itemsRead: e.itemsRead,
          putEvents: e.putEvents,
          expectedPutEvents: Math.ceil(e.n / 10),
          events: null,
          refused: null,
        }),
      ),
    ];
    const scans = measured.reduce((sum, m) => sum + m.scans, 0);
    const mismatched = measured.filter((m) => m.putEvents !== Math.ceil(m.due / 10) || m.eventsAccepted !== m.due || m.due !== m.n + preexisting);
    const seedNotes = measured.map((m) => `N=${m.n}: seeded ${m.n - (measured[measured.indexOf(m) - 1]?.n ?? 0)} in ${(m.seedMs / 1000).toFixed(1)}s; RSS after dispatch ${m.rssMiB.toFixed(0)} MiB`);

    return {
      tables: [
        {
          title: `Scheduled dispatch: one dispatchDueSyncs() over N due integrations (dynalite in memory, local EventBridge; N = ${sizes.join(', ')})`,
          columns: [
            { key: 'n', title: 'N' },
            { key: 'kind', title: 'row' },
            { key: 'due', title: 'due found' },
            { key: 'wallMs', title: 'wall ms', digits: 0 },
            { key: 'queryMs', title: 'index read ms', digits: 0 },
            { key: 'publishMs', title: 'publish ms', digits: 0 },
            { key: 'perSecond', title: 'integrations/s', digits: 0 },
            { key: 'queries', title: 'Query' },
            { key: 'scans', title: 'Scan' },
            { key: 'otherDynamo', title: 'other DynamoDB' },
            { key: 'itemsRead', title: 'items read' },
            { key: 'putEvents', title: 'PutEvents' },
            { key: 'expectedPutEvents', title: 'ceil(due/10)' },
            { key: 'events', title: 'SyncRequested' },
            { key: 'refused', title: 'refused' },
          ],
          rows,
          notes: [
            `Scan requests during the dispatches: ${scans} (the due index is read with ${DUE_SHARDS} sharded Queries plus one per extra 1 MB page)`,
            `rows where PutEvents != ceil(due/10), events != due or due != N + preexisting: ${mismatched.length === 0 ? 'none' : mismatched.map((m) => `N=${m.n}`).join(', ')}`,
            `due integrations already in the shared table before seeding: ${preexisting}; sizes are cumulative (each row dispatches everything seeded so far)`,
            `the seeded integrations are active and healthy, so the dispatcher raises no degraded-for-an-hour alerts (integration.alert published: ${measured.map((m) => m.alerts).join(', ')})`,
            'index read ms: dispatch start to the last Query answer; publish ms: the rest (sequential PutEvents of 10 to the in-process bus over HTTP)',
            'dispatchDueSyncs publishes page by page (events wait for full batches of 10); dynalite, the bus and the dispatcher share this one process',
            ...seedNotes,
            `section time, seeding included: ${((performance.now() - sectionStarted) / 1000).toFixed(1)}s (budget ${budget}s, BENCH_DISPATCH_BUDGET)`,
            ...extrapolated.map(
              (e) =>
                `N=${e.n} NOT MEASURED: it would have needed ~${e.projectedSeconds.toFixed(0)}s more, past the ${budget}s budget (BENCH_DISPATCH_BUDGET); wall time scaled linearly from N=${e.from}, Query count from the item size (~${itemBytes} bytes, 1 MB pages per shard), PutEvents = ceil(N/10)`,
            ),
          ],
        },
      ],
      data: {
        sizes,
        budgetSeconds: budget,
        preexistingDue: preexisting,
        approximateItemBytes: itemBytes,
        shards: DUE_SHARDS,
        measured: measured.map((m): Json => ({ ...m })),
        extrapolated: extrapolated.map((e): Json => ({ ...e })),
        scans,
        mismatchedRows: mismatched.map((m) => m.n),
        seededItemsLeftInTable: seeded,
      },
    };
  },
};
