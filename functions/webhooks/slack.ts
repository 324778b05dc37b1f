import { logger } from '../../shared/logging/logger';
import { countWebhookOutcome } from '../../shared/metrics';
import { processSlackDelivery } from '../../shared/providers/slack/events';
import { slackEnvelopeSchema, slackSigningSecret, verifySlackRequest } from '../../shared/providers/slack/webhook';
import { testDeliveryAnswer } from '../../shared/webhooks/delivery-log';
import { webhookHandler, webhookResponse } from '../../shared/webhooks/handler';

/**
 * POST /api/webhooks/slack[?webhook_id=<integration id>] — Slack Events API.
 * The signature is checked on the raw body before anything is parsed.
 */
const rejected = (status: number, code: string, message: string) => {
  countWebhookOutcome(code);
  return webhookResponse(status, { success: false, error: { code, message } });
};

export const handler = webhookHandler('slack', async ({ rawBody, headers, query }) => {
  const signingSecret = slackSigningSecret();
  if (!signingSecret) {
    logger.error('SLACK_SIGNING_SECRET is not configured; refusing Slack events');
    return rejected(503, 'provider_unavailable', 'Slack events are not configured');
  }
  if (!verifySlackRequest({ signingSecret, timestamp: headers['x-slack-request-timestamp'], signature: headers['x-slack-signature'], rawBody })) {
    logger.warn('Slack request failed signature verification');
    return rejected(401, 'unauthorized', 'Invalid Slack signature');
  }
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return rejected(400, 'bad_request', 'Body is not JSON');
  }
  const envelope = slackEnvelopeSchema.safeParse(json);
  if (!envelope.success) return rejected(400, 'validation_failed', 'Not a Slack Events API payload');
  if (envelope.data.type === 'url_verification') return webhookResponse(200, { challenge: envelope.data.challenge });

  const webhookId = query.webhook_id;
  const outcome = await processSlackDelivery(envelope.data, webhookId && webhookId.length <= 64 ? webhookId : undefined);
  countWebhookOutcome(outcome);
  logger.info('Slack event handled', {
    outcome,
    eventType: envelope.data.type === 'event_callback' ? envelope.data.event.type : envelope.data.type,
    retryNum: headers['x-slack-retry-num'],
  });
  return outcome === 'test' ? webhookResponse(200, testDeliveryAnswer) : webhookResponse(200);
});
