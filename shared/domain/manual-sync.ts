import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { publishEvents } from '../events/publisher';
import { conflict } from './errors';
import type { IntegrationRecord } from './integration';
import { providerSync } from './sync-settings';

/** What `POST /{id}/sync` answers: the queued run's id, to find among the sync logs (or their `covers`). */
export const queuedSyncSchema = z.object({ syncId: z.string(), status: z.literal('queued') });

/** A manual sync is a SyncRequested like any other, with its own id so the caller can find its log. */
export async function requestManualSync(integration: IntegrationRecord, requestedBy: string): Promise<{ syncId: string }> {
  if (integration.status !== 'active') throw conflict('Only an active integration can sync; reconnect it first');
  providerSync(integration);
  const syncId = randomUUID();
  await publishEvents([
    {
      type: 'SyncRequested',
      orgId: integration.orgId,
      integrationId: integration.id,
      detail: { providerId: integration.providerId, trigger: 'manual', syncId, requestedBy },
    },
  ]);
  return { syncId };
}
