import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { SANDBOX_CLIENTS, Sandbox, startSandboxServer, type SandboxServer } from '../../infra/local/sandbox';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest as Received } from '../support/http-receiver';
import { json, jsonObject, sandboxOAuth, str, waitFor, type Json } from '../support/sandbox-oauth';

/**
 * Push notifications of the sandbox fakes over real HTTP: Google channels
 * (Calendar, Drive), Gmail watch and Pub/Sub push, Graph subscriptions. A
 * tiny receiver on an ephemeral port plays the app.
 */

type Provider = 'google' | 'microsoft';

const GOOGLE_SCOPES = [
  'openid',
  'email',
  'https://www.googleapis.com/auth/calendar.readonly',
  'https://www.googleapis.com/auth/drive.readonly',
  'https://www.googleapis.com/auth/gmail.readonly',
].join(' ');
const MICROSOFT_SCOPES = 'openid offline_access User.Read Calendars.Read Mail.Read Files.Read';
const DAY_MS = 24 * 3600 * 1000;
const MINUTE_MS = 60_000;

// --- the receiver (the app's webhook endpoints) ---

/**
 * Records everything. Graph validation (`?validationToken=`) is echoed as
 * text/plain, except under `/graph/bad` (a wrong echo); other Graph paths
 * answer 202, `/slow…` never answers, everything else 200.
 */
function startReceiver(): Promise<HttpReceiver> {
  return startHttpReceiver(({ path, query }, response) => {
    if (path.startsWith('/slow')) return;
    const token = query.get('validationToken');
    if (token !== null) {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(path.startsWith('/graph/bad') ? `not ${token}` : token);
      return;
    }
    response.writeHead(path.startsWith('/graph') ? 202 : 200);
    response.end();
  });
}

let server: SandboxServer;
let base: string;
let receiver: HttpReceiver;

beforeAll(async () => {
  [server, receiver] = await Promise.all([startSandboxServer({ host: '127.0.0.1', port: 0 }), startReceiver()]);
  base = server.url;
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});
beforeEach(() => {
  server.sandbox.reset();
  server.sandbox.configurePush({ gmailPushUrl: null, gmailPushAudience: null });
  receiver.received.length = 0;
});

// --- helpers ---

const oauth = sandboxOAuth({ base: () => base, state: 's' });
const { control } = oauth;

