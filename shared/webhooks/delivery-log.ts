/**
 * Records what a webhook did with a delivery, for the integrations it could
 * be attributed to (README "Webhook logs and test events"): the delivery's log
 * items (a rejected one on a channel counted into that channel's item of the
 * minute) and each channel's delivery stats. A failed write is logged and
 * forgotten: the log must never fail a webhook or make a provider retry.
 */
import { logger } from '../logging/logger';
import { recordChannelDelivery } from '../store/subscriptions';
import { countRejectedDelivery, putWebhookLogs, type WebhookLogEntry } from '../store/webhook-logs';
import { webhookResponse, type WebhookResult } from './handler';

export type { WebhookLogEntry } from '../store/webhook-logs';

export async function recordDeliveries(entries: readonly WebhookLogEntry[], now: Date = new Date()): Promise<void> {
  if (entries.length === 0) return;
  const counted = entries.flatMap((entry) => (entry.outcome === 'rejected' && entry.subscriptionId !== undefined ? [{ ...entry, subscriptionId: entry.subscriptionId }] : []));
  const logged = entries.filter((entry) => !(entry.outcome === 'rejected' && entry.subscriptionId !== undefined));
  const writes = [
    ...(logged.length > 0 ? [putWebhookLogs(logged, now)] : []),
    ...counted.map((entry) => countRejectedDelivery(entry, now)),
    ...entries.flatMap((entry) =>
      entry.subscriptionId === undefined ? [] : [recordChannelDelivery({ orgId: entry.orgId, integrationId: entry.integrationId, subscriptionId: entry.subscriptionId }, entry.outcome, now)],
    ),
  ];
  const failed = (await Promise.allSettled(writes)).flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failed.length > 0) logger.warn('Webhook delivery log not written', { count: entries.length, error: failed[0] });
}

/** The answer to a test delivery: the test endpoint reads the outcome from it. */
export const testDeliveryAnswer = { test: true, outcome: 'test' } as const;

/** A handled delivery's answer: the outcome in the error envelope for a refusal, the test marker for a test delivery, else empty. */
export const deliveryAnswer = (outcome: { status: number; outcome: string }): WebhookResult =>
  webhookResponse(
    outcome.status,
    outcome.status >= 400 ? { success: false, error: { code: outcome.outcome, message: outcome.outcome } } : outcome.outcome === 'test' ? testDeliveryAnswer : '',
  );
