import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { Sandbox, startSandboxServer, type SandboxServer } from '../../infra/local/sandbox';
import { SANDBOX_SLACK_SIGNING_SECRET, slackSignature, verifySlackRequest } from '../../shared/providers/slack/webhook';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest as Received } from '../support/http-receiver';
import { json, jsonObject, sandboxOAuth, str, type Json, type SandboxProvider as Provider } from '../support/sandbox-oauth';

/**
 * The data the sync engine pulls from the sandbox fakes, over real HTTP:
 * Slack users.list / conversations.list, Google Calendar sync tokens, Drive
 * changes, Gmail history, Graph delta queries; invalidation (410/404), faults
 * on these paths, and the Slack Events API sender (signing, retries).
 */

const SCOPES: Record<Provider, string> = {
  slack: 'users:read,channels:read,channels:manage,chat:write',
  google: [
    'openid',
    'email',
    'https://www.googleapis.com/auth/calendar.events',
    'https://www.googleapis.com/auth/drive.readonly',
    'https://www.googleapis.com/auth/gmail.readonly',
    'https://www.googleapis.com/auth/gmail.send',
  ].join(' '),
  microsoft: 'openid offline_access User.Read Calendars.ReadWrite Files.Read.All',
};
const DAY_MS = 24 * 3600 * 1000;

const objects = (value: unknown): Json[] => z.array(jsonObject).parse(value);

// --- the receiver (the app's Slack events endpoint) ---

/**
 * `/ok` answers 200; `/fail` 500; `/no-retry` 500 with `x-slack-no-retry: 1`;
 * `/slow` never answers; `/flaky` is slow for its first two requests, then
 * answers 200; `/echo` answers url_verification with the challenge (JSON),
 * `/wrong` with another one.
 */
function startReceiver(): Promise<HttpReceiver> {
  return startHttpReceiver(({ path, body }, response, received) => {
    if (path === '/slow') return;
    if (path === '/flaky' && received.filter((entry) => entry.path === '/flaky').length <= 2) return;
    if (path === '/fail') return void response.writeHead(500).end('boom');
    if (path === '/no-retry') return void response.writeHead(500, { 'x-slack-no-retry': '1' }).end();
    if (path === '/echo' || path === '/wrong') {
      const challenge = str(jsonObject.parse(JSON.parse(body)).challenge);
      response.writeHead(200, { 'content-type': 'application/json' });
      return void response.end(JSON.stringify({ challenge: path === '/echo' ? challenge : `${challenge}-not` }));
    }
    response.writeHead(200).end();
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
  server.sandbox.configurePush({ slackEventsUrl: null, slackEventsTimeoutMs: 3_000, slackRetryDelaysMs: [0, 0, 0] });
  receiver.received.length = 0;
});

// --- helpers ---

const oauth = sandboxOAuth({ base: () => base, state: 's', scopes: SCOPES });

async function connect(provider: Provider): Promise<string> {
  return str((await oauth.connect(provider)).access_token);
}

async function get(url: string, token: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url.startsWith('http') ? url : `${base}${url}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
}

async function getJson(url: string, token: string, headers: Record<string, string> = {}): Promise<Json> {
  const response = await get(url, token, headers);
  expect(response.status, await response.clone().text()).toBe(200);
  return json(response);
}

async function slack(method: string, token: string, params: Record<string, unknown> = {}): Promise<Json> {
  const response = await fetch(`${base}/slack/slack/api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  expect(response.status).toBe(200);
  return json(response);
}

async function control(method: string, path: string, body?: unknown): Promise<Json> {
  const response = await oauth.control(method, path, body);
  expect(response.status, await response.clone().text()).toBe(200);
  return json(response);
}

const data = (provider: Provider, op: Record<string, unknown>) => control('POST', `/data/${provider}`, op);

/** Every page of a Slack list, with the limit given. */
async function slackAll(method: 'users.list' | 'conversations.list', token: string, key: 'members' | 'channels', params: Record<string, unknown>): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let cursor = '';
  let pages = 0;
  do {
    const page = await slack(method, token, { ...params, ...(cursor ? { cursor } : {}) });
    expect(page.ok).toBe(true);
    items.push(...objects(page[key]));
    cursor = str(jsonObject.parse(page.response_metadata).next_cursor);
    pages += 1;
  } while (cursor !== '');
  return { items, pages };
}

