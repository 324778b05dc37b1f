import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/webhooks/slack';
import { functionUrlEvent, lambdaContext } from '../../infra/local/lambda-events';
import { createIntegration, getIntegration } from '../../shared/store/integrations';
import { loadCredentials, replaceCredentials } from '../../shared/store/tokens';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';
import { signedSlackRequest, slackEventCallback } from '../support/slack-events';

/** The Slack webhook function, invoked with real Function URL events, against dynalite and the local bus. */
const SECRET = 'test-signing-secret-0123456789';
let events: Awaited<ReturnType<typeof startTestEventBus>>;

beforeAll(async () => {
  process.env.SLACK_SIGNING_SECRET = SECRET;
  events = await startTestEventBus('hr-integrations-test');
});
afterAll(() => events.close());

async function deliver(request: { body: string; headers: Record<string, string> }, query = '') {
  const result = await handler(
    functionUrlEvent({ method: 'POST', rawPath: '/', rawQueryString: query, headers: request.headers, body: Buffer.from(request.body), sourceIp: '3.4.5.6' }),
    lambdaContext('slack-webhook', 10),
  );
  return result as { statusCode: number; body: string };
}

const receivedFor = (integrationId: string) =>
  events.eventsOfType('integration.webhook.received').filter((event) => (event.detail as { integrationId?: string }).integrationId === integrationId);

async function slackIntegration(teamId = `T${Math.random().toString(36).slice(2, 10).toUpperCase()}`) {
  const record = integrationRecord(uniqueOrg('slackhook'), { providerId: 'slack', externalAccountId: teamId });
  await createIntegration(record);
  return record;
}

