import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../infra/local/event-bus';
import { ConfigError } from '../../shared/config';
import { handleGmailPush, handleGoogleChannelNotification } from '../../shared/providers/google/webhook';
import { graphNotificationBody, handleGraphNotifications } from '../../shared/providers/microsoft/webhook';
import { findSubscription, subscriptionsDueForRenewal, type SubscriptionRecord } from '../../shared/store/subscriptions';
import { dynamo, tableName } from '../../shared/store/client';
import { keys } from '../../shared/store/keys';
import { uniqueOrg } from '../support/api';
import { seedSubscription } from '../support/subscriptions';

/**
 * Push receivers' invariants, calling the provider modules directly against
 * dynalite and a local EventBridge that can be told to fail: who may push
 * (Gmail's OIDC token, its issuer, algorithm and service account; Google
 * channel headers; Graph clientState), exactly-once processing, and that a
 * delivery whose events could not be published is given back for the
 * provider's retry.
 */
const AUDIENCE = 'https://hooks.example.test/api/webhooks/google';
const SERVICE_ACCOUNT = 'gmail-push@project.iam.gserviceaccount.com';

let bus: LocalEventBus;
let busServer: Server;
/** While true, PutEvents answers that every entry failed. */
let busFailing = false;

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let rsaKey: PrivateKey;
let ecKey: PrivateKey;
let jwksServer: Server;
let jwksUrl: string;
let jwksFetches = 0;

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

beforeAll(async () => {
  bus = new LocalEventBus('hr-integrations-test', []);
  busServer = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const parsed = JSON.parse(body || '{}') as { Entries?: unknown[] };
      const result = busFailing
        ? { statusCode: 200, body: { FailedEntryCount: parsed.Entries?.length ?? 0, Entries: (parsed.Entries ?? []).map(() => ({ ErrorCode: 'InternalException', ErrorMessage: 'try again' })) } }
        : bus.putEvents(parsed);
      response.writeHead(result.statusCode, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(result.body));
    });
  });
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = await listen(busServer);

  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  rsaKey = rsa.privateKey;
  ecKey = ec.privateKey;
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256', use: 'sig' },
  ];
  jwksServer = createServer((_request, response) => {
    jwksFetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys }));
  });
  jwksUrl = `${await listen(jwksServer)}/certs`;
});

afterAll(async () => {
  await close(busServer);
  await close(jwksServer);
});

const PUSH_ENV = ['GMAIL_PUSH_AUDIENCE', 'GMAIL_PUSH_SERVICE_ACCOUNT', 'GOOGLE_JWKS_URL'] as const;
beforeEach(() => {
  busFailing = false;
  process.env.GMAIL_PUSH_AUDIENCE = AUDIENCE;
  process.env.GOOGLE_JWKS_URL = jwksUrl;
  delete process.env.GMAIL_PUSH_SERVICE_ACCOUNT;
});
afterEach(() => {
  for (const name of PUSH_ENV) delete process.env[name];
});


const eventsFor = (type: string, integrationId: string) =>
  bus.recentEvents().filter((event) => event['detail-type'] === type && (event.detail as { integrationId?: string }).integrationId === integrationId);

