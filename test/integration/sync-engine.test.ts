import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../shared/oauth/errors';
import { dynamo } from '../../shared/store/client';
import { createIntegration, getIntegration, updateLatestIntegration } from '../../shared/store/integrations';
import { keys } from '../../shared/store/keys';
import { acquireSyncLease, listRecords, listSyncLogs, loadCursor, renewSyncLease, scheduleSync } from '../../shared/store/sync';
import { replaceCredentials } from '../../shared/store/tokens';
import { dispatchDueSyncs } from '../../shared/sync/dispatch';
import { runSync } from '../../shared/sync/engine';
import { CursorResetError, type ProviderSync, type RecordChange } from '../../shared/sync/types';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';

/**
 * The engine's guarantees with a scripted provider: resume after a crash
 * between pages (nothing lost or duplicated), deletions, cursor resets,
 * lease contention, a disconnect mid-sync, alerts, and the dispatcher.
 */
let events: Awaited<ReturnType<typeof startTestEventBus>>;
beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
  process.env.SANDBOX_BASE_URL = 'http://127.0.0.1:9/sandbox';
});
afterAll(() => events.close());

interface Script {
  items: Map<string, Record<string, unknown>>;
  deleted: Set<string>;
  pageSize: number;
  /** Called before each page; may throw to simulate failures. */
  beforePage?: (cursor: string | undefined, call: number) => Promise<void> | void;
  calls: number;
}

function scripted(script: Script): ProviderSync {
  return {
    credentialKind: 'slack-bot',
    resources: {
      items: {
        keepCursorAfterPass: false,
        async pull({ cursor }) {
          script.calls += 1;
          await script.beforePage?.(cursor, script.calls);
          const ids = [...script.items.keys(), ...script.deleted].sort();
          const start = cursor === undefined ? 0 : Number(cursor);
          const slice = ids.slice(start, start + script.pageSize);
          const changes: RecordChange[] = slice.map((id) =>
            script.deleted.has(id) ? { externalId: id, op: 'delete' } : { externalId: id, op: 'upsert', data: script.items.get(id) ?? {} },
          );
          const next = start + script.pageSize < ids.length ? String(start + script.pageSize) : undefined;
          return { changes, cursor: next, complete: next === undefined };
        },
      },
    },
  };
}

async function connectedIntegration() {
  const record = integrationRecord(uniqueOrg('sync'), { providerId: 'slack' });
  await createIntegration(record);
  await replaceCredentials({ orgId: record.orgId, integrationId: record.id, providerId: 'slack' }, [{ kind: 'slack-bot', accessToken: 'xoxb-test', scopes: [] }]);
  return record;
}

const newScript = (count: number): Script => ({
  items: new Map(Array.from({ length: count }, (_, n) => [`U${String(n).padStart(5, '0')}`, { name: `user ${n}` }])),
  deleted: new Set(),
  pageSize: 100,
  calls: 0,
});

