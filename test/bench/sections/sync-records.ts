import { randomBytes } from 'node:crypto';
import type { ProviderSync, RecordChange } from '../../../shared/sync/types';
import { overrideEnv } from '../lib/env';
import { busDelta, inProcessEventBus } from '../lib/event-bus';
import { countDynamoRequests, countsDelta, inProcessStore } from '../lib/store';
import type { Json, Row, Section } from '../lib/types';

/**
 * One integration with many records through the real sync engine: `runSync`
 * with a scripted ProviderSync (the `SyncLookup` argument) that serves the
 * records in pages like a delta API (Google sync token, Graph delta link): a
 * full pass, then an incremental pass from the kept cursor with a few
 * changes. Everything the engine does runs as in the worker (lease, health,
 * per-page integration read and credential, records before cursor, sync log,
 * reschedule, `integration.synced`) against dynalite in memory and the local
 * bus. Reported: wall time, records/s and the DynamoDB requests by command and
 * kind of item (REC records, CURSOR, LOG, SYNCLEASE, INT, TOKENS).
 */
const RESOURCE = 'users';
const WARM_UP_RECORDS = 500;

export interface ScriptedSource {
  provider: ProviderSync;
  pulls(): number;
  /** Applies `count` changes (updates, creates, deletes) after what was served so far; returns the mix. */
  change(count: number): { updated: number; created: number; deleted: number };
}

/**
 * A delta-style resource: `full:<offset>:<seq>` pages through a snapshot, the
 * last page returns `delta:<seq>`; `delta:<seq>` returns the changes after seq.
 */
export function scriptedSource(total: number, pageSize: number): ScriptedSource {
  const live = new Map<string, Record<string, unknown>>();
  const log: { seq: number; id: string }[] = [];
  let seq = 0;
  let nextId = 0;
  let pulls = 0;
  const user = (n: number, version: number): Record<string, unknown> => ({
    name: `Bench User ${n}`,
    email: `user${n}@bench.example`,
    title: ['Engineer', 'Designer', 'Manager', 'Analyst'][n % 4] ?? 'Engineer',
    department: ['R&D', 'Sales', 'People', 'Finance'][n % 4] ?? 'R&D',
    timezone: 'Europe/Paris',
    isAdmin: n % 50 === 0,
    version,
  });
  const idOf = (n: number) => `U${String(n).padStart(8, '0')}`;
  const create = () => {
    const n = nextId++;
    live.set(idOf(n), user(n, 1));
    log.push({ seq: ++seq, id: idOf(n) });
  };
  for (let n = 0; n < total; n += 1) create();

  const changeOf = (id: string): RecordChange => {
    const data = live.get(id);
    return data ? { externalId: id, op: 'upsert', data } : { externalId: id, op: 'delete' };
  };

  const provider: ProviderSync = {
    credentialKind: 'slack-bot',
    resources: {
      [RESOURCE]: {
        keepCursorAfterPass: true,
        async pull({ cursor }) {
          pulls += 1;
          if (cursor === undefined || cursor.startsWith('full:')) {
            const [, offsetText, seqText] = (cursor ?? `full:0:${seq}`).split(':');
            const offset = Number(offsetText);
            const ids = [...live.keys()].sort();
            const slice = ids.slice(offset, offset + pageSize);
            const done = offset + pageSize >= ids.length;
            return {
              changes: slice.map(changeOf),
              cursor: done ? `delta:${seqText}` : `full:${offset + pageSize}:${seqText}`,
              complete: done,
            };
          }
          const since = Number(cursor.slice('delta:'.length));
          const after = log.filter((entry) => entry.seq > since);
          // One change per record: the newest state of each id, as delta APIs report it.
          const page = after.slice(0, pageSize);
          const last = page.at(-1)?.seq ?? since;
          return { changes: [...new Set(page.map((entry) => entry.id))].map(changeOf), cursor: `delta:${last}`, complete: after.length <= pageSize };
        },
      },
    },
  };

  return {
    provider,
    pulls: () => pulls,
    change(count) {
      const deleted = Math.floor(count / 10);
      const created = Math.floor(count / 10);
      const updated = count - deleted - created;
      const ids = [...live.keys()];
      // Spread over the id range: every k-th record changes.
      const step = Math.max(1, Math.floor(ids.length / (updated + deleted)));
      const picked = Array.from({ length: updated + deleted }, (_, index) => ids[(index * step) % ids.length] ?? '');
      picked.slice(0, updated).forEach((id, index) => {
        const data = live.get(id) ?? {};
        live.set(id, { ...data, title: `Changed ${index}`, version: Number(data.version ?? 1) + 1 });
        log.push({ seq: ++seq, id });
      });
      for (const id of picked.slice(updated)) {
        live.delete(id);
        log.push({ seq: ++seq, id });
      }
      for (let index = 0; index < created; index += 1) create();
      return { updated, created, deleted };
    },
  };
}

