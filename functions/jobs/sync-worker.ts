import * as z from 'zod';
import { jobHandler } from '../../shared/jobs/job-handler';
import { runSync } from '../../shared/sync/engine';

/** On SyncRequested (EventBridge rule): sync one integration. A thrown error goes to the rule's retries, then the DLQ. */
const syncRequestedEvent = z.object({
  /** EventBridge keeps the event's id and time across its retries: they name the run, so a retried run keeps one log. */
  id: z.string().min(1).max(128),
  time: z.iso.datetime({ offset: true }).optional(),
  'detail-type': z.literal('SyncRequested'),
  detail: z.object({
    orgId: z.string().min(1),
    integrationId: z.string().min(1),
    trigger: z.string().min(1).default('event'),
    syncId: z.string().optional(),
    resource: z.string().optional(),
    full: z.boolean().optional(),
    covers: z.array(z.string().max(128)).max(100).optional(),
    /** Set when a run carries on in a new invocation: it keeps the time it was first asked for. */
    requestedAt: z.iso.datetime().optional(),
  }),
});

export const handler = jobHandler('sync-worker', async (event: unknown) => {
  const { id, time, detail } = syncRequestedEvent.parse(event);
  const outcome = await runSync({
    orgId: detail.orgId,
    integrationId: detail.integrationId,
    trigger: detail.trigger,
    syncId: detail.syncId ?? id,
    ...(detail.requestedAt ? { requestedAt: detail.requestedAt } : time ? { requestedAt: new Date(time).toISOString() } : {}),
    ...(detail.resource ? { resources: [detail.resource] } : {}),
    ...(detail.full ? { full: true } : {}),
    ...(detail.covers ? { covers: detail.covers } : {}),
  });
  return { outcome, integrationId: detail.integrationId };
});
