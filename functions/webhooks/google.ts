import { logger } from '../../shared/logging/logger';
import { countWebhookOutcome } from '../../shared/metrics';
import { handleGmailPush, handleGoogleChannelNotification } from '../../shared/providers/google/webhook';
import { deliveryAnswer } from '../../shared/webhooks/delivery-log';
import { webhookHandler } from '../../shared/webhooks/handler';

/**
 * POST /api/webhooks/google — Calendar and Drive channel notifications
 * (X-Goog-* headers, empty body) and Gmail Pub/Sub pushes (OIDC bearer, JSON).
 */
export const handler = webhookHandler('google', async ({ rawBody, headers }) => {
  const outcome = headers['x-goog-channel-id'] !== undefined
    ? await handleGoogleChannelNotification(headers)
    : await handleGmailPush(headers.authorization, rawBody);
  countWebhookOutcome(outcome.outcome);
  logger.info('Google notification handled', { outcome: outcome.outcome });
  return deliveryAnswer(outcome);
});