describe('Google channel notifications', () => {
  const headers = (record: SubscriptionRecord, overrides: Record<string, string | undefined> = {}) => ({
    'x-goog-channel-id': record.subscriptionId,
    'x-goog-channel-token': 'channel-secret',
    'x-goog-resource-state': 'exists',
    'x-goog-message-number': '7',
    'x-goog-resource-id': 'res-1',
    ...overrides,
  });

  it('processes each message number once, with what changed in the event', async () => {
    const record = await seedSubscription('google', 'calendar', 'channel-secret');
    expect(await handleGoogleChannelNotification(headers(record, { 'x-goog-message-number': '2' }))).toEqual({ status: 200, outcome: 'processed' });
    expect(await handleGoogleChannelNotification(headers(record, { 'x-goog-message-number': '2' }))).toEqual({ status: 200, outcome: 'duplicate' });
    expect(await handleGoogleChannelNotification(headers(record, { 'x-goog-message-number': '3' }))).toEqual({ status: 200, outcome: 'processed' });
    const received = eventsFor('integration.webhook.received', record.integrationId);
    expect(received.map((event) => event.detail)).toEqual([
      expect.objectContaining({ resource: 'calendar', resourceState: 'exists', messageNumber: '2', subscriptionId: record.subscriptionId }),
      expect.objectContaining({ messageNumber: '3' }),
    ]);
    expect(eventsFor('SyncRequested', record.integrationId)).toHaveLength(2);
  });

  it("the same message number on another channel is another message", async () => {
    const first = await seedSubscription('google', 'calendar', 'channel-secret');
    const second = await seedSubscription('google', 'drive', 'channel-secret');
    expect((await handleGoogleChannelNotification(headers(first, { 'x-goog-message-number': '9' }))).outcome).toBe('processed');
    expect((await handleGoogleChannelNotification(headers(second, { 'x-goog-message-number': '9' }))).outcome).toBe('processed');
  });

  it('the sync handshake is acknowledged and publishes nothing', async () => {
    const record = await seedSubscription('google', 'drive', 'channel-secret');
    expect(await handleGoogleChannelNotification(headers(record, { 'x-goog-resource-state': 'sync' }))).toEqual({ status: 200, outcome: 'sync' });
    expect(bus.recentEvents().filter((event) => (event.detail as { integrationId?: string }).integrationId === record.integrationId)).toHaveLength(0);
  });

  it('refuses a wrong or missing token and an unknown channel', async () => {
    const record = await seedSubscription('google', 'drive', 'channel-secret');
    const unauthorized = { status: 401, outcome: 'unauthorized' };
    expect(await handleGoogleChannelNotification(headers(record, { 'x-goog-channel-token': 'wrong' }))).toEqual(unauthorized);
    expect(await handleGoogleChannelNotification(headers(record, { 'x-goog-channel-token': undefined }))).toEqual(unauthorized);
    expect(await handleGoogleChannelNotification(headers(record, { 'x-goog-channel-id': 'unknown-channel' }))).toEqual(unauthorized);
  });

  it.each([
    ['no channel id', { 'x-goog-channel-id': undefined }],
    ['an empty channel id', { 'x-goog-channel-id': '' }],
    ['a 257-character channel id', { 'x-goog-channel-id': 'c'.repeat(257) }],
    ['a 257-character token', { 'x-goog-channel-token': 't'.repeat(257) }],
    ['no resource state', { 'x-goog-resource-state': undefined }],
    ['an empty resource state', { 'x-goog-resource-state': '' }],
    ['a 33-character resource state', { 'x-goog-resource-state': 's'.repeat(33) }],
    ['no message number', { 'x-goog-message-number': undefined }],
    ['a message number with a letter after', { 'x-goog-message-number': '12a' }],
    ['a message number with a letter before', { 'x-goog-message-number': 'a12' }],
    ['a 21-digit message number', { 'x-goog-message-number': '1'.repeat(21) }],
    ['an empty message number', { 'x-goog-message-number': '' }],
    ['a 257-character resource id', { 'x-goog-resource-id': 'r'.repeat(257) }],
  ])('is a 400 with %s', async (_label, overrides) => {
    const record = await seedSubscription('google', 'drive', 'channel-secret');
    expect(await handleGoogleChannelNotification(headers(record, overrides))).toEqual({ status: 400, outcome: 'bad_request' });
  });

  it('accepts the bounds of every header', async () => {
    const record = await seedSubscription('google', 'drive', 't'.repeat(256), { subscriptionId: 'c'.repeat(256) });
    const bounds = { 'x-goog-channel-token': 't'.repeat(256), 'x-goog-resource-state': 's'.repeat(32), 'x-goog-resource-id': 'r'.repeat(256) };
    expect(await handleGoogleChannelNotification(headers(record, { ...bounds, 'x-goog-message-number': '9'.repeat(20) }))).toEqual({ status: 200, outcome: 'processed' });
    expect(await handleGoogleChannelNotification(headers(record, { ...bounds, 'x-goog-message-number': '1' }))).toEqual({ status: 200, outcome: 'processed' });
    const short = await seedSubscription('google', 'drive', 'channel-secret', { subscriptionId: 'c' });
    expect(await handleGoogleChannelNotification(headers(short, { 'x-goog-resource-state': 'x', 'x-goog-resource-id': undefined }))).toEqual({ status: 200, outcome: 'processed' });
  });

  it('gives a message back when its events could not be published, so the retry is processed', async () => {
    const record = await seedSubscription('google', 'calendar', 'channel-secret');
    busFailing = true;
    await expect(handleGoogleChannelNotification(headers(record, { 'x-goog-message-number': '11' }))).rejects.toThrow(/EventBridge refused/);
    busFailing = false;
    expect(await handleGoogleChannelNotification(headers(record, { 'x-goog-message-number': '11' }))).toEqual({ status: 200, outcome: 'processed' });
    expect(eventsFor('SyncRequested', record.integrationId)).toHaveLength(1);
  });
});