/** Every page of a Calendar listing from `query`; returns the items and the sync token. */
async function calendarAll(token: string, query: string): Promise<{ items: Json[]; syncToken: string; pages: number }> {
  const items: Json[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await getJson(`/google/www/calendar/v3/calendars/primary/events?${query}${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`, token);
    pages += 1;
    items.push(...objects(page.items));
    if (typeof page.nextPageToken === 'string') {
      expect(page.nextSyncToken).toBeUndefined();
      pageToken = page.nextPageToken;
      continue;
    }
    return { items, syncToken: str(page.nextSyncToken), pages };
  }
}

/** Follows a Graph delta round from `url` to its deltaLink. */
async function deltaAll(url: string, token: string, pageSize?: number): Promise<{ items: Json[]; deltaLink: string; pages: number; applied: Array<string | null> }> {
  const items: Json[] = [];
  const applied: Array<string | null> = [];
  let next = url;
  let pages = 0;
  for (;;) {
    const response = await get(next, token, pageSize ? { prefer: `odata.maxpagesize=${pageSize}` } : {});
    expect(response.status, await response.clone().text()).toBe(200);
    applied.push(response.headers.get('preference-applied'));
    const page = jsonObject.parse(await response.json());
    pages += 1;
    const value = objects(page.value);
    if (pageSize) expect(value.length).toBeLessThanOrEqual(pageSize);
    items.push(...value);
    if (typeof page['@odata.nextLink'] === 'string') {
      expect(page['@odata.nextLink']).toMatch(new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/microsoft/graph/v1\\.0/.*\\$skiptoken=`));
      next = page['@odata.nextLink'];
      continue;
    }
    expect(str(page['@odata.deltaLink'])).toContain('$deltatoken=');
    return { items, deltaLink: str(page['@odata.deltaLink']), pages, applied };
  }
}

const ids = (items: Json[]) => items.map((item) => str(item.id));

// --- Slack ---

describe('Slack users.list and conversations.list', () => {
  it('pages users with cursors; ~5 seeded users; adds, updates and deactivations show; limit is capped at 1000', async () => {
    const token = await connect('slack');
    const seeded = await slackAll('users.list', token, 'members', { limit: 2 });
    expect(seeded.items).toHaveLength(5);
    expect(seeded.pages).toBe(3);
    expect(new Set(ids(seeded.items)).size).toBe(5);
    expect(seeded.items.filter((user) => user.is_bot === true)).toHaveLength(1);

    const added = await data('slack', { op: 'add', resource: 'users', item: { name: 'new.hire', real_name: 'New Hire', profile: { title: 'Engineer' } } });
    const id = str(added.id);
    await data('slack', { op: 'update', resource: 'users', id, item: { profile: { title: 'Senior Engineer' } } });
    const janeId = str(seeded.items.find((user) => user.name === 'jane.doe')?.id);
    await data('slack', { op: 'delete', resource: 'users', id: janeId });

    const after = await slackAll('users.list', token, 'members', {});
    expect(after.pages).toBe(1);
    const hire = after.items.find((user) => user.id === id);
    expect(hire).toMatchObject({ name: 'new.hire', real_name: 'New Hire', deleted: false, profile: { title: 'Senior Engineer' } });
    expect(str(jsonObject.parse(hire?.profile).email)).toContain('new.hire@');
    expect(after.items.find((user) => user.id === janeId)).toMatchObject({ deleted: true });
    expect(await slack('users.info', token, { user: id })).toMatchObject({ ok: true, user: { id, name: 'new.hire' } });

    await data('slack', { op: 'bulk-add', resource: 'users', count: 1_200 });
    const big = await slack('users.list', token, { limit: 5_000 });
    expect(objects(big.members)).toHaveLength(1_000);
    const rest = await slack('users.list', token, { limit: 5_000, cursor: str(jsonObject.parse(big.response_metadata).next_cursor) });
    expect(objects(rest.members)).toHaveLength(206);
    expect(rest.response_metadata).toEqual({ next_cursor: '' });

    const viaGet = jsonObject.parse(await (await get('/slack/slack/api/users.list?limit=2', token)).json());
    expect(objects(viaGet.members)).toHaveLength(2);
    expect(str(jsonObject.parse(viaGet.response_metadata).next_cursor)).not.toBe('');
    expect(await slack('users.list', token, { cursor: 'bm9wZQ==' })).toEqual({ ok: false, error: 'invalid_cursor' });
    expect(await slack('users.list', token, { limit: 'lots' })).toEqual({ ok: false, error: 'invalid_limit' });
  });

  it('lists public channels (conversations.create included), private ones need groups:read, archived ones stay unless excluded', async () => {
    const token = await connect('slack');
    const seeded = await slack('conversations.list', token);
    expect(objects(seeded.channels).map((channel) => channel.name).sort()).toEqual(['general', 'random']);
    expect(seeded.response_metadata).toEqual({ next_cursor: '' });
    expect(objects(seeded.channels)[0]).toMatchObject({ is_channel: true, is_archived: false, num_members: 4 });

    expect((await slack('conversations.create', token, { name: 'new-hires' })).ok).toBe(true);
    await data('slack', { op: 'add', resource: 'channels', item: { name: 'secret-project', is_private: true } });
    const archived = await data('slack', { op: 'add', resource: 'channels', item: { name: 'old-team' } });
    await data('slack', { op: 'delete', resource: 'channels', id: str(archived.id) });

    const all = await slackAll('conversations.list', token, 'channels', { limit: 1, types: 'public_channel,private_channel' });
    expect(all.pages).toBe(4);
    expect(all.items.map((channel) => channel.name).sort()).toEqual(['general', 'new-hires', 'old-team', 'random']);
    expect(all.items.find((channel) => channel.name === 'old-team')).toMatchObject({ is_archived: true });
    const active = await slackAll('conversations.list', token, 'channels', { exclude_archived: true });
    expect(active.items.map((channel) => channel.name).sort()).toEqual(['general', 'new-hires', 'random']);

    expect(await slack('conversations.list', token, { types: 'private_channel' })).toMatchObject({ ok: false, error: 'missing_scope', needed: 'groups:read' });
    expect(await slack('conversations.list', token, { types: 'channels' })).toEqual({ ok: false, error: 'invalid_types' });
  });
});

// --- Google ---

describe('Google Calendar events.list with sync tokens', () => {
  it('pages a full listing (events.insert included), then returns only changes, deletions as cancelled', async () => {
    const token = await connect('google');
    await data('google', { op: 'bulk-add', resource: 'calendar', count: 5 });
    const inserted = await fetch(`${base}/google/www/calendar/v3/calendars/primary/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ summary: 'Onboarding', start: { dateTime: '2030-01-01T10:00:00Z' }, end: { dateTime: '2030-01-01T11:00:00Z' } }),
    });
    const insertedId = str(jsonObject.parse(await inserted.json()).id);

    const full = await calendarAll(token, 'maxResults=2');
    expect(full.pages).toBe(3);
    expect(full.items).toHaveLength(6);
    expect(ids(full.items)).toContain(insertedId);
    expect(full.items.every((event) => event.kind === 'calendar#event' && event.status === 'confirmed')).toBe(true);

    const [first, second] = ids(full.items);
    const added = await data('google', { op: 'add', resource: 'calendar', item: { summary: 'Review' } });
    await data('google', { op: 'update', resource: 'calendar', id: first, item: { summary: 'Renamed' } });
    await data('google', { op: 'delete', resource: 'calendar', id: second });

    const changes = await calendarAll(token, `syncToken=${encodeURIComponent(full.syncToken)}&maxResults=2`);
    expect(changes.pages).toBe(2);
    expect(changes.items.map((event) => [event.id, event.status])).toEqual([
      [added.id, 'confirmed'],
      [first, 'confirmed'],
      [second, 'cancelled'],
    ]);
    expect(changes.items[1]).toMatchObject({ summary: 'Renamed', sequence: 1 });

    const none = await calendarAll(token, `syncToken=${encodeURIComponent(changes.syncToken)}`);
    expect(none.items).toEqual([]);
    const again = await calendarAll(token, '');
    expect(again.items).toHaveLength(6);

    const mixed = await get(`/google/www/calendar/v3/calendars/primary/events?syncToken=${encodeURIComponent(none.syncToken)}&timeMin=2030-01-01T00:00:00Z`, token);
    expect(mixed.status).toBe(400);
  });

  it('invalidated or too-old sync tokens answer 410 fullSyncRequired', async () => {
    const token = await connect('google');
    await data('google', { op: 'bulk-add', resource: 'calendar', count: 2 });
    const full = await calendarAll(token, '');
    const invalidated = await data('google', { op: 'invalidate-cursors', resource: 'calendar' });
    expect(invalidated.accounts).toEqual(['admin@sandbox-google.test']);

    const gone = await get(`/google/www/calendar/v3/calendars/primary/events?syncToken=${encodeURIComponent(full.syncToken)}`, token);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toEqual({
      error: {
        code: 410,
        message: 'Sync token is no longer valid, a full sync is required.',
        errors: [{ domain: 'global', reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.' }],
      },
    });

    // A new full sync gives a good token; a deletion pruned after the retention window (7 days) makes older tokens too old.
    const fresh = await calendarAll(token, '');
    await data('google', { op: 'delete', resource: 'calendar', id: str(fresh.items[0]?.id) });
    const afterDelete = await calendarAll(token, `syncToken=${encodeURIComponent(fresh.syncToken)}`);
    expect(afterDelete.items).toHaveLength(1);
    await control('POST', '/clock', { advanceSeconds: 8 * 24 * 3600 });
    const token2 = await connect('google');
    expect((await get(`/google/www/calendar/v3/calendars/primary/events?syncToken=${encodeURIComponent(fresh.syncToken)}`, token2)).status).toBe(410);
    expect((await calendarAll(token2, `syncToken=${encodeURIComponent(afterDelete.syncToken)}`)).items).toEqual([]);
  });
});

