import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../shared/oauth/errors';
import { createIntegration, getIntegration, updateLatestIntegration } from '../../shared/store/integrations';
import { SYNC_INTERVAL_MS, acquireSyncLease, listRecords, listSyncLogs, renewSyncLease, scheduleSync } from '../../shared/store/sync';
import { replaceCredentials } from '../../shared/store/tokens';
import { dispatchDueSyncs } from '../../shared/sync/dispatch';
import { runWithDeadline } from '../../shared/deadline';
import { SYNC_LEASE_MS, SYNC_STOP_MARGIN_MS, runSync } from '../../shared/sync/engine';
import type { ProviderSync } from '../../shared/sync/types';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';

/**
 * The 15-minute promise and the lease that must not outlive a crash: the
 * dispatcher's clock is driven through several cycles, and a dead run's lease
 * is taken over.
 */
let events: Awaited<ReturnType<typeof startTestEventBus>>;
beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
  process.env.SANDBOX_BASE_URL = 'http://127.0.0.1:9/sandbox';
});
afterAll(() => events.close());

/** One page of one item: a sync that succeeds at once. */
const quick: ProviderSync = {
  credentialKind: 'slack-bot',
  resources: {
    items: {
      keepCursorAfterPass: false,
      pull: () => Promise.resolve({ changes: [{ externalId: 'U1', op: 'upsert', data: {} }], cursor: undefined, complete: true }),
    },
  },
};

async function connectedIntegration() {
  const record = integrationRecord(uniqueOrg('schedule'), { providerId: 'slack' });
  await createIntegration(record);
  await replaceCredentials({ orgId: record.orgId, integrationId: record.id, providerId: 'slack' }, [{ kind: 'slack-bot', accessToken: 'xoxb-test', scopes: [] }]);
  return record;
}

const requestsFor = (integrationId: string) =>
  events.eventsOfType('SyncRequested').filter((event) => (event.detail as { integrationId?: string }).integrationId === integrationId).length;

describe('every 15 minutes means every 15 minutes', () => {
  it('through six dispatch cycles (the schedule firing a little late or early), each one syncs the integration: 15-minute intervals, never 30', async () => {
    const record = await connectedIntegration();
    // The cycles lie in the past, so each run ends well after the dispatch that asked for it (as a real run
    // ends seconds later): the next one must be due 15 minutes after the request, not after the run.
    const start = Date.now() - 2 * 60 * 60 * 1000;
    await scheduleSync(record.orgId, record.id, new Date(start));
    // Where each run of the 15-minute schedule lands: on time, seconds late, seconds early.
    const drift = [0, -3_000, 2_000, 45_000, 1_000, 30_000];
    const syncedAt: number[] = [];
    for (const [cycle, offset] of drift.entries()) {
      const dispatchAt = new Date(start + cycle * SYNC_INTERVAL_MS + offset);
      const before = requestsFor(record.id);
      await dispatchDueSyncs(dispatchAt);
      if (requestsFor(record.id) === before) continue;
      // The worker gets the event with the dispatcher's time, as EventBridge delivers it.
      expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'scheduled', requestedAt: dispatchAt.toISOString() }, () => quick)).toBe('succeeded');
      syncedAt.push(dispatchAt.getTime());
    }
    expect(syncedAt).toHaveLength(drift.length);
    const intervals = syncedAt.slice(1).map((at, n) => (at - (syncedAt[n] ?? 0)) / 60_000);
    for (const minutes of intervals) expect(minutes).toBeGreaterThan(14);
    for (const minutes of intervals) expect(minutes).toBeLessThan(16);
  });
});