describe('Gmail Pub/Sub push', () => {
  const data = (emailAddress: string, historyId: string | number = '1234567890') => Buffer.from(JSON.stringify({ emailAddress, historyId })).toString('base64url');
  const body = (emailAddress: string, overrides: { messageId?: string; data?: string; subscription?: string } = {}) =>
    Buffer.from(
      JSON.stringify({
        message: { data: overrides.data ?? data(emailAddress), messageId: overrides.messageId ?? `m-${Math.random()}` },
        subscription: overrides.subscription ?? 'projects/p/subscriptions/s',
      }),
    );

  interface TokenOptions {
    claims?: JWTPayload;
    issuer?: string;
    audience?: string;
    key?: 'rsa' | 'ec';
  }
  const token = (options: TokenOptions = {}) => {
    const kid = options.key ?? 'rsa';
    return new SignJWT({ email: SERVICE_ACCOUNT, email_verified: true, ...options.claims })
      .setProtectedHeader({ alg: kid === 'rsa' ? 'RS256' : 'ES256', kid })
      .setIssuer(options.issuer ?? 'https://accounts.google.com')
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(kid === 'rsa' ? rsaKey : ecKey);
  };
  /** A token using every character class of the bearer format (upper and lower case bounds, digits, `-`, `_`, `.`). */
  async function tokenWithEveryCharacter(): Promise<string> {
    for (let nonce = 0; nonce < 500; nonce += 1) {
      const candidate = await token({ claims: { nonce } });
      if (['A', 'Z', 'a', 'z', '0', '9', '-', '_', '.'].every((char) => candidate.includes(char))) return candidate;
    }
    throw new Error('no token with every character class');
  }
  const gmailSubscription = async () => {
    const address = `${uniqueOrg('mailbox')}@acme.test`;
    return { address, record: await seedSubscription('google-gmail', 'gmail', 'unused', { subscriptionId: address }) };
  };
  const unauthorized = { status: 401, outcome: 'unauthorized' };

  it('processes an authenticated push once per message id, routed by the lower-cased address, with the history id as a string', async () => {
    const { address, record } = await gmailSubscription();
    const bearer = `Bearer ${await tokenWithEveryCharacter()}`;
    expect(await handleGmailPush(bearer, body(address.toUpperCase(), { messageId: 'gm-1', data: data(address.toUpperCase(), 42) }))).toEqual({ status: 204, outcome: 'processed' });
    expect(await handleGmailPush(bearer, body(address, { messageId: 'gm-1' }))).toEqual({ status: 204, outcome: 'duplicate' });
    const received = eventsFor('integration.webhook.received', record.integrationId);
    expect(received).toHaveLength(1);
    expect(received[0]?.detail).toMatchObject({ resource: 'gmail', historyId: '42' });
  });

  it('acknowledges a push for an address we do not know, without publishing', async () => {
    expect(await handleGmailPush(`Bearer ${await token()}`, body('nobody@elsewhere.test'))).toEqual({ status: 204, outcome: 'unrouted' });
  });

  it('acknowledges and drops a push for a mailbox whose integration is not connected', async () => {
    const address = `${uniqueOrg('mailbox')}@acme.test`;
    const record = await seedSubscription('google-gmail', 'gmail', 'unused', { subscriptionId: address }, 'disconnected');
    expect(await handleGmailPush(`Bearer ${await token()}`, body(address))).toEqual({ status: 204, outcome: 'dropped' });
    expect(eventsFor('integration.webhook.received', record.integrationId)).toHaveLength(0);
  });

  it('is refused when no audience is configured', async () => {
    delete process.env.GMAIL_PUSH_AUDIENCE;
    expect(await handleGmailPush(`Bearer ${await token()}`, body('a@b.c'))).toEqual({ status: 401, outcome: 'gmail_push_not_configured' });
    process.env.GMAIL_PUSH_AUDIENCE = '';
    expect(await handleGmailPush(`Bearer ${await token()}`, body('a@b.c'))).toEqual({ status: 401, outcome: 'gmail_push_not_configured' });
  });

  it.each([
    ['no header', () => undefined],
    ['an empty header', () => ''],
    ['a lower-case scheme', (jwt: string) => `bearer ${jwt}`],
    ['another scheme', (jwt: string) => `Basic ${jwt}`],
    ['text before the scheme', (jwt: string) => `xBearer ${jwt}`],
    ['text after the token', (jwt: string) => `Bearer ${jwt} trailing`],
    ['two spaces', (jwt: string) => `Bearer  ${jwt}`],
    ['no token', () => 'Bearer '],
  ])('refuses %s in Authorization', async (_label, authorization) => {
    const { address, record } = await gmailSubscription();
    expect(await handleGmailPush(authorization(await token()), body(address))).toEqual(unauthorized);
    expect(eventsFor('integration.webhook.received', record.integrationId)).toHaveLength(0);
  });

  it("accepts both of Google's issuer spellings and no other", async () => {
    const { address } = await gmailSubscription();
    expect((await handleGmailPush(`Bearer ${await token({ issuer: 'https://accounts.google.com' })}`, body(address))).status).toBe(204);
    expect((await handleGmailPush(`Bearer ${await token({ issuer: 'accounts.google.com' })}`, body(address))).status).toBe(204);
    expect(await handleGmailPush(`Bearer ${await token({ issuer: 'https://accounts.example.com' })}`, body(address))).toEqual(unauthorized);
  });

  it('accepts only RS256, even from a key the JWKS publishes', async () => {
    const { address } = await gmailSubscription();
    expect(await handleGmailPush(`Bearer ${await token({ key: 'ec' })}`, body(address))).toEqual(unauthorized);
  });

  it('refuses another audience', async () => {
    const { address } = await gmailSubscription();
    expect(await handleGmailPush(`Bearer ${await token({ audience: 'https://other.test' })}`, body(address))).toEqual(unauthorized);
  });

  describe('with GMAIL_PUSH_SERVICE_ACCOUNT', () => {
    beforeEach(() => {
      process.env.GMAIL_PUSH_SERVICE_ACCOUNT = SERVICE_ACCOUNT;
    });

    it('accepts a verified token of that service account', async () => {
      const { address } = await gmailSubscription();
      expect((await handleGmailPush(`Bearer ${await token()}`, body(address))).status).toBe(204);
    });

    it.each([
      ['another account, verified', { email: 'someone@project.iam.gserviceaccount.com', email_verified: true }],
      ['the account, unverified', { email: SERVICE_ACCOUNT, email_verified: false }],
      ['the account, verification missing', { email: SERVICE_ACCOUNT, email_verified: undefined }],
      ['the account, verified as a string', { email: SERVICE_ACCOUNT, email_verified: 'true' }],
      ['no email', { email: undefined, email_verified: true }],
    ])('refuses %s', async (_label, claims) => {
      const { address, record } = await gmailSubscription();
      expect(await handleGmailPush(`Bearer ${await token({ claims })}`, body(address))).toEqual(unauthorized);
      expect(eventsFor('integration.webhook.received', record.integrationId)).toHaveLength(0);
    });

    it('a service account of fewer than 3 characters is a configuration error', async () => {
      process.env.GMAIL_PUSH_SERVICE_ACCOUNT = 'ab';
      await expect(handleGmailPush(`Bearer ${await token()}`, body('a@b.c'))).rejects.toThrow(ConfigError);
    });
  });

  it('without GMAIL_PUSH_SERVICE_ACCOUNT, any verified Google token for the audience is accepted', async () => {
    const { address } = await gmailSubscription();
    expect((await handleGmailPush(`Bearer ${await token({ claims: { email: 'other@x.test', email_verified: false } })}`, body(address))).status).toBe(204);
  });

  it('fetches the signing keys once, and again only when GOOGLE_JWKS_URL changes', async () => {
    const { address } = await gmailSubscription();
    const before = jwksFetches;
    for (let i = 0; i < 3; i += 1) expect((await handleGmailPush(`Bearer ${await token()}`, body(address))).status).toBe(204);
    // Zero when an earlier test of this file already fetched them.
    expect(jwksFetches - before).toBeLessThanOrEqual(1);
    const cached = jwksFetches;
    process.env.GOOGLE_JWKS_URL = `${jwksUrl}?rotated`;
    for (let i = 0; i < 2; i += 1) expect((await handleGmailPush(`Bearer ${await token()}`, body(address))).status).toBe(204);
    expect(jwksFetches).toBe(cached + 1);
  });

  it("defaults to Google's published keys (unreachable here: refused, never thrown)", async () => {
    delete process.env.GOOGLE_JWKS_URL;
    expect(await handleGmailPush(`Bearer ${await token()}`, body('a@b.c'))).toEqual(unauthorized);
  });

  it.each([
    ['a body that is not JSON', () => Buffer.from('{')],
    ['no message', () => Buffer.from(JSON.stringify({ subscription: 's' }))],
    ['data that is not base64 JSON', () => body('', { data: Buffer.from('not json').toString('base64url') })],
    ['an empty data', () => body('', { data: '' })],
    ['data over 4096 characters', (address: string) => body(address, { data: `${data(address)}${'A'.repeat(4096)}` })],
    ['an empty message id', (address: string) => body(address, { messageId: '' })],
    ['a 129-character message id', (address: string) => body(address, { messageId: 'm'.repeat(129) })],
    ['a 513-character subscription', (address: string) => body(address, { subscription: 's'.repeat(513) })],
    ['a 2-character address', () => body('', { data: data('ab') })],
    ['a 321-character address', () => body('', { data: data(`${'a'.repeat(311)}@acme.test`) })],
    ['no history id', () => body('', { data: Buffer.from(JSON.stringify({ emailAddress: 'a@b.c' })).toString('base64url') })],
  ])('is a 400 with %s', async (_label, makeBody) => {
    const { address } = await gmailSubscription();
    expect(await handleGmailPush(`Bearer ${await token()}`, makeBody(address))).toEqual({ status: 400, outcome: 'bad_request' });
  });

  it('accepts the bounds of the body', async () => {
    const { address } = await gmailSubscription();
    const bearer = `Bearer ${await token()}`;
    expect((await handleGmailPush(bearer, body(address, { messageId: 'm'.repeat(128), subscription: 's'.repeat(512) }))).status).toBe(204);
    expect((await handleGmailPush(bearer, body(address, { messageId: 'm', subscription: '' }))).status).toBe(204);
    expect(await handleGmailPush(bearer, body('', { data: data('a@b') }))).toEqual({ status: 204, outcome: 'unrouted' });
    expect(await handleGmailPush(bearer, body('', { data: data(`${'a'.repeat(310)}@acme.test`) }))).toEqual({ status: 204, outcome: 'unrouted' });
    // 3,072 bytes of JSON (padded with spaces) are exactly 4,096 base64url characters.
    const longest = Buffer.from(JSON.stringify({ emailAddress: address, historyId: '1' }).padEnd(3072, ' ')).toString('base64url');
    expect(longest).toHaveLength(4096);
    expect(await handleGmailPush(bearer, body(address, { data: longest }))).toEqual({ status: 204, outcome: 'processed' });
  });

  it('gives a message back when its events could not be published, so the retry is processed', async () => {
    const { address, record } = await gmailSubscription();
    const bearer = `Bearer ${await token()}`;
    busFailing = true;
    await expect(handleGmailPush(bearer, body(address, { messageId: 'retry-1' }))).rejects.toThrow(/EventBridge refused/);
    busFailing = false;
    expect(await handleGmailPush(bearer, body(address, { messageId: 'retry-1' }))).toEqual({ status: 204, outcome: 'processed' });
    expect(eventsFor('integration.webhook.received', record.integrationId)).toHaveLength(1);
  });
});

