import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { DomainEvent } from '../../events/catalog';
import type { ProviderWebhookTest } from '../types';
import { publishEvents } from '../../events/publisher';
import { findSubscription, saveSubscription, secretMatches, type SubscriptionRecord } from '../../store/subscriptions';
import { consumeTestToken, isTestToken } from '../../store/webhook-tests';
import { claimDelivery, releaseDelivery } from '../../webhooks/dedupe';
import { recordDeliveries, type WebhookLogEntry } from '../../webhooks/delivery-log';
import { changeEvents, deliversTo } from '../../webhooks/sync-request';

/**
 * Microsoft Graph change notifications: each item names its subscription and
 * carries the clientState we set, checked in constant time against the
 * stored hash. Lifecycle notifications bring a subscription's renewal
 * forward (`reauthorizationRequired`, `subscriptionRemoved`) and ask for a
 * full resync where notifications were lost (`missed`, `subscriptionRemoved`).
 */
const item = z.looseObject({
  subscriptionId: z.string().min(1).max(128),
  clientState: z.string().max(256).optional(),
  changeType: z.string().max(64).optional(),
  resource: z.string().max(1024).optional(),
  lifecycleEvent: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']).optional(),
  subscriptionExpirationDateTime: z.string().max(64).optional(),
});
export const graphNotificationBody = z.object({ value: z.array(item).min(1).max(1000) });

export interface GraphOutcome {
  status: number;
  outcome: string;
}

/** A redelivered notification is byte-for-byte the same item: its hash is the dedupe key. */
const deliveryId = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

export async function handleGraphNotifications(body: z.infer<typeof graphNotificationBody>): Promise<GraphOutcome> {
  const verified: Array<{ subscription: SubscriptionRecord; notification: z.infer<typeof item>; test: boolean }> = [];
  const logs = new DeliveryLogs();
  for (const notification of body.value) {
    const subscription = await findSubscription('microsoft', notification.subscriptionId);
    if (!subscription) return { status: 401, outcome: 'unauthorized' };
    const test = isTestToken(notification.clientState);
    const authentic = test
      ? (await consumeTestToken(notification.clientState ?? '', subscription.subscriptionId)) !== undefined
      : secretMatches(subscription, notification.clientState);
    if (!authentic) {
      // One forged item taints the whole delivery: nothing of it is processed.
      logs.add(subscription, notification, 'rejected', { reason: test ? 'invalid_test_token' : 'invalid_client_state', test });
      await recordDeliveries(logs.entries());
      return { status: 401, outcome: 'unauthorized' };
    }
    verified.push({ subscription, notification, test });
  }

  const events: DomainEvent[] = [];
  const claimed: string[] = [];
  let dropped = 0;
  let tests = 0;
  try {
    for (const { subscription, notification, test } of verified) {
      // A test is verified and logged, never published: no event, no sync.
      if (test) {
        tests += 1;
        logs.add(subscription, notification, 'test', { test: true });
        continue;
      }
      if (!(await deliversTo(subscription))) {
        dropped += 1;
        logs.add(subscription, notification, 'dropped', { reason: 'integration_not_connected' });
        continue;
      }
      const id = deliveryId(notification);
      if (!(await claimDelivery('microsoft', id))) {
        logs.add(subscription, notification, 'duplicate');
        continue;
      }
      claimed.push(id);
      logs.add(subscription, notification, 'accepted');
      if (notification.lifecycleEvent) {
        events.push(...(await lifecycle(subscription, notification.lifecycleEvent)));
      } else {
        events.push(...changeEvents(subscription, { changeType: notification.changeType ?? null }));
      }
    }
    await publishEvents(events);
  } catch (error) {
    await Promise.all(claimed.map((id) => releaseDelivery('microsoft', id)));
    throw error;
  }
  await recordDeliveries(logs.entries());
  const outcome = claimed.length > 0 ? 'processed' : tests > 0 ? 'test' : dropped > 0 ? 'dropped' : 'duplicate';
  return { status: 202, outcome };
}

/** Graph's change types, and our test event's: anything else in a notification (anyone can send one) is logged as `unknown`. */
const CHANGE_TYPES = new Set(['created', 'updated', 'deleted', 'test']);

/** Graph batches notifications of many subscriptions: one log entry per subscription and outcome, with a count. */
class DeliveryLogs {
  private readonly byKey = new Map<string, WebhookLogEntry>();

  add(subscription: SubscriptionRecord, notification: z.infer<typeof item>, outcome: WebhookLogEntry['outcome'], extra: Partial<WebhookLogEntry> = {}): void {
    const key = `${subscription.orgId}#${subscription.integrationId}#${subscription.subscriptionId}#${outcome}`;
    const existing = this.byKey.get(key);
    if (existing) {
      existing.count = (existing.count ?? 1) + 1;
      return;
    }
    this.byKey.set(key, {
      orgId: subscription.orgId,
      integrationId: subscription.integrationId,
      providerId: 'microsoft',
      eventType: notification.lifecycleEvent ?? (notification.changeType === undefined ? 'notification' : CHANGE_TYPES.has(notification.changeType) ? notification.changeType : 'unknown'),
      subscriptionId: subscription.subscriptionId,
      resource: subscription.resource,
      outcome,
      ...extra,
    });
  }

  entries(): WebhookLogEntry[] {
    return [...this.byKey.values()];
  }
}

/** A test change notification on one of the integration's subscriptions, with a one-time test token as its clientState. */
export function microsoftTestDelivery(subscription: SubscriptionRecord, testToken: string): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      value: [{ subscriptionId: subscription.subscriptionId, clientState: testToken, changeType: 'test', resource: subscription.resourceId ?? subscription.resource }],
    }),
  };
}

export const microsoftWebhookTest: ProviderWebhookTest = {
  async build({ subscriptions, issueTestToken }) {
    const subscription = subscriptions[0];
    if (!subscription) return undefined;
    return { query: {}, ...microsoftTestDelivery(subscription, await issueTestToken(subscription)), subscriptionId: subscription.subscriptionId };
  },
};

async function lifecycle(subscription: SubscriptionRecord, event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): Promise<DomainEvent[]> {
  if (event === 'missed') return changeEvents(subscription, { lifecycleEvent: event }, true);
  // Renew now: the renewal job finds it due immediately (its expiry moved to within the renewal window).
  await saveSubscription({ ...subscription, channelExpiresAt: new Date(Date.now() + 60_000).toISOString() });
  return event === 'subscriptionRemoved' ? changeEvents(subscription, { lifecycleEvent: event }, true) : [];
}