describe('Google Drive changes and files', () => {
  it('changes.list pages by page token to newStartPageToken; removals; files.list pages; invalidation → 410', async () => {
    const token = await connect('google');
    const start = str((await getJson('/google/www/drive/v3/changes/startPageToken', token)).startPageToken);
    const bulk = await data('google', { op: 'bulk-add', resource: 'drive', count: 3 });
    const fileIds = z.array(z.string()).parse(bulk.ids);

    const first = await getJson(`/google/www/drive/v3/changes?pageToken=${start}&pageSize=2`, token);
    expect(first).toMatchObject({ kind: 'drive#changeList' });
    expect(objects(first.changes).map((change) => change.fileId)).toEqual(fileIds.slice(0, 2));
    expect(objects(first.changes)[0]).toMatchObject({ kind: 'drive#change', changeType: 'file', removed: false, file: { kind: 'drive#file', id: fileIds[0] } });
    const second = await getJson(`/google/www/drive/v3/changes?pageToken=${str(first.nextPageToken)}&pageSize=2`, token);
    expect(objects(second.changes).map((change) => change.fileId)).toEqual(fileIds.slice(2));
    const next = str(second.newStartPageToken);
    expect(second.nextPageToken).toBeUndefined();
    expect(str((await getJson('/google/www/drive/v3/changes/startPageToken', token)).startPageToken)).toBe(next);

    await data('google', { op: 'update', resource: 'drive', id: fileIds[0], item: { name: 'Renamed.txt' } });
    await data('google', { op: 'delete', resource: 'drive', id: fileIds[1] });
    const changed = await getJson(`/google/www/drive/v3/changes?pageToken=${next}`, token);
    expect(objects(changed.changes).map((change) => [change.fileId, change.removed])).toEqual([
      [fileIds[0], false],
      [fileIds[1], true],
    ]);
    expect(objects(changed.changes)[1]?.file).toBeUndefined();
    const withoutRemoved = await getJson(`/google/www/drive/v3/changes?pageToken=${next}&includeRemoved=false`, token);
    expect(objects(withoutRemoved.changes).map((change) => change.fileId)).toEqual([fileIds[0]]);

    const files = await getJson('/google/www/drive/v3/files?pageSize=1', token);
    expect(objects(files.files)).toHaveLength(1);
    const rest = await getJson(`/google/www/drive/v3/files?pageSize=5&pageToken=${str(files.nextPageToken)}`, token);
    expect([...ids(objects(files.files)), ...ids(objects(rest.files))]).toEqual([fileIds[0], fileIds[2]]);
    expect(rest.nextPageToken).toBeUndefined();

    await data('google', { op: 'invalidate-cursors', resource: 'drive' });
    const gone = await get(`/google/www/drive/v3/changes?pageToken=${str(changed.newStartPageToken)}`, token);
    expect(gone.status).toBe(410);
    expect(jsonObject.parse(await gone.json())).toMatchObject({ error: { code: 410, errors: [{ reason: 'fullSyncRequired' }] } });
    const restart = str((await getJson('/google/www/drive/v3/changes/startPageToken', token)).startPageToken);
    expect(objects((await getJson(`/google/www/drive/v3/changes?pageToken=${restart}`, token)).changes)).toEqual([]);
  });
});

