import { logger } from '../../shared/logging/logger';
import { countWebhookOutcome } from '../../shared/metrics';
import { graphNotificationBody, handleGraphNotifications } from '../../shared/providers/microsoft/webhook';
import { deliveryAnswer } from '../../shared/webhooks/delivery-log';
import { webhookHandler, webhookResponse } from '../../shared/webhooks/handler';

/**
 * POST /api/webhooks/microsoft — Graph change and lifecycle notifications.
 * `?validationToken=` is the subscription handshake: echo it as text/plain.
 */
export const handler = webhookHandler('microsoft', async ({ rawBody, query }) => {
  const validationToken = query.validationToken;
  if (validationToken !== undefined) {
    if (validationToken.length > 1024) return webhookResponse(400, '', 'text/plain');
    return webhookResponse(200, validationToken, 'text/plain');
  }
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return webhookResponse(400, { success: false, error: { code: 'bad_request', message: 'Body is not JSON' } });
  }
  const body = graphNotificationBody.safeParse(json);
  if (!body.success) return webhookResponse(400, { success: false, error: { code: 'validation_failed', message: 'Not a Graph notification' } });
  const outcome = await handleGraphNotifications(body.data);
  countWebhookOutcome(outcome.outcome);
  logger.info('Graph notifications handled', { outcome: outcome.outcome, count: body.data.value.length });
  return deliveryAnswer(outcome);
});