async function connect(provider: Provider, scope: string, account?: string): Promise<string> {
  return str((await oauth.connect(provider, { scope }, account)).access_token);
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

const at = (path: string) => receiver.received.filter((entry) => entry.path === path);
const header = (entry: Received | undefined, name: string) => entry?.headers[name.toLowerCase()];
const errorReason = (body: Json) => z.object({ error: z.object({ errors: z.array(z.object({ reason: z.string() })) }) }).parse(body).error.errors[0]?.reason;
const graphCode = (body: Json) => z.object({ error: z.object({ code: z.string(), message: z.string() }) }).parse(body).error;
const iso = (ms: number) => new Date(ms).toISOString();

// --- Google channels ---

describe('Google Calendar events.watch', () => {
  it('answers the channel at once and sends the sync message #1 with the channel headers and no body', async () => {
    const token = await connect('google', GOOGLE_SCOPES);
    const response = await call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', token, {
      id: 'chan-1',
      type: 'web_hook',
      address: `${receiver.url}/google/calendar`,
      token: 'target=app&org=acme',
    });
    expect(response.status).toBe(200);
    const channel = await json(response);
    expect(channel).toMatchObject({ kind: 'api#channel', id: 'chan-1', token: 'target=app&org=acme' });
    expect(str(channel.resourceUri)).toBe('https://www.googleapis.com/calendar/v3/calendars/primary/events');
    expect(str(channel.resourceId)).toMatch(/^[a-z0-9_-]{10,}$/);
    expect(str(channel.expiration)).toMatch(/^\d{13}$/);

    await waitFor(() => at('/google/calendar').length === 1, 'the sync message');
    const sync = at('/google/calendar')[0];
    expect(sync?.method).toBe('POST');
    expect(sync?.body).toBe('');
    expect(header(sync, 'x-goog-channel-id')).toBe('chan-1');
    expect(header(sync, 'x-goog-channel-token')).toBe('target=app&org=acme');
    expect(header(sync, 'x-goog-resource-id')).toBe(channel.resourceId);
    expect(header(sync, 'x-goog-resource-uri')).toBe(channel.resourceUri);
    expect(header(sync, 'x-goog-resource-state')).toBe('sync');
    expect(header(sync, 'x-goog-message-number')).toBe('1');
    const expirationHeader = str(header(sync, 'x-goog-channel-expiration'));
    expect(expirationHeader).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Date.parse(expirationHeader)).toBe(Math.floor(Number(channel.expiration) / 1000) * 1000);

    await server.sandbox.waitForDeliveries();
    const listed = await json(await control('GET', '/channels?provider=google'));
    expect(listed.channels).toEqual([
      expect.objectContaining({
        provider: 'google',
        kind: 'calendar',
        id: 'chan-1',
        resource: channel.resourceUri,
        resourceId: channel.resourceId,
        address: `${receiver.url}/google/calendar`,
        stopped: false,
        deliveries: [expect.objectContaining({ kind: 'sync', status: 200, messageNumber: 1 })],
      }),
    ]);
    expect(JSON.stringify(listed)).not.toContain('target=app');

    // The same id again while the channel lives: 400 channelIdNotUnique.
    const duplicate = await call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', token, {
      id: 'chan-1',
      type: 'web_hook',
      address: `${receiver.url}/google/calendar`,
    });
    expect(duplicate.status).toBe(400);
    expect(errorReason(await json(duplicate))).toBe('channelIdNotUnique');
  });

  it('notify sends increasing message numbers; stop needs id and resourceId; a stopped channel is silent', async () => {
    const token = await connect('google', GOOGLE_SCOPES);
    const channel = await json(
      await call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', token, { id: 'chan-2', type: 'web_hook', address: `${receiver.url}/google/cal2` }),
    );
    const notified = await json(await control('POST', '/google/notify', { channelId: 'chan-2', count: 2 }));
    expect(notified).toMatchObject({ channelId: 'chan-2', state: 'exists', statuses: [200, 200], messageNumbers: [2, 3] });
    const messages = at('/google/cal2');
    expect(messages.map((entry) => header(entry, 'x-goog-message-number'))).toEqual(['1', '2', '3']);
    expect(messages.map((entry) => header(entry, 'x-goog-resource-state'))).toEqual(['sync', 'exists', 'exists']);
    expect(header(messages[1], 'x-goog-channel-token')).toBeUndefined();

    const inProcess = await server.sandbox.googleNotify({ channelId: 'chan-2', state: 'not_exists' });
    expect(inProcess.messageNumbers).toEqual([4]);
    expect((await control('POST', '/google/notify', { channelId: 'chan-2', state: 'trash' })).status).toBe(400);
    expect((await control('POST', '/google/notify', { channelId: 'nope' })).status).toBe(404);

    for (const body of [{ id: 'chan-2' }, { resourceId: channel.resourceId }]) {
      const missing = await call('POST', '/google/www/calendar/v3/channels/stop', token, body);
      expect(missing.status).toBe(400);
      expect(errorReason(await json(missing))).toBe('required');
    }
    const wrong = await call('POST', '/google/www/calendar/v3/channels/stop', token, { id: 'chan-2', resourceId: 'other' });
    expect(wrong.status).toBe(404);
    expect(errorReason(await json(wrong))).toBe('notFound');
    const stopped = await call('POST', '/google/www/calendar/v3/channels/stop', token, { id: 'chan-2', resourceId: channel.resourceId });
    expect(stopped.status).toBe(204);
    expect(await stopped.text()).toBe('');
    expect((await call('POST', '/google/www/calendar/v3/channels/stop', token, { id: 'chan-2', resourceId: channel.resourceId })).status).toBe(404);

    const count = receiver.received.length;
    expect(await json(await control('POST', '/google/notify', { channelId: 'chan-2' }))).toMatchObject({ statuses: [], skipped: 'stopped' });
    await server.sandbox.waitForDeliveries();
    expect(receiver.received.length).toBe(count);
    expect(server.sandbox.channels('google')[0]).toMatchObject({ id: 'chan-2', stopped: true });
  });

  it('expiration: 7 days by default and at most; past it the channel is silent', async () => {
    const token = await connect('google', GOOGLE_SCOPES);
    const watch = (id: string, extra: Json) =>
      call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', token, { id, type: 'web_hook', address: `${receiver.url}/google/exp`, ...extra });

    const before = server.sandbox.now();
    const capped = await json(await watch('long', { expiration: String(before + 30 * DAY_MS) }));
    const byDefault = await json(await watch('default', {}));
    const after = server.sandbox.now();
    for (const channel of [capped, byDefault]) {
      expect(Number(channel.expiration)).toBeGreaterThanOrEqual(before + 7 * DAY_MS);
      expect(Number(channel.expiration)).toBeLessThanOrEqual(after + 7 * DAY_MS);
    }
    const shortExpiration = before + 3_600_000;
    expect((await json(await watch('short', { expiration: shortExpiration }))).expiration).toBe(String(shortExpiration));
    const ttl = await json(await watch('ttl', { params: { ttl: '60' } }));
    expect(Number(ttl.expiration)).toBeLessThanOrEqual(server.sandbox.now() + 60_000);
    expect((await watch('past', { expiration: before - 1 })).status).toBe(400);
    expect((await watch('bad id!', {})).status).toBe(400);
    expect((await watch('ftp', { address: 'ftp://example.com/x' })).status).toBe(400);

    await server.sandbox.waitForDeliveries();
    server.sandbox.advanceClock(7 * 24 * 3600 + 1);
    const count = receiver.received.length;
    expect(await server.sandbox.googleNotify({ channelId: 'long' })).toMatchObject({ statuses: [], skipped: 'expired' });
    expect(receiver.received.length).toBe(count);
    expect(server.sandbox.channels('google').find((channel) => channel.id === 'long')).toMatchObject({ expired: true });
  });

  it('needs a calendar scope (403) and a valid token (401); a dead endpoint is recorded, not thrown', async () => {
    const gmailOnly = await connect('google', 'openid email https://www.googleapis.com/auth/gmail.send');
    const body = { id: 'c', type: 'web_hook', address: `${receiver.url}/google/x` };
    const forbidden = await call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', gmailOnly, body);
    expect(forbidden.status).toBe(403);
    expect(errorReason(await json(forbidden))).toBe('insufficientPermissions');
    expect((await call('POST', '/google/www/drive/v3/changes/watch?pageToken=1', gmailOnly, body)).status).toBe(403);
    expect((await call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', 'ya29.nope', body)).status).toBe(401);

    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', () => resolve()));
    const { port } = dead.address() as AddressInfo;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const token = await connect('google', GOOGLE_SCOPES);
    const response = await call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', token, { ...body, address: `http://127.0.0.1:${port}/hook` });
    expect(response.status).toBe(200);
    await server.sandbox.waitForDeliveries();
    const delivery = server.sandbox.channels('google')[0]?.deliveries[0];
    expect(delivery).toMatchObject({ kind: 'sync', status: null });
    expect(delivery?.error).toMatch(/ECONNREFUSED|fetch failed/);
    expect(await server.sandbox.googleNotify({ channelId: 'c' })).toMatchObject({ statuses: [null] });
  });
});

