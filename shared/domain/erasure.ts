import { getIntegration, updateLatestIntegration } from '../store/integrations';
import { ERASURE_GRACE_DAYS, expireIntegrationItems } from '../store/retention';
import { disconnectIntegration } from './disconnect';
import { notFound } from './errors';

/** GDPR erasure: hidden at once, purged by TTL after the grace period (README "Retention"). */
export interface ErasureReceipt {
  integrationId: string;
  erasedAt: string;
  purgeAt: string;
  removes: { integration: number; consents: number; syncLogs: number; records: number; subscriptions: number };
}

/**
 * Erasure: disconnect first (revocation, tokens dropped, webhooks stopped),
 * then hide everything of the integration now and let TTL purge it after the
 * grace period. Erasing an erased or unknown integration is a 404.
 */
export async function eraseIntegration(caller: { orgId: string; userId: string }, integrationId: string, now: Date = new Date()): Promise<ErasureReceipt> {
  const integration = await getIntegration(caller.orgId, integrationId);
  if (!integration || integration.status === 'erased') throw notFound('Integration');
  if (integration.status === 'active') await disconnectIntegration(caller, integrationId);
  const purgeAt = new Date(now.getTime() + ERASURE_GRACE_DAYS * 86_400_000);
  await updateLatestIntegration(caller.orgId, integrationId, { status: 'erased', healthReason: 'erased' });
  const counts = await expireIntegrationItems(caller.orgId, integrationId, purgeAt);
  return {
    integrationId,
    erasedAt: now.toISOString(),
    purgeAt: purgeAt.toISOString(),
    removes: {
      integration: counts.INT ?? 0,
      consents: counts.CONSENT ?? 0,
      syncLogs: counts.LOG ?? 0,
      records: counts.REC ?? 0,
      subscriptions: counts.SUB ?? 0,
    },
  };
}