describe('Gmail history', () => {
  it('history.list from startHistoryId: messagesAdded (sent mail too), deletions, paging; too old → 404', async () => {
    const token = await connect('google');
    const profile = await getJson('/google/gmail/gmail/v1/users/me/profile', token);
    const start = str(profile.historyId);
    const empty = await getJson(`/google/gmail/gmail/v1/users/me/history?startHistoryId=${start}`, token);
    expect(empty).toEqual({ historyId: start });

    const added = await data('google', { op: 'bulk-add', resource: 'gmail', count: 3 });
    const messageIds = z.array(z.string()).parse(added.ids);
    const raw = Buffer.from('To: jane@example.com\r\nSubject: Welcome\r\n\r\nHello').toString('base64url');
    const sent = await fetch(`${base}/google/gmail/gmail/v1/users/me/messages/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ raw }),
    });
    const sentId = str(jsonObject.parse(await sent.json()).id);

    const history: Json[] = [];
    let pageToken = '';
    let pages = 0;
    let historyId = '';
    do {
      const page = await getJson(`/google/gmail/gmail/v1/users/me/history?startHistoryId=${start}&maxResults=2${pageToken ? `&pageToken=${pageToken}` : ''}`, token);
      history.push(...objects(page.history));
      pageToken = typeof page.nextPageToken === 'string' ? page.nextPageToken : '';
      historyId = str(page.historyId);
      pages += 1;
    } while (pageToken);
    expect(pages).toBe(2);
    const addedIds = history.flatMap((record) => objects(record.messagesAdded).map((entry) => str(jsonObject.parse(entry.message).id)));
    expect(addedIds).toEqual([...messageIds, sentId]);
    expect(Number(historyId)).toBeGreaterThan(Number(start));
    expect(objects(history[3]?.messagesAdded)[0]).toMatchObject({ message: { id: sentId, labelIds: ['SENT'] } });

    await data('google', { op: 'delete', resource: 'gmail', id: messageIds[0] });
    const deleted = await getJson(`/google/gmail/gmail/v1/users/me/history?startHistoryId=${historyId}`, token);
    expect(objects(deleted.history)).toEqual([expect.objectContaining({ messagesDeleted: [{ message: expect.objectContaining({ id: messageIds[0] }) }] })]);

    const listed = await getJson('/google/gmail/gmail/v1/users/me/messages?maxResults=2', token);
    expect(objects(listed.messages).map((message) => message.id)).toEqual([sentId, messageIds[2]]);
    const older = await getJson(`/google/gmail/gmail/v1/users/me/messages?maxResults=2&pageToken=${str(listed.nextPageToken)}`, token);
    expect(objects(older.messages).map((message) => message.id)).toEqual([messageIds[1]]);
    expect(await getJson(`/google/gmail/gmail/v1/users/me/messages/${sentId}?format=metadata`, token)).toMatchObject({ id: sentId, labelIds: ['SENT'] });

    await data('google', { op: 'invalidate-cursors', resource: 'gmail' });
    const gone = await get(`/google/gmail/gmail/v1/users/me/history?startHistoryId=${str(deleted.historyId)}`, token);
    expect(gone.status).toBe(404);
    expect(jsonObject.parse(await gone.json())).toMatchObject({ error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
    const now = str((await getJson('/google/gmail/gmail/v1/users/me/profile', token)).historyId);
    expect((await get(`/google/gmail/gmail/v1/users/me/history?startHistoryId=${now}`, token)).status).toBe(200);
  });
});

// --- Microsoft ---

describe('Graph delta queries', () => {
  it('calendarView/delta: pages with absolute nextLinks under Prefer maxpagesize, a deltaLink, then only changes; reset → 410 SyncStateNotFound', async () => {
    const token = await connect('microsoft');
    await data('microsoft', { op: 'bulk-add', resource: 'events', count: 5 });
    const created = await fetch(`${base}/microsoft/graph/v1.0/me/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'Onboarding', start: { dateTime: iso(Date.now() + DAY_MS), timeZone: 'UTC' }, end: { dateTime: iso(Date.now() + DAY_MS + 3_600_000), timeZone: 'UTC' } }),
    });
    expect(created.status).toBe(201);
    const createdId = str(jsonObject.parse(await created.json()).id);
    // Outside the window: not listed.
    await data('microsoft', { op: 'add', resource: 'events', item: { subject: 'Far away', start: { dateTime: '2099-01-01T10:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2099-01-01T11:00:00.0000000', timeZone: 'UTC' } } });

    const window = `startDateTime=${iso(Date.now() - DAY_MS)}&endDateTime=${iso(Date.now() + 90 * DAY_MS)}`;
    expect((await get('/microsoft/graph/v1.0/me/calendarView/delta', token)).status).toBe(400);
    const full = await deltaAll(`/microsoft/graph/v1.0/me/calendarView/delta?${window}`, token, 2);
    expect(full.pages).toBe(3);
    expect(full.applied).toEqual(['odata.maxpagesize=2', 'odata.maxpagesize=2', 'odata.maxpagesize=2']);
    expect(full.items).toHaveLength(6);
    expect(ids(full.items)).toContain(createdId);
    expect(full.items[0]).toMatchObject({ '@odata.type': '#microsoft.graph.event', subject: 'Event 1' });

    const everything = await deltaAll('/microsoft/graph/v1.0/me/events/delta', token);
    expect(everything.items.map((event) => event.subject)).toContain('Far away');
    expect(everything.items).toHaveLength(7);

    const [first, second] = ids(full.items);
    const added = await data('microsoft', { op: 'add', resource: 'events', item: { subject: 'Review' } });
    await data('microsoft', { op: 'update', resource: 'events', id: first, item: { subject: 'Renamed' } });
    await data('microsoft', { op: 'delete', resource: 'events', id: second });
    const changes = await deltaAll(full.deltaLink, token);
    expect(changes.items).toEqual([
      expect.objectContaining({ id: added.id, subject: 'Review' }),
      expect.objectContaining({ id: first, subject: 'Renamed' }),
      { '@odata.type': '#microsoft.graph.event', id: second, '@removed': { reason: 'deleted' } },
    ]);
    expect(changes.applied).toEqual([null]);
    expect((await deltaAll(changes.deltaLink, token)).items).toEqual([]);

    await data('microsoft', { op: 'invalidate-cursors', resource: 'events' });
    const gone = await get(changes.deltaLink, token);
    expect(gone.status).toBe(410);
    expect(jsonObject.parse(await gone.json())).toMatchObject({ error: { code: 'SyncStateNotFound', message: expect.any(String) } });
  });

  it('drive/root/delta: default page of 200, deletions with @removed, reset → 410 resyncRequired; token=latest; 10,000 items in 1,000-item pages', async () => {
    const token = await connect('microsoft');
    const bulk = await data('microsoft', { op: 'bulk-add', resource: 'onedrive', count: 3 });
    const itemIds = z.array(z.string()).parse(bulk.ids);
    const full = await deltaAll('/microsoft/graph/v1.0/me/drive/root/delta', token);
    expect(full.pages).toBe(1);
    expect(ids(full.items)).toEqual(itemIds);
    expect(full.items[0]).toMatchObject({ '@odata.type': '#microsoft.graph.driveItem', name: 'Document 1.txt', file: { mimeType: 'text/plain' } });

    await data('microsoft', { op: 'delete', resource: 'onedrive', id: itemIds[2] });
    const changes = await deltaAll(full.deltaLink, token);
    expect(changes.items).toEqual([expect.objectContaining({ id: itemIds[2], '@removed': { reason: 'deleted' }, deleted: { state: 'deleted' } })]);

    const latest = await getJson('/microsoft/graph/v1.0/me/drive/root/delta?token=latest', token);
    expect(latest.value).toEqual([]);
    await data('microsoft', { op: 'invalidate-cursors', resource: 'onedrive' });
    const gone = await get(changes.deltaLink, token);
    expect(gone.status).toBe(410);
    expect(jsonObject.parse(await gone.json())).toMatchObject({ error: { code: 'resyncRequired' } });
    expect((await get(str(latest['@odata.deltaLink']), token)).status).toBe(410);

    await data('microsoft', { op: 'bulk-add', resource: 'onedrive', count: 10_000 });
    const big = await deltaAll('/microsoft/graph/v1.0/me/drive/root/delta', token, 1_000);
    expect(big.pages).toBe(11);
    expect(big.items).toHaveLength(10_002);
  });
});

