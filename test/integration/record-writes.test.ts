import type { BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamo } from '../../shared/store/client';
import { createIntegration } from '../../shared/store/integrations';
import { BATCH_ATTEMPTS, UnprocessedItemsError, writeRecords } from '../../shared/store/record-writes';
import { listRecords, listSyncLogs, loadCursor } from '../../shared/store/sync';
import { replaceCredentials } from '../../shared/store/tokens';
import { runSync } from '../../shared/sync/engine';
import type { ProviderSync } from '../../shared/sync/types';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';

/**
 * Records are written in batches (BatchWriteItem) against dynalite. Dynalite
 * always processes a whole batch, so DynamoDB's partial answers (throttled
 * items handed back as UnprocessedItems) and failed batches are injected by a
 * middleware on the store's own client that withholds items from the real
 * request and reports them unprocessed, or fails the request.
 */
const FAULT = 'test-batch-write-fault';

type Fault = (call: number, requests: unknown[]) => { withhold: number } | 'fail' | undefined;

/** Installs `fault` on BatchWriteItem requests; returns the number of BatchWriteItem requests seen so far. */
function injectBatchWriteFault(fault: Fault): () => number {
  let calls = 0;
  dynamo().middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      calls += 1;
      const input = args.input as { RequestItems: Record<string, unknown[]> };
      const [table, requests] = Object.entries(input.RequestItems)[0] ?? ['', []];
      const decision = fault(calls, requests);
      if (decision === 'fail') throw Object.assign(new Error('injected: the batch write failed'), { name: 'InternalServerError' });
      if (!decision) return next(args);
      const kept = requests.slice(0, Math.max(0, requests.length - decision.withhold));
      const withheld = requests.slice(kept.length);
      // Everything withheld: DynamoDB answers without touching the table (an empty request would be invalid).
      if (kept.length === 0) return { output: { $metadata: {}, UnprocessedItems: { [table]: withheld } }, response: {} };
      const result = await next({ ...args, input: { ...input, RequestItems: { [table]: kept } } });
      const output = result.output as BatchWriteCommandOutput;
      return { ...result, output: { ...output, UnprocessedItems: { [table]: withheld } } };
    },
    { step: 'initialize', name: FAULT },
  );
  return () => calls;
}

let events: Awaited<ReturnType<typeof startTestEventBus>>;
beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
  process.env.SANDBOX_BASE_URL = 'http://127.0.0.1:9/sandbox';
});
afterAll(() => events.close());
afterEach(() => {
  dynamo().middlewareStack.remove(FAULT);
  vi.restoreAllMocks();
});

const upserts = (from: number, count: number) =>
  Array.from({ length: count }, (_, n) => ({ externalId: `E${String(from + n).padStart(4, '0')}`, deleted: false, data: { n: from + n } }));

async function storedIds(orgId: string, integrationId: string, resource: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listRecords(orgId, integrationId, resource, cursor, 500);
    ids.push(...page.items.map((item) => item.externalId));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

describe('batched record writes', () => {
  it('count created, updated and deleted, the last change of an id winning', async () => {
    const orgId = uniqueOrg('records');
    const now = new Date();
    expect(await writeRecords(orgId, 'int_A', 'users', upserts(0, 60), now)).toEqual({ created: 60, updated: 0, deleted: 0 });
    const second = [...upserts(50, 20), { externalId: 'E0001', deleted: true }, { externalId: 'E0002', deleted: false, data: { v: 1 } }, { externalId: 'E0002', deleted: false, data: { v: 2 } }];
    // 50-59 exist, 60-69 are new, E0002 exists (written once), E0001 becomes a tombstone.
    expect(await writeRecords(orgId, 'int_A', 'users', second, now)).toEqual({ created: 10, updated: 11, deleted: 1 });
    const page = await listRecords(orgId, 'int_A', 'users', undefined, 100);
    expect(page.items).toHaveLength(70);
    expect(page.items.find((item) => item.externalId === 'E0001')?.deleted).toBe(true);
    expect(page.items.find((item) => item.externalId === 'E0002')?.data).toEqual({ v: 2 });
  });

  it('send unprocessed items again until every record is stored', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // full jitter at its floor: no waiting
    const calls = injectBatchWriteFault((call) => (call <= 3 ? { withhold: 10 } : undefined));
    const orgId = uniqueOrg('records');
    expect(await writeRecords(orgId, 'int_B', 'users', upserts(0, 50), new Date())).toEqual({ created: 50, updated: 0, deleted: 0 });
    expect(calls()).toBeGreaterThan(2); // two batches of 25, plus the retries of what was withheld
    expect(await storedIds(orgId, 'int_B', 'users')).toHaveLength(50);
  });

  it(`give up with an error when items are still unprocessed after ${BATCH_ATTEMPTS} attempts`, async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const calls = injectBatchWriteFault(() => ({ withhold: 1 }));
    await expect(writeRecords(uniqueOrg('records'), 'int_C', 'users', upserts(0, 5), new Date())).rejects.toBeInstanceOf(UnprocessedItemsError);
    expect(calls()).toBe(BATCH_ATTEMPTS);
  });

  it('keep records before the cursor: a page whose write fails saves no cursor, and the next run resumes there', async () => {
    const record = integrationRecord(uniqueOrg('records'), { providerId: 'slack' });
    await createIntegration(record);
    await replaceCredentials({ orgId: record.orgId, integrationId: record.id, providerId: 'slack' }, [{ kind: 'slack-bot', accessToken: 'xoxb-test', scopes: [] }]);
    // Three pages of 30 records; the cursor names the next page.
    const pages: ProviderSync = {
      credentialKind: 'slack-bot',
      resources: {
        items: {
          keepCursorAfterPass: false,
          pull: async ({ cursor }) => {
            const page = Number(cursor ?? 0);
            return { changes: upserts(page * 30, 30).map(({ externalId, data }) => ({ externalId, op: 'upsert', data })), cursor: String(page + 1), complete: page === 2 };
          },
        },
      },
    };
    const request = { orgId: record.orgId, integrationId: record.id, trigger: 'test' };

    // Page 0 is two batches (calls 1-2); the first batch of page 1 fails.
    injectBatchWriteFault((call) => (call === 3 ? 'fail' : undefined));
    await expect(runSync(request, () => pages)).rejects.toThrow('injected');
    expect(await loadCursor(record.orgId, record.id, 'items')).toBe('1');
    expect((await storedIds(record.orgId, record.id, 'items')).length).toBeLessThan(60);

    dynamo().middlewareStack.remove(FAULT);
    expect(await runSync(request, () => pages)).toBe('succeeded');
    expect(await storedIds(record.orgId, record.id, 'items')).toEqual(upserts(0, 90).map((change) => change.externalId));
    const [latest] = (await listSyncLogs(record.orgId, record.id)).items;
    // The resumed run wrote pages 1 and 2; what the failed page had stored already counts as updated.
    expect((latest?.counts.items?.created ?? 0) + (latest?.counts.items?.updated ?? 0)).toBe(60);
  });
});
