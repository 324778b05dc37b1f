import fc from 'fast-check';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as googleHandler } from '../../functions/webhooks/google';
import { handler as microsoftHandler } from '../../functions/webhooks/microsoft';
import { functionUrlEvent, lambdaContext } from '../../infra/local/lambda-events';
import { findSubscription, subscriptionsDueForRenewal, type SubscriptionRecord } from '../../shared/store/subscriptions';
import { updateLatestIntegration } from '../../shared/store/integrations';
import { uniqueOrg } from '../support/api';
import { seedSubscription } from '../support/subscriptions';
import { startTestEventBus } from '../support/event-bus';

/** Google and Microsoft push receivers, with real Function URL events, against dynalite and the local bus. */
let events: Awaited<ReturnType<typeof startTestEventBus>>;
let jwksServer: Server;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: PrivateKey;
const AUDIENCE = 'https://hooks.example.test/api/webhooks/google';

beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  process.env.GOOGLE_JWKS_URL = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/certs`;
  process.env.GMAIL_PUSH_AUDIENCE = AUDIENCE;
});

afterAll(async () => {
  await events.close();
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
});

type Handler = typeof googleHandler;
async function deliver(handler: Handler, request: { headers?: Record<string, string>; body?: string; query?: string }) {
  const result = await handler(
    functionUrlEvent({
      method: 'POST',
      rawPath: '/',
      rawQueryString: request.query ?? '',
      headers: request.headers ?? {},
      body: Buffer.from(request.body ?? ''),
      sourceIp: '1.2.3.4',
    }),
    lambdaContext('webhook', 10),
  );
  return result as { statusCode: number; body: string; headers: Record<string, string> };
}


const eventsFor = (type: string, integrationId: string) =>
  events.eventsOfType(type).filter((event) => (event.detail as { integrationId?: string }).integrationId === integrationId);

const googleHeaders = (record: SubscriptionRecord, token: string, state: string, number: number) => ({
  'x-goog-channel-id': record.subscriptionId,
  'x-goog-channel-token': token,
  'x-goog-resource-state': state,
  'x-goog-message-number': String(number),
  'x-goog-resource-id': 'res-1',
});

describe('Google channel notifications', () => {
  it('sync is a no-op; a change requests a sync of that resource, once per message number', async () => {
    const record = await seedSubscription('google', 'calendar', 'channel-secret');
    expect((await deliver(googleHandler, { headers: googleHeaders(record, 'channel-secret', 'sync', 1) })).statusCode).toBe(200);
    expect(eventsFor('SyncRequested', record.integrationId)).toHaveLength(0);
    for (let i = 0; i < 2; i += 1) {
      expect((await deliver(googleHandler, { headers: googleHeaders(record, 'channel-secret', 'exists', 2) })).statusCode).toBe(200);
    }
    const sync = eventsFor('SyncRequested', record.integrationId);
    expect(sync).toHaveLength(1);
    expect(sync[0]?.detail).toMatchObject({ providerId: 'google', resource: 'calendar', trigger: 'webhook' });
  });

  it('refuses an unknown channel, a wrong token and missing headers, storing nothing', async () => {
    const record = await seedSubscription('google', 'drive', 'right-token');
    expect((await deliver(googleHandler, { headers: googleHeaders(record, 'wrong-token', 'exists', 5) })).statusCode).toBe(401);
    expect((await deliver(googleHandler, { headers: { ...googleHeaders(record, 'right-token', 'exists', 6), 'x-goog-channel-id': 'nope' } })).statusCode).toBe(401);
    const { 'x-goog-channel-token': _dropped, ...noToken } = googleHeaders(record, 'right-token', 'exists', 7);
    expect((await deliver(googleHandler, { headers: noToken })).statusCode).toBe(401);
    expect((await deliver(googleHandler, { headers: { 'x-goog-channel-id': record.subscriptionId } })).statusCode).toBe(400);
    expect(eventsFor('SyncRequested', record.integrationId)).toHaveLength(0);
  });
});

describe('Gmail Pub/Sub push', () => {
  const push = async (emailAddress: string, options: { audience?: string; key?: PrivateKey; messageId?: string } = {}) => {
    const token = await new SignJWT({ email: 'gmail-push@sandbox.iam.gserviceaccount.com', email_verified: true })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('https://accounts.google.com')
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(options.key ?? signingKey);
    const data = Buffer.from(JSON.stringify({ emailAddress, historyId: '1234567890' })).toString('base64url');
    return deliver(googleHandler, {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { data, messageId: options.messageId ?? `m-${Math.random()}` }, subscription: 'projects/p/subscriptions/s' }),
    });
  };

  it('decodes an authenticated push (the official payload shape) and requests a Gmail sync', async () => {
    const address = `${uniqueOrg('user')}@acme.test`;
    const record = await seedSubscription('google-gmail', 'gmail', 'unused', { subscriptionId: address });
    expect((await push(address, { messageId: 'dup-1' })).statusCode).toBe(204);
    expect((await push(address, { messageId: 'dup-1' })).statusCode).toBe(204);
    const received = eventsFor('integration.webhook.received', record.integrationId);
    expect(received).toHaveLength(1);
    expect(received[0]?.detail).toMatchObject({ resource: 'gmail', historyId: '1234567890' });
  });

  it('refuses a push for another audience, signed by another key, or unsigned', async () => {
    const address = `${uniqueOrg('user')}@acme.test`;
    const record = await seedSubscription('google-gmail', 'gmail', 'unused', { subscriptionId: address });
    expect((await push(address, { audience: 'https://someone-else.test' })).statusCode).toBe(401);
    expect((await push(address, { key: (await generateKeyPair('RS256')).privateKey })).statusCode).toBe(401);
    expect((await deliver(googleHandler, { body: '{"message":{"data":"e30","messageId":"x"},"subscription":"s"}' })).statusCode).toBe(401);
    expect(eventsFor('integration.webhook.received', record.integrationId)).toHaveLength(0);
  });
});

describe('webhooks are off once an integration is disconnected or erased', () => {
  it.each(['disconnected', 'erased'] as const)('%s: Google and Graph notifications are acknowledged, dropped, never published', async (status) => {
    const google = await seedSubscription('google', 'calendar', 'channel-secret');
    const graph = await seedSubscription('microsoft', 'events', 'client-state-1');
    for (const record of [google, graph]) await updateLatestIntegration(record.orgId, record.integrationId, { status });
    expect((await deliver(googleHandler, { headers: googleHeaders(google, 'channel-secret', 'exists', 2) })).statusCode).toBe(200);
    const body = JSON.stringify({ value: [{ subscriptionId: graph.subscriptionId, clientState: 'client-state-1', changeType: 'updated' }] });
    expect((await deliver(microsoftHandler, { body, headers: { 'content-type': 'application/json' } })).statusCode).toBe(202);
    for (const record of [google, graph]) {
      expect(eventsFor('integration.webhook.received', record.integrationId)).toHaveLength(0);
      expect(eventsFor('SyncRequested', record.integrationId)).toHaveLength(0);
    }
  });
});

describe('Microsoft Graph notifications', () => {
  it('echoes the validation token as text/plain', async () => {
    const response = await deliver(microsoftHandler, { query: 'validationToken=Validation%3A%20Testing%20client%20application%20reachability' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain');
    expect(response.body).toBe('Validation: Testing client application reachability');
  });

  it('accepts notifications with the right clientState (202), once, and requests a sync', async () => {
    const record = await seedSubscription('microsoft', 'events', 'client-state-1');
    const body = JSON.stringify({ value: [{ subscriptionId: record.subscriptionId, clientState: 'client-state-1', changeType: 'updated', resource: 'me/events/AAMk' }] });
    expect((await deliver(microsoftHandler, { body, headers: { 'content-type': 'application/json' } })).statusCode).toBe(202);
    expect((await deliver(microsoftHandler, { body, headers: { 'content-type': 'application/json' } })).statusCode).toBe(202);
    expect(eventsFor('SyncRequested', record.integrationId)).toHaveLength(1);
  });

  it('refuses a delivery with any wrong clientState or unknown subscription, processing none of it', async () => {
    const record = await seedSubscription('microsoft', 'onedrive', 'good-state');
    const body = JSON.stringify({
      value: [
        { subscriptionId: record.subscriptionId, clientState: 'good-state', changeType: 'updated' },
        { subscriptionId: record.subscriptionId, clientState: 'forged', changeType: 'updated' },
      ],
    });
    expect((await deliver(microsoftHandler, { body })).statusCode).toBe(401);
    expect((await deliver(microsoftHandler, { body: JSON.stringify({ value: [{ subscriptionId: 'unknown', clientState: 'x' }] }) })).statusCode).toBe(401);
    expect(eventsFor('SyncRequested', record.integrationId)).toHaveLength(0);
  });

  it('lifecycle: missed asks for a full resync; reauthorizationRequired makes the subscription due for renewal now', async () => {
    const record = await seedSubscription('microsoft', 'events', 'state-2');
    await deliver(microsoftHandler, { body: JSON.stringify({ value: [{ subscriptionId: record.subscriptionId, clientState: 'state-2', lifecycleEvent: 'missed' }] }) });
    expect(eventsFor('SyncRequested', record.integrationId)[0]?.detail).toMatchObject({ full: true });
    await deliver(microsoftHandler, {
      body: JSON.stringify({ value: [{ subscriptionId: record.subscriptionId, clientState: 'state-2', lifecycleEvent: 'reauthorizationRequired', subscriptionExpirationDateTime: 'x' }] }),
    });
    const due = await subscriptionsDueForRenewal(new Date());
    expect(due.map((item) => item.subscriptionId)).toContain(record.subscriptionId);
    expect(await findSubscription('microsoft', record.subscriptionId)).toBeDefined();
  });
});

describe('fuzzed push input', () => {
  it('never a 5xx and never an event, whatever the headers and body', async () => {
    const before = events.bus.recentEvents().length;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('x-goog-channel-id', 'x-goog-channel-token', 'x-goog-resource-state', 'x-goog-message-number', 'authorization', 'content-type'), fc.string({ maxLength: 40 })),
        fc.oneof(fc.string(), fc.json()),
        fc.constantFrom<Handler>(googleHandler, microsoftHandler),
        async (headers, body, handler) => {
          const response = await deliver(handler, { headers, body });
          expect(response.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
    expect(events.bus.recentEvents().length).toBe(before);
  });
});