describe('Google Drive changes', () => {
  it('startPageToken, changes.watch (pageToken required), change messages move the page token; drive channels.stop', async () => {
    const token = await connect('google', GOOGLE_SCOPES);
    const start = await json(await call('GET', '/google/www/drive/v3/changes/startPageToken', token));
    expect(start).toMatchObject({ kind: 'drive#startPageToken' });
    const pageToken = str(start.startPageToken);
    expect(pageToken).toMatch(/^\d+$/);

    const body = { id: 'drive-1', type: 'web_hook', address: `${receiver.url}/google/drive`, token: 'drive-token' };
    const missing = await call('POST', '/google/www/drive/v3/changes/watch', token, body);
    expect(missing.status).toBe(400);
    expect(errorReason(await json(missing))).toBe('required');
    const response = await call('POST', `/google/www/drive/v3/changes/watch?pageToken=${pageToken}`, token, body);
    expect(response.status).toBe(200);
    const channel = await json(response);
    expect(channel).toMatchObject({ kind: 'api#channel', id: 'drive-1', token: 'drive-token' });
    expect(str(channel.resourceUri)).toBe(`https://www.googleapis.com/drive/v3/changes?alt=json&pageToken=${pageToken}`);

    await waitFor(() => at('/google/drive').length === 1, 'the Drive sync message');
    expect(header(at('/google/drive')[0], 'x-goog-resource-state')).toBe('sync');
    const notified = await json(await control('POST', '/google/notify', { channelId: 'drive-1' }));
    expect(notified).toMatchObject({ state: 'change', statuses: [200], messageNumbers: [2] });
    expect(header(at('/google/drive')[1], 'x-goog-resource-state')).toBe('change');
    expect((await control('POST', '/google/notify', { channelId: 'drive-1', state: 'exists' })).status).toBe(400);
    const next = await json(await call('GET', '/google/www/drive/v3/changes/startPageToken', token));
    expect(Number(next.startPageToken)).toBeGreaterThan(Number(pageToken));

    // A Drive channel is stopped through Drive, not Calendar.
    expect((await call('POST', '/google/www/calendar/v3/channels/stop', token, { id: 'drive-1', resourceId: channel.resourceId })).status).toBe(404);
    expect((await call('POST', '/google/www/drive/v3/channels/stop', token, { id: 'drive-1', resourceId: channel.resourceId })).status).toBe(204);
  });
});

