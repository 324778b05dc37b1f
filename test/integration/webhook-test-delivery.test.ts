import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendTestDelivery } from '../../shared/domain/webhook-status';
import { createIntegration } from '../../shared/store/integrations';
import { saveSubscription } from '../../shared/store/subscriptions';
import { integrationRecord, uniqueOrg } from '../support/api';

/**
 * What a test event reports when the webhook answers with an error: a 4xx is
 * the webhook refusing it (`rejected`), a 5xx the webhook failing (`error`).
 * The webhook URL points at a loopback server answering as told.
 */
let server: Server;
let answerStatus = 500;
const saved = process.env.WEBHOOK_URL_GOOGLE;

beforeAll(async () => {
  server = createServer((_request, response) => {
    response.writeHead(answerStatus, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ success: false, error: { code: answerStatus >= 500 ? 'internal_error' : 'unauthorized', message: 'as told' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.WEBHOOK_URL_GOOGLE = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhooks/google`;
});
afterAll(async () => {
  if (saved === undefined) delete process.env.WEBHOOK_URL_GOOGLE;
  else process.env.WEBHOOK_URL_GOOGLE = saved;
  await new Promise((resolve) => server.close(resolve));
});

describe('sendTestDelivery', () => {
  it('reports a webhook 5xx as error and a 4xx as rejected, each with the code it answered', async () => {
    const orgId = uniqueOrg('whtest');
    const integration = integrationRecord(orgId, { providerId: 'google' });
    await createIntegration(integration);
    const now = new Date().toISOString();
    await saveSubscription({
      orgId,
      integrationId: integration.id,
      providerId: 'google',
      channel: 'google',
      subscriptionId: `chan-${orgId}`,
      resource: 'calendar',
      secretHash: 'ab'.repeat(32),
      channelExpiresAt: new Date(Date.now() + 86_400_000 * 7).toISOString(),
      createdAt: now,
    });
    answerStatus = 503;
    expect(await sendTestDelivery(orgId, integration.id)).toMatchObject({ status: 503, outcome: 'error', reason: 'internal_error' });
    answerStatus = 401;
    expect(await sendTestDelivery(orgId, integration.id)).toMatchObject({ status: 401, outcome: 'rejected', reason: 'unauthorized' });
  });
});
