import { logger } from '../../shared/logging/logger';
import { countWebhookOutcome } from '../../shared/metrics';
import { handleAsanaEvents, handleAsanaHandshake } from '../../shared/providers/asana/webhook';
import { deliveryAnswer } from '../../shared/webhooks/delivery-log';
import { webhookHandler } from '../../shared/webhooks/handler';

/**
 * POST /api/webhooks/asana?subscription=<id>&org=<org>&integration=<id> — Asana's handshake (an
 * `X-Hook-Secret` to echo) and its signed event deliveries.
 */
export const handler = webhookHandler('asana', async ({ rawBody, headers, query }) => {
  const secret = headers['x-hook-secret'];
  const outcome = secret !== undefined ? await handleAsanaHandshake(query, secret) : await handleAsanaEvents(query, headers['x-hook-signature'], rawBody);
  countWebhookOutcome(outcome.outcome);
  logger.info('Asana delivery handled', { outcome: outcome.outcome });
  const answer = deliveryAnswer(outcome);
  return outcome.echo ? { ...answer, headers: { ...answer.headers, 'x-hook-secret': outcome.echo } } : answer;
});