const iso = (ms: number) => new Date(ms).toISOString();

// --- faults on the sync paths ---

describe('faults', () => {
  it('429 with Retry-After on the listing paths of each provider, by path prefix', async () => {
    const [slackToken, googleToken, graphToken] = await Promise.all([connect('slack'), connect('google'), connect('microsoft')]);
    server.sandbox.addFault({ provider: 'slack', path: '/slack/api/users.list', status: 429, retryAfterSeconds: 7, times: 1 });
    server.sandbox.addFault({ provider: 'google', path: '/www/calendar/v3/calendars/', status: 429, retryAfterSeconds: 3, times: 1 });
    server.sandbox.addFault({ provider: 'google', path: '/gmail/gmail/v1/users/me/history', status: 503, times: 1 });
    server.sandbox.addFault({ provider: 'microsoft', path: '/graph/v1.0/me/drive/root/delta', status: 429, retryAfterSeconds: 2, times: 1 });

    const limited = await fetch(`${base}/slack/slack/api/users.list`, { method: 'POST', headers: { authorization: `Bearer ${slackToken}` } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect((await slack('users.list', slackToken)).ok).toBe(true);

    const calendar = await get('/google/www/calendar/v3/calendars/primary/events', googleToken);
    expect(calendar.status).toBe(429);
    expect(calendar.headers.get('retry-after')).toBe('3');
    expect(jsonObject.parse(await calendar.json())).toMatchObject({ error: { code: 429, errors: [{ reason: 'rateLimitExceeded' }] } });
    expect((await get('/google/gmail/gmail/v1/users/me/history?startHistoryId=1', googleToken)).status).toBe(503);

    const graph = await get('/microsoft/graph/v1.0/me/drive/root/delta', graphToken);
    expect(graph.status).toBe(429);
    expect(graph.headers.get('retry-after')).toBe('2');
    expect(jsonObject.parse(await graph.json())).toMatchObject({ error: { code: 'TooManyRequests' } });
    expect((await get('/microsoft/graph/v1.0/me/drive/root/delta', graphToken)).status).toBe(200);
  });
});

// --- Slack Events API sender ---

function checkSigned(entry: Received | undefined): Json {
  const timestamp = str(entry?.headers['x-slack-request-timestamp']);
  const signature = str(entry?.headers['x-slack-signature']);
  expect(signature).toBe(slackSignature(SANDBOX_SLACK_SIGNING_SECRET, timestamp, Buffer.from(entry?.body ?? '')));
  expect(verifySlackRequest({ signingSecret: SANDBOX_SLACK_SIGNING_SECRET, timestamp, signature, rawBody: Buffer.from(entry?.body ?? '') })).toBe(true);
  return jsonObject.parse(JSON.parse(entry?.body ?? ''));
}

const attemptsOf = (result: Json) => objects(result.attempts).map((attempt) => [attempt.retryNum, attempt.retryReason ?? null, attempt.status]);

describe('Slack events sender', () => {
  it('sends a signed event_callback envelope like Slack, once when answered 2xx', async () => {
    server.sandbox.configurePush({ slackEventsUrl: `${receiver.url}/ok` });
    const result = await control('POST', '/slack/events', { event: { type: 'app_mention', user: 'U1', text: 'hi', channel: 'C1' } });
    expect(result).toMatchObject({ delivered: true, teamId: 'T0SANDBOX1', type: 'app_mention', automatic: false });
    expect(attemptsOf(result)).toEqual([[0, null, 200]]);
    expect(receiver.received).toHaveLength(1);
    const envelope = checkSigned(receiver.received[0]);
    expect(envelope).toMatchObject({
      type: 'event_callback',
      team_id: 'T0SANDBOX1',
      api_app_id: expect.stringMatching(/^A[A-Z0-9]{10}$/),
      token: expect.any(String),
      event_id: result.eventId,
      event_time: expect.any(Number),
      event: { type: 'app_mention', user: 'U1', text: 'hi', channel: 'C1', event_ts: expect.stringMatching(/^\d+\.\d{6}$/) },
      authorizations: [expect.objectContaining({ team_id: 'T0SANDBOX1', is_bot: true })],
    });
    expect(str(envelope.event_id)).toMatch(/^Ev[A-Z0-9]{10}$/);
    expect(receiver.received[0]?.headers['x-slack-retry-num']).toBeUndefined();
    expect(receiver.received[0]?.headers['content-type']).toBe('application/json');
  });

  it('retries up to 3 times on 500 (http_error) with the same body, and honours x-slack-no-retry', async () => {
    server.sandbox.configurePush({ slackEventsUrl: `${receiver.url}/fail` });
    const result = await control('POST', '/slack/events', { event: { type: 'message', channel: 'C1', text: 'x', ts: '1.000001' } });
    expect(result.delivered).toBe(false);
    expect(attemptsOf(result)).toEqual([
      [0, null, 500],
      [1, 'http_error', 500],
      [2, 'http_error', 500],
      [3, 'http_error', 500],
    ]);
    const bodies = receiver.received.map((entry) => entry.body);
    expect(new Set(bodies).size).toBe(1);
    expect(receiver.received.map((entry) => [entry.headers['x-slack-retry-num'], entry.headers['x-slack-retry-reason']])).toEqual([
      [undefined, undefined],
      ['1', 'http_error'],
      ['2', 'http_error'],
      ['3', 'http_error'],
    ]);
    for (const entry of receiver.received) checkSigned(entry);

    receiver.received.length = 0;
    const once = await control('POST', '/slack/events', { event: { type: 'message' }, retryUntilOk: false });
    expect(attemptsOf(once)).toEqual([[0, null, 500]]);
    const stopped = await control('POST', '/slack/events', { event: { type: 'message' }, url: `${receiver.url}/no-retry` });
    expect(stopped).toMatchObject({ delivered: false, noRetry: true });
    expect(attemptsOf(stopped)).toHaveLength(1);
  });

  it('retries a slow receiver with http_timeout until it answers in time', async () => {
    server.sandbox.configurePush({ slackEventsUrl: `${receiver.url}/flaky`, slackEventsTimeoutMs: 150 });
    const result = await control('POST', '/slack/events', { event: { type: 'member_joined_channel', user: 'U1', channel: 'C1' } });
    expect(result.delivered).toBe(true);
    expect(attemptsOf(result)).toEqual([
      [0, null, null],
      [1, 'http_timeout', null],
      [2, 'http_timeout', 200],
    ]);
    expect(receiver.received.map((entry) => entry.headers['x-slack-retry-reason'])).toEqual([undefined, 'http_timeout', 'http_timeout']);
    expect(new Set(receiver.received.map((entry) => str(checkSigned(entry).event_id))).size).toBe(1);
  });

  it('data changes send channel_created, member_joined_channel and message events automatically', async () => {
    server.sandbox.configurePush({ slackEventsUrl: `${receiver.url}/ok` });
    const token = await connect('slack');
    const created = await slack('conversations.create', token, { name: 'welcome' });
    const channelId = str(jsonObject.parse(created.channel).id);
    const users = objects((await slack('users.list', token)).members);
    const jane = str(users.find((user) => user.name === 'jane.doe')?.id);
    await data('slack', { op: 'join', resource: 'channels', id: channelId, user: jane });
    await slack('chat.postMessage', token, { channel: channelId, text: 'Welcome!' });
    await server.sandbox.waitForDeliveries();

    const events = receiver.received.map((entry) => jsonObject.parse(checkSigned(entry).event));
    expect(events.map((event) => event.type)).toEqual(['channel_created', 'member_joined_channel', 'member_joined_channel', 'message']);
    expect(events[0]).toMatchObject({ channel: { id: channelId, name: 'welcome' } });
    expect(events[2]).toMatchObject({ user: jane, channel: channelId, channel_type: 'C' });
    expect(events[3]).toMatchObject({ type: 'message', channel: channelId, text: 'Welcome!', channel_type: 'channel' });
    const listed = z.object({ events: z.array(jsonObject) }).parse(await control('GET', '/slack/events')).events;
    expect(listed.map((event) => [event.type, event.automatic, event.delivered])).toEqual([
      ['channel_created', true, true],
      ['member_joined_channel', true, true],
      ['member_joined_channel', true, true],
      ['message', true, true],
    ]);
  });

  it('url_verification: signed handshake, reports whether the challenge came back', async () => {
    const good = await control('POST', '/slack/url-verification', { url: `${receiver.url}/echo` });
    expect(good).toMatchObject({ ok: true, status: 200 });
    const sent = checkSigned(receiver.received[0]);
    expect(sent).toMatchObject({ type: 'url_verification', challenge: good.challenge, token: expect.any(String) });
    expect((await control('POST', '/slack/url-verification', { url: `${receiver.url}/wrong` })).ok).toBe(false);
    const noUrl = await fetch(`${base}/_control/slack/url-verification`, { method: 'POST' });
    expect(noUrl.status).toBe(409);
  });
});

// --- persistence and in-process use ---

describe('persistence', () => {
  it('sync data and cursors survive a restart on the same statePath', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-sync-'));
    try {
      const statePath = join(dir, 'state.json');
      const first = new Sandbox({ statePath });
      first.changeData('google', { op: 'bulk-add', resource: 'calendar', count: 3 });
      first.changeData('slack', { op: 'add', resource: 'users', item: { name: 'persisted.user' } });
      const before = first.dataItems('google', { resource: 'calendar' });
      await first.close();

      const second = new Sandbox({ statePath });
      const after = second.dataItems('google', { resource: 'calendar' });
      expect(after.items.map((item) => item.id)).toEqual(before.items.map((item) => item.id));
      expect(after.sequence).toBe(before.sequence);
      expect(second.dataItems('slack', { resource: 'users' }).items.map((item) => item.value.name)).toContain('persisted.user');
      const next = second.changeData('google', { op: 'add', resource: 'calendar' });
      expect(next.sequence).toBe(before.sequence + 1);
      expect(() => second.changeData('slack', { op: 'add', resource: 'calendar' })).toThrow(/google resource/);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