describe('Slack webhook', () => {
  it('answers the url_verification challenge', async () => {
    const response = await deliver(signedSlackRequest(SECRET, { type: 'url_verification', challenge: 'chal-123', token: 'x' }));
    expect(response).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(response.body)).toEqual({ challenge: 'chal-123' });
  });

  it('routes an event by team to every integration of that workspace, once per event_id despite retries', async () => {
    const first = await slackIntegration();
    const second = await slackIntegration(first.externalAccountId); // another organisation, same workspace
    const payload = slackEventCallback(first.externalAccountId, { type: 'message', channel: 'C1', user: 'U1', text: 'hello', ts: '1.0' });
    expect((await deliver(signedSlackRequest(SECRET, payload))).statusCode).toBe(200);
    for (const retryNum of [1, 2, 3]) expect((await deliver(signedSlackRequest(SECRET, payload, { retryNum }))).statusCode).toBe(200);
    for (const integration of [first, second]) {
      const received = receivedFor(integration.id);
      expect(received).toHaveLength(1);
      expect(received[0]?.detail).toMatchObject({ providerId: 'slack', eventType: 'message', normalizedType: 'message.created', data: { channelId: 'C1', text: 'hello' } });
    }
  });

  it('honours webhook_id: only that integration gets the event', async () => {
    const first = await slackIntegration();
    const second = await slackIntegration(first.externalAccountId);
    const payload = slackEventCallback(first.externalAccountId, { type: 'member_joined_channel', user: 'U9', channel: 'C9' });
    await deliver(signedSlackRequest(SECRET, payload), `webhook_id=${second.id}`);
    expect(receivedFor(first.id)).toHaveLength(0);
    expect(receivedFor(second.id)).toHaveLength(1);
    const sync = events.eventsOfType('SyncRequested').filter((event) => (event.detail as { integrationId?: string }).integrationId === second.id);
    expect(sync[0]?.detail).toMatchObject({ resource: 'channels', trigger: 'webhook', cause: 'channel.member_joined' });
  });

  it('normalizes channel_created and requests a channel sync', async () => {
    const integration = await slackIntegration();
    await deliver(signedSlackRequest(SECRET, slackEventCallback(integration.externalAccountId, { type: 'channel_created', channel: { id: 'C7', name: 'fun', created: 1, creator: 'U1' } })));
    expect(receivedFor(integration.id)[0]?.detail).toMatchObject({ normalizedType: 'channel.created', data: { channelId: 'C7', name: 'fun' } });
  });

  it('app_uninstalled and a bot tokens_revoked disconnect the integration and drop its tokens', async () => {
    for (const event of [{ type: 'app_uninstalled' }, { type: 'tokens_revoked', tokens: { bot: ['UBOT'] } }]) {
      const integration = await slackIntegration();
      const ref = { orgId: integration.orgId, integrationId: integration.id, providerId: 'slack' };
      await replaceCredentials(ref, [{ kind: 'slack-bot', accessToken: 'xoxe.xoxb-1-abc', scopes: [] }]);
      await deliver(signedSlackRequest(SECRET, slackEventCallback(integration.externalAccountId, event)));
      expect(await getIntegration(integration.orgId, integration.id)).toMatchObject({ status: 'disconnected', healthReason: event.type });
      expect(await loadCredentials(ref)).toBeUndefined();
    }
  });

  it('a user-token-only revocation degrades instead', async () => {
    const integration = await slackIntegration();
    await deliver(signedSlackRequest(SECRET, slackEventCallback(integration.externalAccountId, { type: 'tokens_revoked', tokens: { oauth: ['U1'] } })));
    expect(await getIntegration(integration.orgId, integration.id)).toMatchObject({ status: 'active', healthStatus: 'degraded', healthReason: 'user_token_revoked' });
  });

  it('an unknown team gets a 200 and nothing happens', async () => {
    const before = events.bus.recentEvents().length;
    expect((await deliver(signedSlackRequest(SECRET, slackEventCallback('TNOBODY', { type: 'message', channel: 'C', ts: '1' })))).statusCode).toBe(200);
    expect(events.bus.recentEvents().length).toBe(before);
  });

  it.each([
    ['forged', (r: ReturnType<typeof signedSlackRequest>) => ({ ...r, headers: { ...r.headers, 'x-slack-signature': `v0=${'a'.repeat(64)}` } })],
    ['stale', () => signedSlackRequest(SECRET, slackEventCallback('T1', { type: 'message' }), { timestamp: Math.floor(Date.now() / 1000) - 301 })],
    ['tampered', (r: ReturnType<typeof signedSlackRequest>) => ({ ...r, body: r.body.replace('hello', 'HELLO') })],
    ['unsigned', (r: ReturnType<typeof signedSlackRequest>) => ({ ...r, headers: { 'content-type': 'application/json' } })],
    ['signed with another secret', () => signedSlackRequest('another-secret', slackEventCallback('T1', { type: 'message' }))],
  ])('refuses a %s request with 401 and stores nothing', async (_label, mutate) => {
    const integration = await slackIntegration();
    const valid = signedSlackRequest(SECRET, slackEventCallback(integration.externalAccountId, { type: 'message', channel: 'C', text: 'hello', ts: '1' }));
    const response = await deliver(mutate(valid));
    expect(response.statusCode).toBe(401);
    expect(receivedFor(integration.id)).toHaveLength(0);
  });

  it('fuzzed headers and bodies: never a 5xx, never an unsigned event accepted', async () => {
    const integration = await slackIntegration();
    const before = events.bus.recentEvents().length;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          body: fc.oneof(fc.string(), fc.json(), fc.constant(JSON.stringify(slackEventCallback(integration.externalAccountId, { type: 'message', channel: 'C', ts: '1' })))),
          timestamp: fc.oneof(fc.constant(String(Math.floor(Date.now() / 1000))), fc.string({ maxLength: 14 }), fc.integer().map(String)),
          signature: fc.oneof(fc.string(), fc.stringMatching(/^v0=[0-9a-f]{64}$/)),
          contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
        }),
        async ({ body, timestamp, signature, contentType }) => {
          const response = await deliver({ body, headers: { 'content-type': contentType, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature } });
          expect(response.statusCode).toBeLessThan(500);
          expect(response.statusCode).toBe(401);
        },
      ),
      { numRuns: 150 },
    );
    // Signed but malformed bodies: 4xx, never 5xx.
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.json()), async (body) => {
        const response = await deliver(signedSlackRequest(SECRET, body));
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
    expect(events.bus.recentEvents().length).toBe(before);
  });
});