describe('Gmail watch and Pub/Sub push', () => {
  it('watch/stop, and a push whose RS256 OIDC token verifies against the sandbox JWKS', async () => {
    const readonly = await connect('google', GOOGLE_SCOPES, 'user@example.com');
    const sendOnly = await connect('google', 'openid email https://www.googleapis.com/auth/gmail.send', 'user@example.com');
    const watchBody = { topicName: 'projects/acme/topics/gmail', labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' };

    expect((await call('POST', '/google/gmail/gmail/v1/users/me/watch', sendOnly, watchBody)).status).toBe(403);
    expect((await call('POST', '/google/gmail/gmail/v1/users/me/watch', readonly, { topicName: 'mytopic' })).status).toBe(400);
    const before = server.sandbox.now();
    const watched = await json(await call('POST', '/google/gmail/gmail/v1/users/me/watch', readonly, watchBody));
    expect(str(watched.historyId)).toMatch(/^\d+$/);
    expect(Number(watched.expiration)).toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(Number(watched.expiration)).toBeLessThanOrEqual(server.sandbox.now() + 7 * DAY_MS);

    // Without a configured push URL the control API says so.
    const unconfigured = await control('POST', '/google/gmail-push', { emailAddress: 'user@example.com', audience: 'x' });
    expect(unconfigured.status).toBe(409);

    const pushUrl = `${receiver.url}/gmail/push`;
    const audience = 'https://api.acme.test/webhooks/gmail';
    expect(await json(await control('POST', '/push-config', { gmailPushUrl: pushUrl }))).toMatchObject({ gmailPushUrl: pushUrl });
    const pushed = await json(await control('POST', '/google/gmail-push', { emailAddress: 'user@example.com', historyId: '1234567890', audience }));
    expect(pushed).toMatchObject({ emailAddress: 'user@example.com', historyId: '1234567890', audience, status: 200 });

    const [push] = at('/gmail/push');
    expect(push?.method).toBe('POST');
    expect(header(push, 'content-type')).toMatch(/^application\/json/);
    const body = z
      .object({
        message: z.object({ data: z.string(), messageId: z.string(), publishTime: z.string() }).loose(),
        subscription: z.string(),
      })
      .parse(JSON.parse(push?.body ?? ''));
    expect(body.subscription).toBe('projects/sandbox/subscriptions/gmail-push');
    expect(body.message.messageId).toBe(pushed.messageId);
    expect(Date.parse(body.message.publishTime)).toBeGreaterThan(0);
    // The Gmail push guide's sample bytes (design note §0.3), decoded to what was sent.
    expect(body.message.data).toBe('eyJlbWFpbEFkZHJlc3MiOiAidXNlckBleGFtcGxlLmNvbSIsICJoaXN0b3J5SWQiOiAiMTIzNDU2Nzg5MCJ9');
    expect(JSON.parse(Buffer.from(body.message.data, 'base64').toString('utf8'))).toEqual({ emailAddress: 'user@example.com', historyId: '1234567890' });

    const jwt = str(/^Bearer (\S+)$/.exec(str(header(push, 'authorization')))?.[1]);
    const jwksUrl = new URL(`${base}/google/www/oauth2/v3/certs`);
    const jwks = createRemoteJWKSet(jwksUrl);
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, {
      issuer: 'https://accounts.google.com',
      audience,
      algorithms: ['RS256'],
      currentDate: new Date(server.sandbox.now()),
    });
    expect(payload).toMatchObject({ email: 'gmail-push@sandbox.iam.gserviceaccount.com', email_verified: true });
    expect(payload.exp).toBeGreaterThan(payload.iat ?? Number.POSITIVE_INFINITY);
    const published = jsonObject.parse(await (await fetch(jwksUrl)).json());
    expect(published).toEqual({ keys: [expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: protectedHeader.kid })] });
    await expect(jwtVerify(jwt, jwks, { audience: 'someone-else', currentDate: new Date(server.sandbox.now()) })).rejects.toThrow();

    // A renewed watch sends one push at once (to the configured URL, audience = the URL by default); stop ends pushes.
    await call('POST', '/google/gmail/gmail/v1/users/me/watch', readonly, watchBody);
    await server.sandbox.waitForDeliveries();
    expect(at('/gmail/push')).toHaveLength(2);
    const initialJwt = str(/^Bearer (\S+)$/.exec(str(header(at('/gmail/push')[1], 'authorization')))?.[1]);
    expect((await jwtVerify(initialJwt, jwks, { audience: pushUrl, currentDate: new Date(server.sandbox.now()) })).payload.aud).toBe(pushUrl);
    expect(decodeProtectedHeader(initialJwt).kid).toBe(protectedHeader.kid);

    expect((await call('POST', '/google/gmail/gmail/v1/users/me/stop', readonly)).status).toBe(204);
    const afterStop = await control('POST', '/google/gmail-push', { emailAddress: 'user@example.com', audience });
    expect(afterStop.status).toBe(409);
    expect(at('/gmail/push')).toHaveLength(2);
    expect(server.sandbox.channels('google')).toEqual([
      expect.objectContaining({ kind: 'gmail', id: 'gmail:user@example.com', stopped: true, address: pushUrl }),
    ]);
  });
});