describe('a crashed sync does not block the integration', () => {
  it('a run that died a minute ago no longer holds the integration; a live one coalesces the request', async () => {
    const record = await connectedIntegration();
    // A run that took the lease 61 seconds ago and died (kill -9, a Lambda timeout) without renewing it.
    await acquireSyncLease(record.orgId, record.id, 'dead-run', SYNC_LEASE_MS, Date.now() - 61_000);
    expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual' }, () => quick)).toBe('succeeded');
    expect((await getIntegration(record.orgId, record.id))?.healthStatus).toBe('healthy');

    await acquireSyncLease(record.orgId, record.id, 'live-run', SYNC_LEASE_MS);
    const renewing = setInterval(() => void renewSyncLease(record.orgId, record.id, 'live-run', SYNC_LEASE_MS), 200);
    try {
      expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual' }, () => quick)).toBe('coalesced');
    } finally {
      clearInterval(renewing);
    }
  });

  it('a request that arrives while a dead run still holds the lease is not lost: it takes the lease over when it lapses and runs', async () => {
    const record = await connectedIntegration();
    // Killed 58 seconds into its lease, after an earlier request had left its note.
    await acquireSyncLease(record.orgId, record.id, 'killed-run', SYNC_LEASE_MS, Date.now() - SYNC_LEASE_MS + 2_000);
    await acquireSyncLease(record.orgId, record.id, 'someone', SYNC_LEASE_MS, Date.now(), 'earlier-request');
    expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual', syncId: 'after-restart' }, () => quick)).toBe('succeeded');
    expect((await listSyncLogs(record.orgId, record.id)).items).toEqual([
      expect.objectContaining({ syncId: 'after-restart', outcome: 'succeeded', covers: ['earlier-request'] }),
    ]);
  });
});

describe('a sync about to run out of time hands over instead of being killed', () => {
  it('stops between pages, restores health, logs no failure, and the same run carries on from its cursor', async () => {
    const record = await connectedIntegration();
    let pages = 0;
    const paged: ProviderSync = {
      credentialKind: 'slack-bot',
      resources: {
        items: {
          keepCursorAfterPass: false,
          async pull({ cursor }) {
            pages += 1;
            const page = Number(cursor ?? 0);
            await new Promise((resolve) => setTimeout(resolve, 150));
            return { changes: [{ externalId: `U${page}`, op: 'upsert', data: {} }], cursor: String(page + 1), complete: page === 3 };
          },
        },
      },
    };
    const before = events.eventsOfType('SyncRequested').length;
    // The function has just over the margin left: the first page fits, then it must stop.
    const outcome = await runWithDeadline(SYNC_STOP_MARGIN_MS + 100, () =>
      runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual', syncId: 'run-1', requestedAt: new Date().toISOString() }, () => paged),
    );
    expect(outcome).toBe('skipped');
    expect(pages).toBe(1);
    expect(await getIntegration(record.orgId, record.id)).toMatchObject({ healthStatus: 'healthy', healthReason: 'connected' });
    expect((await listSyncLogs(record.orgId, record.id)).items).toEqual([]);
    const handover = events.eventsOfType('SyncRequested').slice(before).find((event) => (event.detail as { integrationId?: string }).integrationId === record.id);
    expect(handover?.detail).toMatchObject({ syncId: 'run-1', trigger: 'manual' });

    // The next invocation (the lease was released) finishes the run from page 1: one log, all four records.
    const detail = handover?.detail as { syncId: string; requestedAt: string };
    expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual', syncId: detail.syncId, requestedAt: detail.requestedAt }, () => paged)).toBe('succeeded');
    expect(pages).toBe(4); // page 0 once, then pages 1 to 3: nothing pulled twice
    expect((await listRecords(record.orgId, record.id, 'items')).items).toHaveLength(4);
    expect((await listSyncLogs(record.orgId, record.id)).items.map((log) => [log.syncId, log.outcome])).toEqual([['run-1', 'succeeded']]);
  });
});

describe('health events say what happened', () => {
  const healthEvents = (integrationId: string) =>
    events.eventsOfType('integration.health_changed').filter((event) => (event.detail as { integrationId?: string }).integrationId === integrationId);

  it('the first routine sync after connecting announces nothing (healthy stays healthy)', async () => {
    const record = await connectedIntegration();
    expect(record.healthReason).toBe('connected');
    expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'initial' }, () => quick)).toBe('succeeded');
    expect((await getIntegration(record.orgId, record.id))?.healthReason).toBe('synced');
    expect(healthEvents(record.id)).toEqual([]);
  });

  it("a failed token refresh's reason is not overwritten by the sync that failed because of it", async () => {
    const record = await connectedIntegration();
    await updateLatestIntegration(record.orgId, record.id, { healthStatus: 'degraded', healthReason: 'token_refresh_failed:http_503' });
    const failing: ProviderSync = {
      ...quick,
      resources: { items: { keepCursorAfterPass: false, pull: () => Promise.reject(new ProviderError('slack', 'http_503', 503, 'transient')) } },
    };
    await expect(runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual' }, () => failing)).rejects.toBeInstanceOf(ProviderError);
    expect(await getIntegration(record.orgId, record.id)).toMatchObject({ healthStatus: 'degraded', healthReason: 'token_refresh_failed:http_503' });
  });
});
