import { publishEvents } from '../events/publisher';
import { logger } from '../logging/logger';
import { ProviderError } from '../oauth/errors';
import { getIntegration, updateLatestIntegration } from '../store/integrations';
import { expireDisconnectedLogs } from '../store/retention';
import { scheduleSync } from '../store/sync';
import { deleteCredentials, loadCredentials } from '../store/tokens';
import { closeSubscriptions } from '../webhooks/subscriptions';
import { connectableProvider, type Caller } from './connect';
import { notFound } from './errors';
import { publishHealthChanged } from './health';

/**
 * Disconnect: revoke at the provider (best effort: a provider outage must not
 * keep a user connected against their will), drop the tokens, mark the
 * integration disconnected and keep its history. Repeating it is harmless.
 */
export async function disconnectIntegration(caller: Caller, integrationId: string): Promise<void> {
  const integration = await getIntegration(caller.orgId, integrationId);
  if (!integration) throw notFound('Integration');
  const ref = { orgId: integration.orgId, integrationId: integration.id, providerId: integration.providerId };
  const stored = await loadCredentials(ref);
  const client = (() => {
    try {
      return connectableProvider(integration.providerId).client;
    } catch {
      return undefined;
    }
  })();
  // Webhooks stop first, while the access token still works.
  await closeSubscriptions(integration, client, stored?.credentials[0]?.accessToken);
  if (stored && stored.credentials.length > 0) {
    try {
      const { oauth, client } = connectableProvider(integration.providerId);
      await oauth.revoke({ client, credentials: stored.credentials });
    } catch (error) {
      logger.warn('Revocation at the provider failed; tokens are dropped anyway', {
        integrationId,
        errorCode: error instanceof ProviderError ? error.code : error instanceof Error ? error.name : 'unknown',
      });
    }
  }
  await deleteCredentials(ref);
  await scheduleSync(integration.orgId, integration.id, undefined);
  if (integration.status !== 'active') return;

  const now = new Date();
  const record = await updateLatestIntegration(integration.orgId, integration.id, {
    status: 'disconnected',
    healthStatus: 'disconnected',
    healthReason: 'user_disconnected',
    healthChangedAt: now.toISOString(),
    disconnectedAt: now.toISOString(),
  });
  if (record) await publishHealthChanged(integration, record, now);
  await expireDisconnectedLogs(integration.orgId, integration.id, now);
  await publishEvents([
    {
      type: 'integration.disconnected',
      orgId: integration.orgId,
      integrationId,
      detail: { providerId: integration.providerId, reason: 'user_disconnected', disconnectedBy: caller.userId },
    },
  ]);
}
