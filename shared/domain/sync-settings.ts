import * as z from 'zod';
import { findProvider } from '../providers/registry';
import type { ProviderSync } from '../sync/types';
import { updateLatestIntegration } from '../store/integrations';
import { SYNC_INTERVAL_MS, scheduleSync } from '../store/sync';
import { conflict, notFound, validationFailed } from './errors';
import type { IntegrationRecord } from './integration';

export function providerSync(integration: IntegrationRecord): ProviderSync {
  const sync = findProvider(integration.providerId)?.sync;
  if (!sync) throw conflict(`${integration.providerId} has no data to sync yet`);
  return sync;
}

export const syncSettingsSchema = z.object({ scheduledSync: z.boolean(), resources: z.record(z.string(), z.boolean()) });
export type SyncSettings = z.infer<typeof syncSettingsSchema>;

export function effectiveSettings(integration: IntegrationRecord): SyncSettings {
  const sync = findProvider(integration.providerId)?.sync;
  const resources = Object.fromEntries(
    Object.keys(sync?.resources ?? {}).map((resource) => [resource, integration.settings?.resources[resource] !== false]),
  );
  return { scheduledSync: integration.settings?.scheduledSync !== false, resources };
}

export async function updateSettings(
  integration: IntegrationRecord,
  change: { scheduledSync?: boolean; resources?: Record<string, boolean> },
): Promise<SyncSettings> {
  const sync = providerSync(integration);
  // The provider's own list, never a plain object's prototype (`constructor`, `toString`…).
  const unknown = Object.keys(change.resources ?? {}).filter((resource) => !Object.hasOwn(sync.resources, resource));
  if (unknown.length > 0) {
    throw validationFailed(`Unknown resource(s) for ${integration.providerId}: ${unknown.join(', ')} (known: ${Object.keys(sync.resources).join(', ')})`);
  }
  // Merged into the latest settings, so two changes made at once both stand.
  let next = effectiveSettings(integration);
  const updated = await updateLatestIntegration(integration.orgId, integration.id, (latest) => {
    const current = effectiveSettings(latest);
    next = { scheduledSync: change.scheduledSync ?? current.scheduledSync, resources: { ...current.resources, ...change.resources } };
    return { settings: next };
  });
  if (!updated) throw notFound('Integration');
  if (updated.status === 'active') {
    await scheduleSync(integration.orgId, integration.id, next.scheduledSync ? new Date(Date.now() + SYNC_INTERVAL_MS) : undefined);
  }
  return next;
}