// --- Microsoft Graph ---

describe('Graph subscriptions', () => {
  const inMinutes = (minutes: number) => iso(server.sandbox.now() + minutes * MINUTE_MS);

  async function subscribe(token: string, extra: Json = {}): Promise<Response> {
    return call('POST', '/microsoft/graph/v1.0/subscriptions', token, {
      changeType: 'created,updated',
      notificationUrl: `${receiver.url}/graph/notify`,
      resource: '/me/events',
      expirationDateTime: inMinutes(60),
      clientState: 'secret-client-state',
      ...extra,
    });
  }

  it('create runs the validation handshake: the decoded token echoed → 201; a wrong echo → 400', async () => {
    const token = await connect('microsoft', MICROSOFT_SCOPES);
    const response = await subscribe(token, { lifecycleNotificationUrl: `${receiver.url}/graph/lifecycle` });
    expect(response.status).toBe(201);
    const subscription = await json(response);
    expect(str(subscription.id)).toMatch(/^[0-9a-f-]{36}$/);
    expect(subscription).toMatchObject({
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity',
      resource: '/me/events',
      applicationId: SANDBOX_CLIENTS.microsoft.clientId,
      changeType: 'created,updated',
      clientState: 'secret-client-state',
      notificationUrl: `${receiver.url}/graph/notify`,
      lifecycleNotificationUrl: `${receiver.url}/graph/lifecycle`,
    });
    expect(str(subscription.creatorId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(str(subscription.expirationDateTime)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);

    for (const path of ['/graph/notify', '/graph/lifecycle']) {
      const [validation] = at(path);
      expect(validation?.method).toBe('POST');
      expect(header(validation, 'content-type')).toMatch(/^text\/plain/);
      expect(validation?.query.get('validationToken')).toMatch(/^Validation: /);
      expect(validation?.rawUrl).not.toContain(' ');
    }
    const bad = await subscribe(token, { notificationUrl: `${receiver.url}/graph/bad` });
    expect(bad.status).toBe(400);
    expect(graphCode(await json(bad))).toEqual({
      code: 'InvalidRequest',
      message: 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    });
    const badLifecycle = await subscribe(token, { lifecycleNotificationUrl: `${receiver.url}/graph/bad-lifecycle` });
    expect(badLifecycle.status).toBe(400);
    expect(server.sandbox.channels('microsoft').map((channel) => channel.id)).toEqual([subscription.id]);
    expect(JSON.stringify(server.sandbox.channels('microsoft'))).not.toContain('secret-client-state');
  });

  it('maximum expiration per resource (events 10080 min, driveItem 42300, others 4230), in the future, configurable', async () => {
    const token = await connect('microsoft', MICROSOFT_SCOPES);
    const cases: Array<[string, string, number]> = [
      ['me/events', 'created', 10_080],
      ['/me/events', 'updated', 10_080],
      ['me/drive/root', 'updated', 42_300],
      ["me/mailFolders('inbox')/messages", 'created', 4_230],
    ];
    for (const [resource, changeType, max] of cases) {
      const within = await subscribe(token, { resource, changeType, expirationDateTime: inMinutes(max - 1) });
      expect(within.status, resource).toBe(201);
      const beyond = await subscribe(token, { resource, changeType, expirationDateTime: inMinutes(max + 1) });
      expect(beyond.status, resource).toBe(400);
      const error = graphCode(await json(beyond));
      expect(error.code).toBe('ExtensionError');
      expect(error.message).toContain(`${max} minutes`);
    }
    expect((await subscribe(token, { expirationDateTime: inMinutes(-1) })).status).toBe(400);
    expect((await subscribe(token, { expirationDateTime: 'tomorrow' })).status).toBe(400);
    expect((await subscribe(token, { resource: 'me/drive/root', changeType: 'created' })).status).toBe(400);
    expect((await subscribe(token, { changeType: 'created,renamed' })).status).toBe(400);

    server.sandbox.configurePush({ graphMaxExpirationMinutes: { event: 4_230 } });
    try {
      expect((await subscribe(token, { expirationDateTime: inMinutes(4_231) })).status).toBe(400);
    } finally {
      server.sandbox.configurePush({ graphMaxExpirationMinutes: { event: 10_080 } });
    }
  });

  it('GET, PATCH renews, DELETE; unknown ids are 404 ResourceNotFound; a missing scope is 403', async () => {
    const token = await connect('microsoft', MICROSOFT_SCOPES);
    const id = str((await json(await subscribe(token))).id);
    expect((await json(await call('GET', `/microsoft/graph/v1.0/subscriptions/${id}`, token))).id).toBe(id);
    const listed = await json(await call('GET', '/microsoft/graph/v1.0/subscriptions', token));
    expect(z.array(z.object({ id: z.string() }).loose()).parse(listed.value).map((entry) => entry.id)).toEqual([id]);

    const renewedTo = inMinutes(3 * 24 * 60);
    const renewed = await call('PATCH', `/microsoft/graph/v1.0/subscriptions/${id}`, token, { expirationDateTime: renewedTo });
    expect(renewed.status).toBe(200);
    expect(Date.parse(str((await json(renewed)).expirationDateTime))).toBe(Date.parse(renewedTo));
    expect((await call('PATCH', `/microsoft/graph/v1.0/subscriptions/${id}`, token, { expirationDateTime: inMinutes(20_000) })).status).toBe(400);
    const unknown = await call('PATCH', '/microsoft/graph/v1.0/subscriptions/00000000-0000-0000-0000-000000000000', token, { expirationDateTime: renewedTo });
    expect(unknown.status).toBe(404);
    expect(graphCode(await json(unknown)).code).toBe('ResourceNotFound');

    expect((await call('DELETE', `/microsoft/graph/v1.0/subscriptions/${id}`, token)).status).toBe(204);
    expect((await call('GET', `/microsoft/graph/v1.0/subscriptions/${id}`, token)).status).toBe(404);
    expect((await call('DELETE', `/microsoft/graph/v1.0/subscriptions/${id}`, token)).status).toBe(404);

    const userOnly = await connect('microsoft', 'openid User.Read');
    const forbidden = await subscribe(userOnly);
    expect(forbidden.status).toBe(403);
    expect(receiver.received.filter((entry) => entry.query.has('validationToken'))).toHaveLength(1);
  });

  it('notify carries clientState; lifecycle events go to the lifecycle URL; subscriptionRemoved deletes it', async () => {
    const token = await connect('microsoft', MICROSOFT_SCOPES);
    const subscription = await json(await subscribe(token, { lifecycleNotificationUrl: `${receiver.url}/graph/lifecycle` }));
    const id = str(subscription.id);

    const notified = await json(await control('POST', '/microsoft/notify', { subscriptionId: id, count: 2 }));
    expect(notified).toMatchObject({ subscriptionId: id, changeType: 'created', statuses: [202, 202] });
    const notifications = at('/graph/notify').filter((entry) => !entry.query.has('validationToken'));
    expect(notifications).toHaveLength(2);
    const item = z.object({ value: z.array(jsonObject).length(1) }).parse(JSON.parse(notifications[0]?.body ?? '')).value[0];
    expect(item).toMatchObject({
      subscriptionId: id,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      changeType: 'created',
      clientState: 'secret-client-state',
      resourceData: { '@odata.type': '#Microsoft.Graph.Event', id: z.array(z.string()).parse(notified.resourceIds)[0] },
    });
    expect(str(item?.tenantId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(str(item?.resource)).toMatch(/^Users\/[0-9a-f-]{36}\/Events\//);
    expect(header(notifications[0], 'content-type')).toMatch(/^application\/json/);
    expect((await control('POST', '/microsoft/notify', { subscriptionId: id, changeType: 'deleted' })).status).toBe(400);

    const reauthorize = await server.sandbox.graphLifecycle({ subscriptionId: id, lifecycleEvent: 'reauthorizationRequired' });
    expect(reauthorize).toMatchObject({ status: 202, removed: false, url: `${receiver.url}/graph/lifecycle` });
    const lifecycle = at('/graph/lifecycle').filter((entry) => !entry.query.has('validationToken'));
    expect(z.object({ value: z.array(jsonObject) }).parse(JSON.parse(lifecycle[0]?.body ?? '')).value).toEqual([
      expect.objectContaining({ subscriptionId: id, lifecycleEvent: 'reauthorizationRequired', clientState: 'secret-client-state', tenantId: item?.tenantId }),
    ]);
    expect((await call('POST', `/microsoft/graph/v1.0/subscriptions/${id}/reauthorize`, token)).status).toBe(204);

    const removed = await json(await control('POST', '/microsoft/lifecycle', { subscriptionId: id, lifecycleEvent: 'subscriptionRemoved' }));
    expect(removed).toMatchObject({ status: 202, removed: true });
    expect((await call('GET', `/microsoft/graph/v1.0/subscriptions/${id}`, token)).status).toBe(404);
    expect((await control('POST', '/microsoft/notify', { subscriptionId: id })).status).toBe(404);
    expect(server.sandbox.channels('microsoft')).toEqual([]);

    // Without a lifecycle URL, lifecycle events go to the notification URL.
    const plain = str((await json(await subscribe(token))).id);
    expect(await server.sandbox.graphLifecycle({ subscriptionId: plain, lifecycleEvent: 'missed' })).toMatchObject({ url: `${receiver.url}/graph/notify`, status: 202 });
  });

  it('past its expiration (sandbox clock) a subscription stops delivering and disappears', async () => {
    const token = await connect('microsoft', MICROSOFT_SCOPES);
    const id = str((await json(await subscribe(token, { expirationDateTime: inMinutes(30) }))).id);
    expect((await server.sandbox.graphNotify({ subscriptionId: id })).statuses).toEqual([202]);
    const count = receiver.received.length;
    server.sandbox.advanceClock(31 * 60);
    await expect(server.sandbox.graphNotify({ subscriptionId: id })).rejects.toThrow(/No Graph subscription/);
    expect((await control('POST', '/microsoft/lifecycle', { subscriptionId: id, lifecycleEvent: 'missed' })).status).toBe(404);
    expect(receiver.received.length).toBe(count);
    expect(jsonObject.parse(await (await control('GET', '/channels?provider=microsoft')).json()).channels).toEqual([]);
    // The access token is also an hour old now; a fresh one sees a 404.
    const fresh = await connect('microsoft', MICROSOFT_SCOPES);
    expect((await call('GET', `/microsoft/graph/v1.0/subscriptions/${id}`, fresh)).status).toBe(404);
  });
});

describe('delivery timeout', () => {
  it('an endpoint that never answers fails the Graph handshake and is recorded as no answer (timeout configurable)', async () => {
    server.sandbox.configurePush({ deliveryTimeoutMs: 150 });
    try {
      expect((await json(await control('GET', '/push-config'))).deliveryTimeoutMs).toBe(150);
      const microsoft = await connect('microsoft', MICROSOFT_SCOPES);
      const started = Date.now();
      const slow = await call('POST', '/microsoft/graph/v1.0/subscriptions', microsoft, {
        changeType: 'created',
        notificationUrl: `${receiver.url}/slow/graph`,
        resource: 'me/events',
        expirationDateTime: iso(server.sandbox.now() + 60 * MINUTE_MS),
      });
      expect(slow.status).toBe(400);
      expect(Date.now() - started).toBeLessThan(2_000);

      const google = await connect('google', GOOGLE_SCOPES);
      await call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', google, { id: 'slow', type: 'web_hook', address: `${receiver.url}/slow/google` });
      await server.sandbox.waitForDeliveries();
      expect(server.sandbox.channels('google')[0]?.deliveries[0]).toMatchObject({ kind: 'sync', status: null, error: 'no answer within 150 ms' });
    } finally {
      server.sandbox.configurePush({ deliveryTimeoutMs: 10_000 });
    }
  });
});

// --- persistence ---

describe('push state in the state file', () => {
  it('channels, subscriptions and the signing key (same kid) survive a restart; the request log shows the calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-push-'));
    const statePath = join(dir, 'sandbox.json');
    try {
      const first = await startSandboxServer({ sandbox: new Sandbox({ statePath }) });
      const previousBase = base;
      base = first.url;
      let googleToken: string;
      let channelId: string;
      let subscriptionId: string;
      let kid: string | undefined;
      try {
        googleToken = await connect('google', GOOGLE_SCOPES);
        const microsoftToken = await connect('microsoft', MICROSOFT_SCOPES);
        channelId = str(
          (await json(await call('POST', '/google/www/calendar/v3/calendars/primary/events/watch', googleToken, { id: 'persisted', type: 'web_hook', address: `${receiver.url}/google/persist` }))).id,
        );
        subscriptionId = str((await json(await subscribe(microsoftToken))).id);
        kid = first.sandbox.googleJwks().keys[0]?.kid;
        expect(first.sandbox.requests({ provider: 'google' }).some((entry) => entry.path.endsWith('/events/watch') && entry.status === 200)).toBe(true);
        await first.sandbox.waitForDeliveries();
      } finally {
        await first.close();
        await first.sandbox.close();
        base = previousBase;
      }
      const stored = readFileSync(statePath, 'utf8');
      expect(stored).toContain('"signingKey"');
      expect(stored).not.toContain(googleToken);

      const second = new Sandbox({ statePath });
      try {
        expect(second.googleJwks().keys[0]?.kid).toBe(kid);
        expect(second.channels().map((channel) => channel.id).sort()).toEqual([channelId, subscriptionId].sort());
        const notified = await second.googleNotify({ channelId });
        expect(notified).toMatchObject({ statuses: [200], messageNumbers: [2] });
        expect((await second.graphNotify({ subscriptionId })).statuses).toEqual([202]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    async function subscribe(token: string): Promise<Response> {
      return call('POST', '/microsoft/graph/v1.0/subscriptions', token, {
        changeType: 'updated',
        notificationUrl: `${receiver.url}/graph/persist`,
        resource: 'me/drive/root',
        expirationDateTime: iso(Date.now() + 60 * MINUTE_MS),
      });
    }
  });
});