async function allRecords(orgId: string, integrationId: string) {
  const records = [];
  let cursor: string | undefined;
  do {
    const page = await listRecords(orgId, integrationId, 'items', cursor, 500);
    records.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return records;
}

describe('sync engine', () => {
  it('a crash between pages loses and duplicates nothing: the next run resumes from the saved cursor', async () => {
    const integration = await connectedIntegration();
    const script = newScript(250);
    script.beforePage = (_cursor, call) => {
      if (call === 2) throw new ProviderError('slack', 'http_503', 503, 'transient');
    };
    await expect(runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script))).rejects.toBeInstanceOf(ProviderError);
    expect(await loadCursor(integration.orgId, integration.id, 'items')).toBe('100');
    expect(await allRecords(integration.orgId, integration.id)).toHaveLength(100);
    expect(await getIntegration(integration.orgId, integration.id)).toMatchObject({ healthStatus: 'degraded', healthReason: 'sync_failed:http_503' });

    script.beforePage = undefined;
    expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script))).toBe('succeeded');
    const records = await allRecords(integration.orgId, integration.id);
    expect(records).toHaveLength(250);
    expect(new Set(records.map((record) => record.externalId)).size).toBe(250);
    const logs = (await listSyncLogs(integration.orgId, integration.id)).items;
    expect(logs.map((log) => log.outcome)).toEqual(['succeeded', 'failed']);
    expect(logs[0]?.counts.items).toEqual({ created: 150, updated: 0, deleted: 0 });
    expect(await getIntegration(integration.orgId, integration.id)).toMatchObject({ healthStatus: 'healthy', healthReason: 'synced', consecutiveSyncFailures: 0 });
    expect(events.eventsOfType('integration.synced').some((event) => (event.detail as { integrationId?: string }).integrationId === integration.id)).toBe(true);
  });

  it('propagates deletions as tombstones', async () => {
    const integration = await connectedIntegration();
    const script = newScript(20);
    await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script));
    for (const id of ['U00003', 'U00007']) {
      script.items.delete(id);
      script.deleted.add(id);
    }
    await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script));
    const records = await allRecords(integration.orgId, integration.id);
    expect(records.filter((record) => record.deleted).map((record) => record.externalId)).toEqual(['U00003', 'U00007']);
    expect((await listSyncLogs(integration.orgId, integration.id)).items[0]?.counts.items).toEqual({ created: 0, updated: 18, deleted: 2 });
  });

  it('within one page, the last change of an item wins (Graph can list an item twice)', async () => {
    const integration = await connectedIntegration();
    const twice: ProviderSync = {
      credentialKind: 'slack-bot',
      resources: {
        items: {
          keepCursorAfterPass: false,
          pull: async () => ({
            changes: [
              { externalId: 'X1', op: 'upsert', data: { v: 1 } },
              { externalId: 'X2', op: 'upsert', data: { v: 1 } },
              { externalId: 'X1', op: 'delete' },
              { externalId: 'X2', op: 'upsert', data: { v: 2 } },
            ],
            cursor: undefined,
            complete: true,
          }),
        },
      },
    };
    await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => twice);
    const records = await allRecords(integration.orgId, integration.id);
    expect(records.find((record) => record.externalId === 'X1')?.deleted).toBe(true);
    expect(records.find((record) => record.externalId === 'X2')?.data).toEqual({ v: 2 });
  });

  it('a cursor the provider invalidated starts a full pass', async () => {
    const integration = await connectedIntegration();
    const script = newScript(30);
    script.beforePage = (cursor) => {
      if (cursor === '100') throw new CursorResetError('items');
    };
    const { saveCursor } = await import('../../shared/store/sync');
    await saveCursor(integration.orgId, integration.id, 'items', '100');
    expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script))).toBe('succeeded');
    expect(await allRecords(integration.orgId, integration.id)).toHaveLength(30);
  });

  it('one sync at a time: a request during a sync coalesces into exactly one more pass', async () => {
    const integration = await connectedIntegration();
    const script = newScript(10);
    let second: Promise<unknown> | undefined;
    script.beforePage = (_cursor, call) => {
      if (call === 1) second = runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'webhook' }, () => scripted(script));
    };
    expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'manual' }, () => scripted(script))).toBe('succeeded');
    // It saw the holder alive (the lease renewed after the page), so it left its note and did not run.
    expect(await second).toBe('coalesced');
    expect(script.calls).toBe(2); // the original pass and the coalesced one
    expect((await listSyncLogs(integration.orgId, integration.id)).items).toHaveLength(2);
  });

  it('a held lease makes a request coalesce without running', async () => {
    const integration = await connectedIntegration();
    expect(await acquireSyncLease(integration.orgId, integration.id, 'someone-else', 60_000)).toBe(true);
    // A live holder renews its lease as it works.
    const renewing = setInterval(() => void renewSyncLease(integration.orgId, integration.id, 'someone-else', 60_000), 200);
    const script = newScript(5);
    try {
      expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'manual' }, () => scripted(script))).toBe('coalesced');
    } finally {
      clearInterval(renewing);
    }
    expect(script.calls).toBe(0);
  });

  it('a disconnect during a sync stops it cleanly, and disconnected integrations never sync', async () => {
    const integration = await connectedIntegration();
    const script = newScript(300);
    script.beforePage = async (_cursor, call) => {
      if (call === 1) await updateLatestIntegration(integration.orgId, integration.id, { status: 'disconnected', healthStatus: 'disconnected', healthReason: 'user_disconnected' });
    };
    expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script))).toBe('skipped');
    expect(script.calls).toBe(1);
    expect((await listSyncLogs(integration.orgId, integration.id)).items[0]).toMatchObject({ outcome: 'skipped', errorCode: 'disconnected' });
    expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script))).toBe('skipped');
    expect(script.calls).toBe(1);
  });

  it('three failed syncs in a row raise integration.alert; a refusal is not retried', async () => {
    const integration = await connectedIntegration();
    const script = newScript(5);
    script.beforePage = () => {
      throw new ProviderError('slack', 'missing_scope', 200, 'rejected');
    };
    for (let i = 0; i < 3; i += 1) {
      expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script))).toBe('failed');
    }
    const alerts = events.eventsOfType('integration.alert').filter((event) => (event.detail as { integrationId?: string }).integrationId === integration.id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.detail).toMatchObject({ reason: 'sync_failing', consecutiveFailures: 3, errorCode: 'missing_scope' });
  });
});