describe('Microsoft Graph notifications', () => {
  const notification = (record: SubscriptionRecord, secret: string, extra: Record<string, unknown> = {}) => ({
    subscriptionId: record.subscriptionId,
    clientState: secret,
    ...extra,
  });
  const deliver = (value: Array<Record<string, unknown>>) => handleGraphNotifications(graphNotificationBody.parse({ value }));

  it('processes each distinct item once, whatever the redeliveries, with its change type', async () => {
    const record = await seedSubscription('microsoft', 'events', 'cs-1');
    const created = notification(record, 'cs-1', { changeType: 'created', resource: 'me/events/1' });
    const updated = notification(record, 'cs-1', { changeType: 'updated', resource: 'me/events/1' });
    expect(await deliver([created, created])).toEqual({ status: 202, outcome: 'processed' });
    expect(await deliver([created])).toEqual({ status: 202, outcome: 'duplicate' });
    expect(await deliver([updated])).toEqual({ status: 202, outcome: 'processed' });
    const received = eventsFor('integration.webhook.received', record.integrationId);
    expect(received.map((event) => (event.detail as { changeType?: unknown }).changeType)).toEqual(['created', 'updated']);
    expect(eventsFor('SyncRequested', record.integrationId)).toHaveLength(2);
  });

  it('the dedupe marker of an item is the SHA-256 (hex) of the item, so a redelivery after a deploy is still recognised', async () => {
    const record = await seedSubscription('microsoft', 'events', 'cs-9');
    const item = notification(record, 'cs-9', { changeType: 'updated', resource: 'me/events/9' });
    await deliver([item]);
    const parsed = graphNotificationBody.parse({ value: [item] }).value[0];
    const id = createHash('sha256').update(JSON.stringify(parsed)).digest('hex');
    const marker = await dynamo().send(new GetCommand({ TableName: tableName(), Key: { pk: keys.webhookEvent('microsoft', id), sk: keys.webhookEventSk }, ConsistentRead: true }));
    expect(marker.Item).toMatchObject({ pk: `EVT#microsoft#${id}` });
    expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an item without a change type is published with changeType null', async () => {
    const record = await seedSubscription('microsoft', 'onedrive', 'cs-2');
    await deliver([notification(record, 'cs-2')]);
    expect(eventsFor('integration.webhook.received', record.integrationId)[0]?.detail).toMatchObject({ changeType: null, resource: 'onedrive' });
  });

  it('a forged item anywhere in the delivery refuses all of it', async () => {
    const record = await seedSubscription('microsoft', 'events', 'cs-3');
    expect(await deliver([notification(record, 'cs-3', { changeType: 'a' }), notification(record, 'forged', { changeType: 'b' })])).toEqual({ status: 401, outcome: 'unauthorized' });
    expect(await deliver([notification(record, 'cs-3', { changeType: 'c' }), { subscriptionId: 'unknown', clientState: 'cs-3' }])).toEqual({ status: 401, outcome: 'unauthorized' });
    expect(await deliver([notification(record, 'cs-3', { changeType: 'd' }), { subscriptionId: record.subscriptionId }])).toEqual({ status: 401, outcome: 'unauthorized' });
    expect(bus.recentEvents().filter((event) => (event.detail as { integrationId?: string }).integrationId === record.integrationId)).toHaveLength(0);
  });

  it('gives back every item it claimed when publishing fails, and only those: the retry is processed once', async () => {
    const record = await seedSubscription('microsoft', 'events', 'cs-4');
    const earlier = notification(record, 'cs-4', { changeType: 'created', resource: 'me/events/earlier' });
    const first = notification(record, 'cs-4', { changeType: 'updated', resource: 'me/events/a' });
    const second = notification(record, 'cs-4', { changeType: 'updated', resource: 'me/events/b' });
    expect(await deliver([earlier])).toEqual({ status: 202, outcome: 'processed' });

    busFailing = true;
    await expect(deliver([earlier, first, second])).rejects.toThrow(/EventBridge refused/);
    busFailing = false;

    expect(await deliver([earlier, first, second])).toEqual({ status: 202, outcome: 'processed' });
    const received = eventsFor('integration.webhook.received', record.integrationId).map((event) => (event.detail as { changeType?: string }).changeType);
    // `earlier` was processed before the failure and was not given back: it is not processed again.
    expect(received).toEqual(['created', 'updated', 'updated']);
    expect(await deliver([first])).toEqual({ status: 202, outcome: 'duplicate' });
  });

  it('lifecycle subscriptionRemoved: renewal is due within a minute, and a full resync is requested', async () => {
    const record = await seedSubscription('microsoft', 'events', 'cs-5');
    const before = Date.now();
    expect(await deliver([notification(record, 'cs-5', { lifecycleEvent: 'subscriptionRemoved' })])).toEqual({ status: 202, outcome: 'processed' });
    const stored = await findSubscription('microsoft', record.subscriptionId);
    const expiresAt = Date.parse(stored?.channelExpiresAt ?? '');
    expect(expiresAt).toBeGreaterThanOrEqual(before + 59_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 61_000);
    expect((await subscriptionsDueForRenewal(new Date())).map((item) => item.subscriptionId)).toContain(record.subscriptionId);
    expect(eventsFor('SyncRequested', record.integrationId).map((event) => event.detail)).toEqual([expect.objectContaining({ full: true, resource: 'events' })]);
    expect(eventsFor('integration.webhook.received', record.integrationId)[0]?.detail).toMatchObject({ lifecycleEvent: 'subscriptionRemoved' });
  });

  it('lifecycle reauthorizationRequired: renewal is due, nothing is published', async () => {
    const record = await seedSubscription('microsoft', 'events', 'cs-6');
    expect((await deliver([notification(record, 'cs-6', { lifecycleEvent: 'reauthorizationRequired' })])).status).toBe(202);
    expect(Date.parse((await findSubscription('microsoft', record.subscriptionId))?.channelExpiresAt ?? '')).toBeLessThanOrEqual(Date.now() + 61_000);
    expect(bus.recentEvents().filter((event) => (event.detail as { integrationId?: string }).integrationId === record.integrationId)).toHaveLength(0);
  });

  it('lifecycle missed: a full resync, the subscription left as it was', async () => {
    const record = await seedSubscription('microsoft', 'onedrive', 'cs-7');
    expect(await deliver([notification(record, 'cs-7', { lifecycleEvent: 'missed' })])).toEqual({ status: 202, outcome: 'processed' });
    expect((await findSubscription('microsoft', record.subscriptionId))?.channelExpiresAt).toBe(record.channelExpiresAt);
    expect(eventsFor('SyncRequested', record.integrationId).map((event) => event.detail)).toEqual([expect.objectContaining({ full: true })]);
    expect(eventsFor('integration.webhook.received', record.integrationId)[0]?.detail).toMatchObject({ lifecycleEvent: 'missed' });
  });

  it('a change notification asks for an incremental sync, not a full one', async () => {
    const record = await seedSubscription('microsoft', 'events', 'cs-8');
    await deliver([notification(record, 'cs-8', { changeType: 'deleted' })]);
    const sync = eventsFor('SyncRequested', record.integrationId)[0]?.detail as Record<string, unknown> | undefined;
    expect(sync).toMatchObject({ resource: 'events', trigger: 'webhook' });
    expect(sync).not.toHaveProperty('full');
  });

  it('the body: 1 to 1000 items, bounded fields, known lifecycle events', () => {
    const item = { subscriptionId: 's', clientState: 'c' };
    const ok = (value: unknown[]) => graphNotificationBody.safeParse({ value }).success;
    expect(ok([item])).toBe(true);
    expect(ok([item, item])).toBe(true);
    expect(ok(Array.from({ length: 1000 }, () => item))).toBe(true);
    expect(ok([])).toBe(false);
    expect(ok(Array.from({ length: 1001 }, () => item))).toBe(false);
    expect(ok([{ ...item, subscriptionId: 'ss' }, { ...item, subscriptionId: 's'.repeat(128) }])).toBe(true);
    expect(ok([{ ...item, subscriptionId: '' }])).toBe(false);
    expect(ok([{ ...item, subscriptionId: 's'.repeat(129) }])).toBe(false);
    expect(ok([{ ...item, clientState: 'c'.repeat(256), changeType: 'c'.repeat(64), resource: 'r'.repeat(1024), subscriptionExpirationDateTime: 'd'.repeat(64) }])).toBe(true);
    expect(ok([{ ...item, clientState: 'c'.repeat(257) }])).toBe(false);
    expect(ok([{ ...item, changeType: 'c'.repeat(65) }])).toBe(false);
    expect(ok([{ ...item, resource: 'r'.repeat(1025) }])).toBe(false);
    expect(ok([{ ...item, subscriptionExpirationDateTime: 'd'.repeat(65) }])).toBe(false);
    for (const lifecycleEvent of ['reauthorizationRequired', 'subscriptionRemoved', 'missed']) expect(ok([{ ...item, lifecycleEvent }])).toBe(true);
    expect(ok([{ ...item, lifecycleEvent: 'deleted' }])).toBe(false);
    expect(graphNotificationBody.parse({ value: [{ ...item, tenantId: 't' }] }).value[0]).toMatchObject({ tenantId: 't' });
  });
});

