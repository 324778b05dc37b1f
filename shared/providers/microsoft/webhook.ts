import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { DomainEvent } from '../../events/catalog';
import { publishEvents } from '../../events/publisher';
import { findSubscription, saveSubscription, secretMatches, type SubscriptionRecord } from '../../store/subscriptions';
import { claimDelivery, releaseDelivery } from '../../webhooks/dedupe';
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
  const verified: Array<{ subscription: SubscriptionRecord; notification: z.infer<typeof item> }> = [];
  for (const notification of body.value) {
    const subscription = await findSubscription('microsoft', notification.subscriptionId);
    // One forged item taints the whole delivery: nothing of it is processed.
    if (!subscription || !secretMatches(subscription, notification.clientState)) return { status: 401, outcome: 'unauthorized' };
    verified.push({ subscription, notification });
  }

  const events: DomainEvent[] = [];
  const claimed: string[] = [];
  let dropped = 0;
  try {
    for (const { subscription, notification } of verified) {
      if (!(await deliversTo(subscription))) {
        dropped += 1;
        continue;
      }
      const id = deliveryId(notification);
      if (!(await claimDelivery('microsoft', id))) continue;
      claimed.push(id);
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
  return { status: 202, outcome: events.length > 0 ? 'processed' : dropped > 0 ? 'dropped' : 'duplicate' };
}

async function lifecycle(subscription: SubscriptionRecord, event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): Promise<DomainEvent[]> {
  if (event === 'missed') return changeEvents(subscription, { lifecycleEvent: event }, true);
  // Renew now: the renewal job finds it due immediately (its expiry moved to within the renewal window).
  await saveSubscription({ ...subscription, channelExpiresAt: new Date(Date.now() + 60_000).toISOString() });
  return event === 'subscriptionRemoved' ? changeEvents(subscription, { lifecycleEvent: event }, true) : [];
}