/** The store client's requests are named by the low-level commands (`PutItemCommand`, `GetItemCommand`…). */
const isWrite = (command: string) => /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)Command/.test(command);

interface PassResult {
  label: string;
  pageSize: number;
  pass: 'full' | 'incremental';
  changes: number;
  outcome: string;
  pages: number;
  wallMs: number;
  records: number;
  dynamoTotal: number;
  refused: number;
  reads: number;
  writes: number;
  byItemKind: Record<string, number>;
  putEvents: number;
  events: Record<string, number>;
  logCounts: { created: number; updated: number; deleted: number } | null;
}

export const syncRecordsSection: Section = {
  id: 'sync-records',
  title: 'Sync engine: one integration with many records',
  async run(context) {
    const { syncRecords: total, syncPageSizes: pageSizes, syncChanges: changes } = context.options;
    await inProcessStore(context);
    const counter = await countDynamoRequests(context);
    const bus = await inProcessEventBus(context);
    const restoreEnv = overrideEnv({
      // The vault's configuration is read once per process: an earlier section's key stays in force.
      INTEGRATION_ENCRYPTION_KEY: process.env.INTEGRATION_ENCRYPTION_KEY ?? randomBytes(32).toString('hex'),
      // listRecords signs its page cursors (the check below pages through the records).
      CURSOR_SIGNING_KEY: process.env.CURSOR_SIGNING_KEY ?? randomBytes(32).toString('hex'),
      // The engine wants an OAuth client for the provider; the scripted pages never call it.
      SANDBOX_BASE_URL: 'http://127.0.0.1:9/sandbox',
      SLACK_CLIENT_ID: undefined,
      SLACK_CLIENT_SECRET: undefined,
    });
    let restoreLogLevel = () => {};
    try {
      const [{ runSync }, { createIntegration }, { replaceCredentials }, { listRecords, listSyncLogs }, { integrationRecord, uniqueOrg }, { logger }] = await Promise.all([
        import('../../../shared/sync/engine'),
        import('../../../shared/store/integrations'),
        import('../../../shared/store/tokens'),
        import('../../../shared/store/sync'),
        import('../../support/api'),
        import('../../../shared/logging/logger'),
      ]);
      const previousLevel = logger.getLevelName();
      logger.setLogLevel('SILENT');
      restoreLogLevel = () => logger.setLogLevel(previousLevel);

      /** A fresh integration, connected with a non-expiring bot token (no refresh during the run). */
      const connected = async () => {
        const record = integrationRecord(uniqueOrg('bench-sync'), { providerId: 'slack' });
        await createIntegration(record);
        await replaceCredentials({ orgId: record.orgId, integrationId: record.id, providerId: 'slack' }, [
          { kind: 'slack-bot', accessToken: `xoxb-bench-${randomBytes(8).toString('hex')}`, scopes: [] },
        ]);
        return record;
      };

      // Not reported: one small sync first, so the first row does not pay first-use costs (imports, JIT, connections).
      const warmUp = await connected();
      const warmUpOutcome = await runSync({ orgId: warmUp.orgId, integrationId: warmUp.id, trigger: 'bench' }, () => scriptedSource(WARM_UP_RECORDS, 100).provider);
      if (warmUpOutcome !== 'succeeded') throw new Error(`the warm-up sync ended ${warmUpOutcome}`);

      const results: PassResult[] = [];
      const checks: string[] = [];
      for (const pageSize of pageSizes) {
        const record = await connected();
        const source = scriptedSource(total, pageSize);

        const pass = async (kind: 'full' | 'incremental', changed: number): Promise<PassResult> => {
          const before = { total: counter.total(), failed: counter.failed(), byCommand: counter.byCommand(), byItemKind: counter.byItemKind() };
          const busBefore = bus.counts();
          const pullsBefore = source.pulls();
          context.log(`sync-records: page size ${pageSize}, ${kind} pass (${kind === 'full' ? total : changed} records)`);
          const started = performance.now();
          const outcome = await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'bench' }, () => source.provider);
          const wallMs = performance.now() - started;
          const byCommand = countsDelta(before.byCommand, counter.byCommand());
          const byItemKind = countsDelta(before.byItemKind, counter.byItemKind());
          const dynamoTotal = counter.total() - before.total;
          const refused = counter.failed() - before.failed;
          const events = busDelta(busBefore, bus.counts());
          const newest = (await listSyncLogs(record.orgId, record.id, undefined, 1)).items[0];
          const logCounts = newest?.counts[RESOURCE] ?? null;
          return {
            label: `p${pageSize} ${kind}`,
            pageSize,
            pass: kind,
            changes: kind === 'full' ? total : changed,
            outcome,
            pages: source.pulls() - pullsBefore,
            wallMs,
            records: logCounts ? logCounts.created + logCounts.updated + logCounts.deleted : 0,
            dynamoTotal,
            refused,
            reads: Object.entries(byCommand).filter(([name]) => !isWrite(name)).reduce((sum, [, count]) => sum + count, 0),
            writes: Object.entries(byCommand).filter(([name]) => isWrite(name)).reduce((sum, [, count]) => sum + count, 0),
            byItemKind,
            putEvents: events.calls,
            events: events.accepted,
            logCounts,
          };
        };

        const full = await pass('full', total);
        results.push(full);
        const mix = source.change(changes);
        const incremental = await pass('incremental', changes);
        results.push(incremental);

        // What the table holds now: every record once, deletions as tombstones.
        let stored = 0;
        let tombstones = 0;
        let cursor: string | undefined;
        do {
          const page = await listRecords(record.orgId, record.id, RESOURCE, cursor, 1000);
          stored += page.items.length;
          tombstones += page.items.filter((item) => item.deleted).length;
          cursor = page.nextCursor;
        } while (cursor);
        const expectedStored = total + mix.created;
        const ok =
          full.outcome === 'succeeded' &&
          incremental.outcome === 'succeeded' &&
          stored === expectedStored &&
          tombstones === mix.deleted &&
          incremental.logCounts?.updated === mix.updated &&
          incremental.logCounts.created === mix.created &&
          incremental.logCounts.deleted === mix.deleted;
        checks.push(
          `page size ${pageSize}: ${stored} records stored (${tombstones} tombstones), expected ${expectedStored} (${mix.deleted}); incremental mix ${mix.updated} updated / ${mix.created} created / ${mix.deleted} deleted: ${ok ? 'as expected' : 'UNEXPECTED'}`,
        );
        context.log(`sync-records: page size ${pageSize}: full ${full.wallMs.toFixed(0)} ms, incremental ${incremental.wallMs.toFixed(0)} ms`);
      }

      const kind = (result: PassResult, key: string) => result.byItemKind[key] ?? 0;
      const rows: Row[] = results.map((result) => ({
        pageSize: result.pageSize,
        pass: result.pass,
        outcome: result.outcome,
        records: result.records,
        pages: result.pages,
        wallMs: result.wallMs,
        perSecond: (result.records / result.wallMs) * 1000,
        dynamo: result.dynamoTotal,
        reads: result.reads,
        writes: result.writes,
        recordBatches: kind(result, 'BatchWriteItemCommand'),
        cursorPuts: kind(result, 'PutItemCommand CURSOR'),
        logPuts: kind(result, 'PutItemCommand LOG'),
        otherWrites: result.writes - kind(result, 'BatchWriteItemCommand') - kind(result, 'PutItemCommand CURSOR') - kind(result, 'PutItemCommand LOG'),
        putEvents: result.putEvents,
      }));

      const kinds = [...new Set(results.flatMap((result) => Object.keys(result.byItemKind)))].sort(
        (a, b) => Number(isWrite(b)) - Number(isWrite(a)) || a.localeCompare(b),
      );
      const breakdown: Row[] = kinds.map((key) => ({
        request: key,
        access: isWrite(key) ? 'write' : 'read',
        ...Object.fromEntries(results.map((result, index) => [`r${index}`, result.byItemKind[key] ?? 0])),
      }));

      return {
        tables: [
          {
            title: `Sync of one integration: ${total} records, full pass then an incremental pass with ${changes} changes (runSync with a scripted provider, dynalite in memory)`,
            columns: [
              { key: 'pageSize', title: 'page size' },
              { key: 'pass', title: 'pass' },
              { key: 'outcome', title: 'outcome' },
              { key: 'records', title: 'records' },
              { key: 'pages', title: 'pages' },
              { key: 'wallMs', title: 'wall ms', digits: 0 },
              { key: 'perSecond', title: 'records/s', digits: 0 },
              { key: 'dynamo', title: 'DynamoDB reqs' },
              { key: 'reads', title: 'reads' },
              { key: 'writes', title: 'writes' },
              { key: 'recordBatches', title: 'BatchWrite REC' },
              { key: 'cursorPuts', title: 'PutItem CURSOR' },
              { key: 'logPuts', title: 'PutItem LOG' },
              { key: 'otherWrites', title: 'other writes' },
              { key: 'putEvents', title: 'PutEvents' },
            ],
            rows,
            notes: [
              `each page size syncs its own integration, after an unreported warm-up sync of ${WARM_UP_RECORDS} records`,
              'records: created + updated + deleted from the pass\'s sync log; pages: provider pulls (the incremental pass starts from the delta cursor the full pass kept)',
              'records in BatchWriteItem requests of 25 (a BatchGetItem per 100 tells created from updated: see sync-writes), one cursor PutItem per page after its records, one sync log; other writes: lease put/renew/delete, health and lastSyncAt updates, the reschedule',
              'reads: per page the integration (a disconnect stops the sync between pages) and the tokens item (opened with the local keyring); plus the cursor and the start/end reads',
              ...checks,
            ],
          },
          {
            title: 'DynamoDB requests by command and kind of item (sort key prefix), per pass',
            columns: [
              { key: 'request', title: 'request' },
              { key: 'access', title: 'access' },
              ...results.map((result, index) => ({ key: `r${index}`, title: result.label })),
            ],
            rows: breakdown,
          },
        ],
        data: {
          records: total,
          pageSizes,
          changes,
          passes: results.map(
            (result): Json => ({
              pageSize: result.pageSize,
              pass: result.pass,
              outcome: result.outcome,
              changes: result.changes,
              records: result.records,
              pages: result.pages,
              wallMs: result.wallMs,
              recordsPerSecond: (result.records / result.wallMs) * 1000,
              dynamo: { total: result.dynamoTotal, refused: result.refused, reads: result.reads, writes: result.writes, byItemKind: result.byItemKind },
              putEvents: result.putEvents,
              events: result.events,
              logCounts: result.logCounts,
            }),
          ),
          checks,
        },
      };
    } finally {
      restoreLogLevel();
      restoreEnv();
    }
  },
};
