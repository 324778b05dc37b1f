/**
 * Records what a webhook did with a delivery, for the integrations it could
 * be attributed to (README "Webhook logs and test events"). One write per delivery; a failed
 * write is logged and forgotten: the log must never fail a webhook or make a
 * provider retry.
 */
import { logger } from '../logging/logger';
import { putWebhookLogs, type WebhookLogEntry } from '../store/webhook-logs';

export type { WebhookLogEntry } from '../store/webhook-logs';

export async function recordDeliveries(entries: readonly WebhookLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  try {
    await putWebhookLogs(entries);
  } catch (error) {
    logger.warn('Webhook delivery log not written', { count: entries.length, error });
  }
}

/** The answer to a test delivery: the test endpoint reads the outcome from it. */
export const testDeliveryAnswer = { test: true, outcome: 'test' } as const;
