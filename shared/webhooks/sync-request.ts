import type { DomainEvent } from '../events/catalog';
import { findVisibleIntegration } from '../domain/lifecycle';
import type { SubscriptionRecord } from '../store/subscriptions';

/** Webhooks are off unless the subscription's integration is connected: a late notification is acknowledged and dropped. */
export async function deliversTo(subscription: SubscriptionRecord): Promise<boolean> {
  return (await findVisibleIntegration(subscription.orgId, subscription.integrationId))?.status === 'active';
}

/** The events a change notification on a subscription produces: the raw receipt, and a sync of the resource. */
export function changeEvents(subscription: SubscriptionRecord, detail: Record<string, unknown>, full = false): DomainEvent[] {
  const base = { orgId: subscription.orgId, integrationId: subscription.integrationId };
  return [
    {
      type: 'integration.webhook.received',
      ...base,
      detail: { providerId: subscription.providerId, resource: subscription.resource, subscriptionId: subscription.subscriptionId, ...detail },
    },
    {
      type: 'SyncRequested',
      ...base,
      detail: { providerId: subscription.providerId, resource: subscription.resource, trigger: 'webhook', ...(full ? { full: true } : {}) },
    },
  ];
}
