import * as z from 'zod';
import type { DomainEvent } from '../events/catalog';
import { publishEvents } from '../events/publisher';
import { dueItems } from '../store/due';
import { syncKeys } from '../store/sync';

/**
 * The 15-minute dispatcher: integrations whose next sync is due, found
 * through the sharded `due` index (never a Scan), each published as
 * `SyncRequested` (PutEvents, 10 per call). It writes nothing: the worker
 * reschedules after a sync, so an integration whose sync failed is simply
 * due again next time, and a duplicate request coalesces on the sync lease.
 */
const dueIntegration = z.object({ orgId: z.string(), id: z.string(), providerId: z.string() });

export async function dispatchDueSyncs(now: Date = new Date()): Promise<{ due: number; published: number }> {
  const due = (await dueItems(syncKeys.syncDuePrefix, now)).flatMap((item) => {
    const parsed = dueIntegration.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
  const events: DomainEvent[] = due.map((integration) => ({
    type: 'SyncRequested',
    orgId: integration.orgId,
    integrationId: integration.id,
    detail: { providerId: integration.providerId, trigger: 'scheduled' },
  }));
  await publishEvents(events, now);
  return { due: due.length, published: events.length };
}
