import * as z from 'zod';
import { raiseAlert } from '../domain/alerts';
import type { DomainEvent } from '../events/catalog';
import { publishEvents } from '../events/publisher';
import { forEachDuePage } from '../store/due';
import { updateLatestIntegration } from '../store/integrations';
import { syncKeys } from '../store/sync';

/**
 * The 15-minute dispatcher: integrations whose next sync is due, found
 * through the sharded `due` index (never a Scan), each published as
 * `SyncRequested` (PutEvents, 10 per call). It writes nothing: the worker
 * reschedules after a sync, so an integration whose sync failed is simply
 * due again next time, and a duplicate request coalesces on the sync lease.
 */
const dueIntegration = z.object({
  orgId: z.string(),
  id: z.string(),
  providerId: z.string(),
  healthStatus: z.string(),
  healthReason: z.string(),
  healthChangedAt: z.string(),
  alertedAt: z.string().optional(),
});
/** A problem that persists this long raises `integration.alert`. */
export const DEGRADED_ALERT_AFTER_MS = 60 * 60 * 1000;
/**
 * A schedule fires a little early or late, and clocks differ: what falls due
 * within this margin after a dispatch is taken by it, rather than waiting 15
 * minutes for the next one.
 */
export const DISPATCH_MARGIN_MS = 60 * 1000;

export async function dispatchDueSyncs(now: Date = new Date()): Promise<{ due: number; published: number; alerts: number }> {
  const totals = { due: 0, published: 0, alerts: 0 };
  // Events wait for full PutEvents batches of 10 across pages; the remainder goes at the end.
  let pending: DomainEvent[] = [];
  const flush = async (all: boolean) => {
    const ready = all ? pending.length : pending.length - (pending.length % 10);
    if (ready === 0) return;
    await publishEvents(pending.slice(0, ready), now);
    pending = pending.slice(ready);
  };
  // Page by page: a hundred thousand due integrations never sit in memory together.
  await forEachDuePage(syncKeys.syncDuePrefix, new Date(now.getTime() + DISPATCH_MARGIN_MS), async (items) => {
    const due = items.flatMap((item) => {
      const parsed = dueIntegration.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    });
    const events: DomainEvent[] = due.map((integration) => ({
      type: 'SyncRequested',
      orgId: integration.orgId,
      integrationId: integration.id,
      detail: { providerId: integration.providerId, trigger: 'scheduled' },
    }));
    // Degraded for an hour or more, and not alerted since it degraded: say so once.
    const stuck = due.filter(
      (integration) =>
        integration.healthStatus === 'degraded' &&
        now.getTime() - Date.parse(integration.healthChangedAt) >= DEGRADED_ALERT_AFTER_MS &&
        (integration.alertedAt === undefined || integration.alertedAt < integration.healthChangedAt),
    );
    pending.push(...events);
    await flush(false);
    for (const integration of stuck) {
      await raiseAlert({
        orgId: integration.orgId,
        integrationId: integration.id,
        kind: 'degraded',
        reason: 'degraded_for_an_hour',
        message: `The integration has been degraded for over an hour (${integration.healthReason}).`,
        detail: { healthReason: integration.healthReason, since: integration.healthChangedAt },
      });
      await updateLatestIntegration(integration.orgId, integration.id, { alertedAt: now.toISOString() });
    }
    totals.due += due.length;
    totals.published += due.length;
    totals.alerts += stuck.length;
  });
  await flush(true);
  return totals;
}
