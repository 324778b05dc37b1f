import type { IntegrationRecord } from '../../shared/domain/integration';
import { createIntegration } from '../../shared/store/integrations';
import { hashSecret, saveSubscription, type SubscriptionRecord } from '../../shared/store/subscriptions';
import { integrationRecord, uniqueOrg } from './api';

/**
 * A push subscription (Google channel, Gmail watch or Graph subscription) of
 * its own integration, connected unless told otherwise: webhooks deliver only
 * to connected integrations.
 */
export async function seedSubscription(
  channel: 'google' | 'google-gmail' | 'microsoft',
  resource: string,
  secret: string,
  overrides: Partial<SubscriptionRecord> = {},
  status: IntegrationRecord['status'] = 'active',
): Promise<SubscriptionRecord> {
  const providerId = channel === 'microsoft' ? 'microsoft' : 'google';
  const integration = integrationRecord(uniqueOrg('push'), { providerId, status });
  await createIntegration(integration);
  const record: SubscriptionRecord = {
    orgId: integration.orgId,
    integrationId: integration.id,
    providerId,
    channel,
    subscriptionId: `sub-${Math.random().toString(36).slice(2)}`,
    resource,
    secretHash: hashSecret(secret),
    channelExpiresAt: new Date(Date.now() + 6 * 24 * 3600_000).toISOString(),
    createdAt: new Date().toISOString(),
    ...overrides,
  };
  await saveSubscription(record);
  return record;
}
