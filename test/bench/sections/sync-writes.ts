import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { inBatches } from '../../../shared/concurrency';
import { countDynamoRequests, countsDelta, inProcessStore } from '../lib/store';
import type { Json, Row, Section } from '../lib/types';

/**
 * The sync write path, old against new, on the same records: one
 * integration's records written page by page (pages of 100, as the engine
 * gets them from a provider) against dynalite in memory, twice (first every
 * record is new, then every record is an update).
 *
 * - PutItem: the previous write path, kept here as the reference: one PutItem
 *   per record, 25 in flight, `ReturnValues: ALL_OLD` telling created from
 *   updated.
 * - BatchWriteItem: shared/store/record-writes.ts, what the engine runs: one
 *   consistent BatchGetItem per 100 records (created or updated), then
 *   BatchWriteItem per 25, 4 batches in flight, unprocessed items retried.
 *
 * Write and read units are what DynamoDB on-demand would bill for these items
 * (each under 1 KB: 1 WRU per write, 1 RRU per consistent read of up to 4 KB).
 */
const PAGE = 100;

interface Pass {
  method: string;
  pass: string;
  wallMs: number;
  requests: number;
  byCommand: Record<string, number>;
  counts: { created: number; updated: number; deleted: number };
}

export const syncWritesSection: Section = {
  id: 'sync-writes',
  title: 'Sync write path: PutItem per record against BatchWriteItem',
  async run(context) {
    const total = context.options.syncRecords;
    await inProcessStore(context);
    const counter = await countDynamoRequests(context);
    const [{ dynamo, tableName }, { recordItem, writeRecords }] = await Promise.all([
      import('../../../shared/store/client'),
      import('../../../shared/store/record-writes'),
    ]);
    type Change = Parameters<typeof writeRecords>[3][number];
    const now = new Date();

    /** The previous engine's page write. */
    const putEach = async (orgId: string, changes: readonly Change[]) => {
      const counts = { created: 0, updated: 0, deleted: 0 };
      await inBatches(changes, async (change) => {
        const { Attributes } = await dynamo().send(
          new PutCommand({ TableName: tableName(), Item: recordItem(orgId, 'int_bench', 'users', change, now), ReturnValues: 'ALL_OLD' }),
        );
        counts[change.deleted ? 'deleted' : Attributes ? 'updated' : 'created'] += 1;
      });
      return counts;
    };
    const batched = (orgId: string, changes: readonly Change[]) => writeRecords(orgId, 'int_bench', 'users', changes, now);

    const pagesOf = (version: number): Change[][] =>
      Array.from({ length: Math.ceil(total / PAGE) }, (_, page) =>
        Array.from({ length: Math.min(PAGE, total - page * PAGE) }, (_, index) => {
          const n = page * PAGE + index;
          return {
            externalId: `U${String(n).padStart(8, '0')}`,
            deleted: false,
            data: { name: `Bench User ${n}`, email: `user${n}@bench.example`, title: 'Engineer', department: 'R&D', timezone: 'Europe/Paris', version },
          };
        }),
      );

    const methods = [
      { method: 'PutItem per record (previous)', write: putEach },
      { method: 'BatchWriteItem (deployed)', write: batched },
    ];
    // Warm-up, unreported: first-use costs (connections, JIT) paid once for both.
    for (const { write } of methods) await write(`bench-writes-warm-${Math.random()}`, pagesOf(0)[0] ?? []);

    const passes: Pass[] = [];
    for (const { method, write } of methods) {
      const orgId = `bench-writes-${method.split(' ')[0]}-${Date.now()}`;
      for (const [pass, version] of [['all new', 1], ['all updated', 2]] as const) {
        context.log(`sync-writes: ${method}, ${pass} (${total} records)`);
        const before = { total: counter.total(), byCommand: counter.byCommand() };
        const counts = { created: 0, updated: 0, deleted: 0 };
        const started = performance.now();
        for (const page of pagesOf(version)) {
          const written = await write(orgId, page);
          counts.created += written.created;
          counts.updated += written.updated;
          counts.deleted += written.deleted;
        }
        passes.push({
          method,
          pass,
          wallMs: performance.now() - started,
          requests: counter.total() - before.total,
          byCommand: countsDelta(before.byCommand, counter.byCommand()),
          counts,
        });
      }
    }

    const requestsOf = (prefix: string) => passes.filter((pass) => pass.method.startsWith(prefix)).reduce((sum, pass) => sum + pass.requests, 0);
    const requestRatio = () => `1/${(requestsOf('PutItem') / Math.max(1, requestsOf('BatchWriteItem'))).toFixed(0)}`;
    const rows: Row[] = passes.map((pass) => {
      const reads = pass.byCommand.BatchGetItemCommand ? pass.counts.created + pass.counts.updated : 0;
      return {
        method: pass.method,
        pass: pass.pass,
        wallMs: pass.wallMs,
        perSecond: (total / pass.wallMs) * 1000,
        requests: pass.requests,
        commands: Object.entries(pass.byCommand)
          .map(([name, count]) => `${name.replace(/Command$/, '')} ${count}`)
          .join(', '),
        counted: `${pass.counts.created}/${pass.counts.updated}/${pass.counts.deleted}`,
        wru: total,
        rru: reads,
      };
    });
    return {
      tables: [
        {
          title: `Writing ${total} records of one integration in pages of ${PAGE} (dynalite in memory, same process)`,
          columns: [
            { key: 'method', title: 'method' },
            { key: 'pass', title: 'pass' },
            { key: 'wallMs', title: 'wall ms', digits: 0 },
            { key: 'perSecond', title: 'records/s', digits: 0 },
            { key: 'requests', title: 'DynamoDB reqs' },
            { key: 'commands', title: 'by command' },
            { key: 'counted', title: 'created/updated/deleted' },
            { key: 'wru', title: 'WRU' },
            { key: 'rru', title: 'RRU' },
          ],
          rows,
          notes: [
            `BatchWriteItem sends ${requestRatio()} of the requests for the same write units; its BatchGetItem (created or updated, for the sync log) adds 1 RRU per upserted record`,
            'dynalite answers from memory in this process, so wall time here is mostly request handling; in AWS each request is a network round trip, which favours batches more',
          ],
        },
      ],
      data: passes.map((pass): Json => ({ ...pass })),
    };
  },
};
