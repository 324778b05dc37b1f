import { logger } from '../../shared/logging/logger';
import { countWebhookOutcome } from '../../shared/metrics';
import { handleNotionDelivery } from '../../shared/providers/notion/webhook';
import { deliveryAnswer } from '../../shared/webhooks/delivery-log';
import { webhookHandler } from '../../shared/webhooks/handler';

/**
 * POST /api/webhooks/notion — the one-time verification token and signed
 * events of the Notion public integration's webhook.
 */
export const handler = webhookHandler('notion', async ({ rawBody, headers }) => {
  const outcome = await handleNotionDelivery(rawBody, headers['x-notion-signature']);
  countWebhookOutcome(outcome.outcome);
  logger.info('Notion delivery handled', { outcome: outcome.outcome });
  return deliveryAnswer(outcome);
});