/** Counts the store's write requests (Put, Update, Delete) of one item from now on; `stop` takes the counter off the client. */
function countItemWrites(pk: string, sk: string): { count: () => number; stop: () => void } {
  const name = `test-item-writes-${sk}`;
  let count = 0;
  dynamo().middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { pk?: unknown; sk?: unknown }; Item?: { pk?: unknown; sk?: unknown } };
      const key = input.Key ?? input.Item;
      if (/^(Put|Update|Delete)ItemCommand$/.test(context.commandName ?? '') && key?.pk === pk && key.sk === sk) count += 1;
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { count: () => count, stop: () => dynamo().middlewareStack.remove(name) };
}

describe('writes of the integration item', () => {
  it('a sync writes the integration item twice, succeeded or failed: `syncing`, then its outcome with the bookkeeping (last sync, failures, next run)', async () => {
    const integration = await connectedIntegration();
    const script = newScript(5);
    const writes = countItemWrites(keys.org(integration.orgId), keys.integration(integration.id));
    try {
      expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script))).toBe('succeeded');
      expect(writes.count()).toBe(2);
      const synced = await getIntegration(integration.orgId, integration.id);
      expect(synced).toMatchObject({ healthStatus: 'healthy', healthReason: 'synced', consecutiveSyncFailures: 0 });
      expect(synced?.lastSyncAt).toBeDefined();
      script.beforePage = () => {
        throw new ProviderError('slack', 'missing_scope', 200, 'rejected');
      };
      expect(await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script))).toBe('failed');
      expect(writes.count()).toBe(4);
    } finally {
      writes.stop();
    }
    expect(await getIntegration(integration.orgId, integration.id)).toMatchObject({ healthStatus: 'degraded', healthReason: 'sync_failed:missing_scope', consecutiveSyncFailures: 1 });
  });
});

describe('health events around syncs', () => {
  it('a routine sync announces nothing; a failure and the recovery are each announced once', async () => {
    const integration = await connectedIntegration();
    const script = newScript(5);
    const changes = () =>
      events
        .eventsOfType('integration.health_changed')
        .filter((event) => (event.detail as { integrationId?: string }).integrationId === integration.id)
        .map((event) => `${(event.detail as { from: string }).from}->${(event.detail as { to: string }).to}`);
    await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script));
    const afterFirst = changes().length; // connected -> synced: a reason change, announced once
    await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script));
    expect(changes().length).toBe(afterFirst);
    script.beforePage = () => {
      throw new ProviderError('slack', 'http_503', 503, 'transient');
    };
    await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script)).catch(() => undefined);
    script.beforePage = undefined;
    await runSync({ orgId: integration.orgId, integrationId: integration.id, trigger: 'test' }, () => scripted(script));
    expect(changes().slice(afterFirst)).toEqual(['healthy->degraded', 'degraded->healthy']);
  });
});

describe('dispatcher', () => {
  it('publishes SyncRequested for exactly the due integrations, found through the sharded index', async () => {
    const due = await Promise.all(Array.from({ length: 23 }, () => connectedIntegration()));
    const later = await connectedIntegration();
    for (const integration of due) await scheduleSync(integration.orgId, integration.id, new Date(Date.now() - 60_000));
    await scheduleSync(later.orgId, later.id, new Date(Date.now() + 10 * 60_000));
    const before = events.eventsOfType('SyncRequested').length;
    const result = await dispatchDueSyncs();
    expect(result.published).toBeGreaterThanOrEqual(23);
    const published = events.eventsOfType('SyncRequested').slice(before).map((event) => (event.detail as { integrationId: string; trigger: string }));
    for (const integration of due) expect(published.some((detail) => detail.integrationId === integration.id && detail.trigger === 'scheduled')).toBe(true);
    expect(published.some((detail) => detail.integrationId === later.id)).toBe(false);
  });
});

describe('alerts for persisting problems', () => {
  it('an integration degraded for an hour raises one integration.alert at dispatch, not two', async () => {
    const integration = await connectedIntegration();
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    await updateLatestIntegration(integration.orgId, integration.id, { healthStatus: 'degraded', healthReason: 'sync_failed:http_503', healthChangedAt: twoHoursAgo });
    await scheduleSync(integration.orgId, integration.id, new Date(Date.now() - 60_000));
    const alertsFor = () => events.eventsOfType('integration.alert').filter((event) => (event.detail as { integrationId?: string }).integrationId === integration.id);
    await dispatchDueSyncs();
    expect(alertsFor()).toHaveLength(1);
    expect(alertsFor()[0]?.detail).toMatchObject({ reason: 'degraded_for_an_hour', healthReason: 'sync_failed:http_503' });
    await dispatchDueSyncs();
    expect(alertsFor()).toHaveLength(1);
  });
});
