import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntegration, getIntegration } from '../../shared/store/integrations';
import { SYNC_INTERVAL_MS, acquireSyncLease, scheduleSync } from '../../shared/store/sync';
import { replaceCredentials } from '../../shared/store/tokens';
import { dispatchDueSyncs } from '../../shared/sync/dispatch';
import { SYNC_LEASE_MS, runSync } from '../../shared/sync/engine';
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
    expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual' }, () => quick)).toBe('coalesced');
  });
});