describe('a notification for an integration that is not connected', () => {
  const publishedFor = (integrationId: string) => bus.recentEvents().filter((event) => (event.detail as { integrationId?: string }).integrationId === integrationId);

  it('Google: acknowledged and dropped', async () => {
    const record = await seedSubscription('google', 'calendar', 'channel-secret', {}, 'disconnected');
    const headers = {
      'x-goog-channel-id': record.subscriptionId,
      'x-goog-channel-token': 'channel-secret',
      'x-goog-resource-state': 'exists',
      'x-goog-message-number': '1',
    };
    expect(await handleGoogleChannelNotification(headers)).toEqual({ status: 200, outcome: 'dropped' });
    expect(publishedFor(record.integrationId)).toHaveLength(0);
  });

  it('Microsoft: acknowledged and dropped, while a connected one in the same delivery is processed', async () => {
    const gone = await seedSubscription('microsoft', 'events', 'cs-gone', {}, 'disconnected');
    const live = await seedSubscription('microsoft', 'events', 'cs-live');
    const value = [
      { subscriptionId: gone.subscriptionId, clientState: 'cs-gone', changeType: 'updated' },
      { subscriptionId: live.subscriptionId, clientState: 'cs-live', changeType: 'updated' },
    ];
    expect(await handleGraphNotifications(graphNotificationBody.parse({ value }))).toEqual({ status: 202, outcome: 'processed' });
    expect(publishedFor(gone.integrationId)).toHaveLength(0);
    expect(eventsFor('SyncRequested', live.integrationId)).toHaveLength(1);
  });
});

