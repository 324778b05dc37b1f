import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';
import { waitForSyncLog, type SyncLogView } from '../support/sync-logs';

/**
 * Sync end to end against the sandbox's data, through the local runtime:
 * initial full sync at connect, incremental passes after changes, deletions,
 * cursor resets, 429 storms, settings, manual sync, revocation mid-way.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-sync-'));
let server: LocalProcess;
let jwtSecret = '';
let admin = '';

interface RecordView {
  externalId: string;
  deleted: boolean;
  data?: Record<string, unknown>;
}

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test' });
  client = runtimeClient(server.url);
  jwtSecret = (JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string }).jwtSecret;
  admin = await mintLocalToken(jwtSecret, { orgId: 'initech', role: 'admin', sub: 'peter', ttlSeconds: 3600 });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

let client: ReturnType<typeof runtimeClient>;
const api = <T>(method: string, path: string, body?: unknown, token = admin) => client.api<T>(method, path, token, body);
const sandbox = (path: string, body?: unknown) => client.sandbox(path, body);
const connect = (providerId: string) => client.connect(providerId, admin);

const waitForLog = (integrationId: string, match: (log: SyncLogView) => boolean, timeoutMs?: number) =>
  waitForSyncLog((path) => api<{ logs: SyncLogView[] }>('GET', path), integrationId, match, timeoutMs);

async function syncNow(integrationId: string): Promise<SyncLogView> {
  const queued = await api<{ syncId: string; status: string }>('POST', `/api/integrations/${integrationId}/sync`);
  expect(queued.status).toBe(202);
  expect(queued.data.status).toBe('queued');
  return waitForLog(integrationId, (log) => log.syncId === queued.data.syncId);
}

async function records(integrationId: string, resource: string): Promise<RecordView[]> {
  const all: RecordView[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; data: { records: RecordView[]; nextCursor: string | null } } = await api(
      'GET',
      `/api/integrations/${integrationId}/records?resource=${resource}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
    );
    all.push(...page.data.records);
    cursor = page.data.nextCursor;
  } while (cursor);
  return all;
}

const live = (list: RecordView[]) => list.filter((record) => !record.deleted);

describe('Slack', () => {
  let id = '';

  it('the first sync runs at connect: users and channels become records', async () => {
    id = await connect('slack');
    const first = await waitForLog(id, (log) => log.trigger === 'initial');
    expect(first.outcome).toBe('succeeded');
    expect(live(await records(id, 'users')).length).toBeGreaterThanOrEqual(5);
    expect(live(await records(id, 'channels')).map((record) => record.data?.name)).toEqual(expect.arrayContaining(['general', 'random']));
    const listed = await api<Array<{ id: string; lastSyncAt: string | null; healthStatus: string }>>('GET', '/api/integrations');
    expect(listed.data.find((item) => item.id === id)?.lastSyncAt).not.toBeNull();
  });

  it('a manual sync picks up changes; a deactivated user becomes a tombstone', async () => {
    const added = await sandbox('data/slack', { op: 'add', resource: 'users', item: { name: 'new.hire', real_name: 'New Hire' } });
    const users = live(await records(id, 'users'));
    const leaver = users.find((user) => user.data?.name !== 'new.hire' && user.data?.isBot === false && user.data?.isAdmin === false);
    await sandbox('data/slack', { op: 'delete', resource: 'users', id: leaver?.externalId });
    const log = await syncNow(id);
    expect(log).toMatchObject({ trigger: 'manual', outcome: 'succeeded' });
    const after = await records(id, 'users');
    expect(after.find((user) => user.externalId === added.id)?.data?.realName).toBe('New Hire');
    expect(after.find((user) => user.externalId === leaver?.externalId)?.deleted).toBe(true);
  });

  it('a 429 storm is ridden out by honouring Retry-After', async () => {
    await sandbox('faults', { provider: 'slack', path: '/slack/api/users.list', status: 429, retryAfterSeconds: 1, times: 2 });
    expect((await syncNow(id)).outcome).toBe('succeeded');
  });

  it('settings switch a resource off; the next sync skips it', async () => {
    expect((await api('PATCH', `/api/integrations/${id}/settings`, { resources: { channels: false } })).status).toBe(200);
    expect((await api('GET', `/api/integrations/${id}/settings`)).data).toEqual({ scheduledSync: true, resources: { users: true, channels: false } });
    const log = await syncNow(id);
    expect(Object.keys(log.counts)).toEqual(['users']);
    expect((await api('PATCH', `/api/integrations/${id}/settings`, { resources: { files: true } })).status).toBe(400);
  });

  it('a token revoked at the provider: the sync fails and the integration is disconnected with the reason', async () => {
    await sandbox('revoke', { provider: 'slack', account: 'T0SANDBOX1' });
    const log = await syncNow(id);
    expect(log.outcome).toBe('failed');
    const after = await api<{ status: string; healthReason: string }>('GET', `/api/integrations/${id}`);
    expect(after.data.status).toBe('disconnected');
    expect(after.data.healthReason).toMatch(/token_revoked|invalid_auth|invalid_refresh_token/);
    expect((await api('POST', `/api/integrations/${id}/sync`)).status).toBe(409);
    expect((await records(id, 'users')).length).toBeGreaterThan(0); // history is kept
  });
});

describe('Google', () => {
  let id = '';

  it('full then incremental: Calendar, Drive and Gmail; cancelled events and removed files are tombstones', async () => {
    await sandbox('data/google', { op: 'add', resource: 'calendar', item: { summary: 'Onboarding' } });
    await sandbox('data/google', { op: 'add', resource: 'drive', item: { name: 'handbook.pdf' } });
    id = await connect('google');
    expect((await waitForLog(id, (log) => log.trigger === 'initial')).outcome).toBe('succeeded');
    expect(live(await records(id, 'calendar')).some((record) => record.data?.summary === 'Onboarding')).toBe(true);
    expect(live(await records(id, 'drive')).some((record) => record.data?.name === 'handbook.pdf')).toBe(true);

    const event = await sandbox('data/google', { op: 'add', resource: 'calendar', item: { summary: 'Review' } });
    const file = live(await records(id, 'drive')).find((record) => record.data?.name === 'handbook.pdf');
    await sandbox('data/google', { op: 'delete', resource: 'drive', id: file?.externalId });
    const log = await syncNow(id);
    expect(log.outcome).toBe('succeeded');
    expect(log.counts.calendar?.created).toBe(1);
    expect(log.counts.drive?.deleted).toBe(1);
    expect((await records(id, 'calendar')).some((record) => record.externalId === event.id)).toBe(true);
    expect((await records(id, 'drive')).find((record) => record.externalId === file?.externalId)?.deleted).toBe(true);
  });

  it('an invalidated sync token (410) and a too-old history id (404) lead to a full resync', async () => {
    await sandbox('data/google', { op: 'invalidate-cursors', resource: 'calendar' });
    await sandbox('data/google', { op: 'invalidate-cursors', resource: 'gmail' });
    const log = await syncNow(id);
    expect(log.outcome).toBe('succeeded');
    expect(live(await records(id, 'calendar')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('Microsoft', () => {
  it('delta queries: full, then only changes; a 410 resets to a full pass', async () => {
    await sandbox('data/microsoft', { op: 'bulk-add', resource: 'onedrive', count: 30 });
    const id = await connect('microsoft');
    expect((await waitForLog(id, (log) => log.trigger === 'initial')).outcome).toBe('succeeded');
    expect(live(await records(id, 'onedrive')).length).toBeGreaterThanOrEqual(30);

    await sandbox('data/microsoft', { op: 'add', resource: 'events', item: { subject: 'All hands' } });
    const incremental = await syncNow(id);
    expect(incremental.counts.events?.created).toBe(1);
    expect(incremental.counts.onedrive).toEqual({ created: 0, updated: 0, deleted: 0 });

    await sandbox('data/microsoft', { op: 'invalidate-cursors', resource: 'onedrive' });
    const reset = await syncNow(id);
    expect(reset.outcome).toBe('succeeded');
    expect(reset.counts.onedrive?.updated).toBeGreaterThanOrEqual(30);
  });

  it('5xx answers are retried with backoff and the sync still succeeds', async () => {
    const id = (await api<Array<{ id: string; providerId: string }>>('GET', '/api/integrations')).data.find((item) => item.providerId === 'microsoft')?.id ?? '';
    await sandbox('faults', { provider: 'microsoft', path: '/graph/v1.0/me/drive/root/delta', status: 503, times: 2 });
    expect((await syncNow(id)).outcome).toBe('succeeded');
  });
});

describe('a sync that keeps failing', () => {
  it('is retried by the bus, dead-lettered (never silently lost), and three failures in a row raise an alert', async () => {
    const id = (await api<Array<{ id: string; providerId: string }>>('GET', '/api/integrations')).data.find((item) => item.providerId === 'microsoft')?.id ?? '';
    await sandbox('faults', { provider: 'microsoft', path: '/graph/v1.0/me/calendarView/delta', status: 503, times: 1000 });
    const queued = await api<{ syncId: string }>('POST', `/api/integrations/${id}/sync`);
    interface DeadLetter { target: string; event: { detail: { syncId?: string } } }
    let dead: DeadLetter[] = [];
    for (let i = 0; i < 200 && dead.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const letters = (await (await fetch(`${server.url}/_local/dead-letters`)).json()) as { deadLetters: DeadLetter[] };
      dead = letters.deadLetters.filter((letter) => letter.event.detail.syncId === queued.data.syncId);
    }
    await fetch(`${server.url}/sandbox/_control/faults`, { method: 'DELETE' });
    expect(dead).toHaveLength(1);
    expect(dead[0]?.target).toBe('sync-worker');
    const logs = (await api<{ logs: SyncLogView[] }>('GET', `/api/integrations/${id}/sync-logs`)).data.logs.filter((log) => log.syncId === queued.data.syncId);
    // One run, one log: the bus's retries are attempts inside it.
    expect(logs, JSON.stringify((await api<{ logs: SyncLogView[] }>('GET', `/api/integrations/${id}/sync-logs`)).data.logs.slice(0, 5))).toHaveLength(1);
    expect(logs[0]).toMatchObject({ outcome: 'failed', errorCode: 'http_503' });
    expect(logs[0]?.attempts).toBeGreaterThanOrEqual(3);
    const events = (await (await fetch(`${server.url}/_local/events`)).json()) as { events: Array<{ 'detail-type': string; detail: { integrationId?: string; reason?: string } }> };
    expect(events.events.some((event) => event['detail-type'] === 'integration.alert' && event.detail.integrationId === id && event.detail.reason === 'sync_failing')).toBe(true);
    expect((await api<{ healthStatus: string }>('GET', `/api/integrations/${id}`)).data.healthStatus).toBe('degraded');
    // Recovery is an event too: the next good sync makes it healthy again.
    expect((await syncNow(id)).outcome).toBe('succeeded');
    expect((await api<{ healthStatus: string }>('GET', `/api/integrations/${id}`)).data.healthStatus).toBe('healthy');
  }, 60_000);
});

describe('sync endpoints refuse what they should', () => {
  it('roles, other organisations and bad input', async () => {
    const id = (await api<Array<{ id: string; providerId: string; status: string }>>('GET', '/api/integrations')).data.find((item) => item.providerId === 'google')?.id ?? '';
    const as = (role: string, org = 'initech') => mintLocalToken(jwtSecret, { orgId: org, role, sub: role, ttlSeconds: 60 });
    expect((await api('POST', `/api/integrations/${id}/sync`, undefined, await as('manager'))).status).toBe(403);
    expect((await api('GET', `/api/integrations/${id}/records?resource=calendar`, undefined, await as('manager'))).status).toBe(200);
    expect((await api('PATCH', `/api/integrations/${id}/settings`, { scheduledSync: false }, await as('manager'))).status).toBe(403);
    expect((await api('GET', `/api/integrations/${id}/sync-logs`, undefined, await as('employee'))).status).toBe(403);
    expect((await api('GET', `/api/integrations/${id}/records?resource=calendar`, undefined, await as('admin', 'other-org'))).status).toBe(404);
    expect((await api('POST', `/api/integrations/${id}/sync`, undefined, await as('admin', 'other-org'))).status).toBe(404);
    expect((await api('GET', `/api/integrations/${id}/records?resource=nope`)).status).toBe(400);
    expect((await api('GET', `/api/integrations/${id}/records`)).status).toBe(400);
    expect((await api('PATCH', `/api/integrations/${id}/settings`, {})).status).toBe(400);
    expect((await api('PATCH', `/api/integrations/${id}/settings`, { scheduledSync: 'yes' })).status).toBe(400);
  });
});
