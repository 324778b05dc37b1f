import { randomUUID } from 'node:crypto';
import { publishEvents } from '../events/publisher';
import { conflict } from './errors';
import type { IntegrationRecord } from './integration';
import { providerSync } from './sync-settings';

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
