import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';

/**
 * Push notifications end to end through the local runtime and the sandbox:
 * channels and subscriptions opened at connect (Graph's validation handshake
 * included), notifications turned into SyncRequested, renewal, and stop at
 * disconnect.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-push-'));
let server: LocalProcess;
let client: ReturnType<typeof runtimeClient>;
let admin = '';

interface Channel {
  provider: string;
  resource: string;
  kind: string;
  id: string;
  account: string;
  stopped: boolean;
  expired: boolean;
  expirationMs: number;
  deliveries: Array<{ kind: string; status: number | null }>;
}
interface BusEvent {
  'detail-type': string;
  detail: { integrationId?: string; trigger?: string; resource?: string; full?: boolean; historyId?: string; messageNumber?: string };
}

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test', GMAIL_PUBSUB_TOPIC: 'projects/sandbox/topics/gmail' });
  client = runtimeClient(server.url);
  const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
  admin = await mintLocalToken(jwtSecret, { orgId: 'globex', role: 'admin', sub: 'bob', ttlSeconds: 3600 });
  // Short Google channels, so the hourly renewal finds them due.
  await control('push-config', { googleChannels: { calendar: { defaultSeconds: 7200, maxSeconds: 7200 }, driveChanges: { defaultSeconds: 7200, maxSeconds: 7200 } } });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const control = (path: string, body?: unknown) => client.sandbox(path, body);
const activeChannels = async (provider: string) =>
  ((await control(`channels?provider=${provider}`)).channels as Channel[]).filter((channel) => !channel.stopped && !channel.expired);
const busEvents = async () => ((await (await fetch(`${server.url}/_local/events`)).json()) as { events: BusEvent[] }).events;
/** SyncRequested published for webhook deliveries (not the follow-up a busy sync asks for itself). */
const syncRequests = async (integrationId: string) =>
  (await busEvents()).filter(
    (event) => event['detail-type'] === 'SyncRequested' && event.detail.integrationId === integrationId && event.detail.trigger === 'webhook',
  );

async function connect(providerId: string): Promise<string> {
  const id = await client.connect(providerId, admin);
  // The sandbox answers a watch before its `sync` message is delivered: wait for those deliveries.
  await fetch(`${server.url}/sandbox/_control/deliveries/settle`, { method: 'POST' });
  return id;
}

const integration = async (id: string) =>
  (await client.api<{ status: string; healthStatus: string; healthReason: string }>('GET', `/api/integrations/${id}`, admin)).data;

describe('Google push', () => {
  let integrationId = '';

  it('connecting opens Calendar and Drive channels and a Gmail watch; each channel got its sync message answered', async () => {
    integrationId = await connect('google');
    // Connecting queues the first sync at once: it may be running already.
    expect(await integration(integrationId)).toMatchObject({ status: 'active' });
    expect(['healthy', 'syncing']).toContain((await integration(integrationId)).healthStatus);
    const channels = await activeChannels('google');
    expect(channels.map((channel) => channel.kind).sort()).toEqual(['calendar', 'drive', 'gmail']);
    for (const channel of channels.filter((candidate) => candidate.kind !== 'gmail')) {
      expect(channel.deliveries[0]).toMatchObject({ kind: 'sync', status: 200 });
    }
  });

  it('N change notifications → N receipts, each a SyncRequested for its resource', async () => {
    const calendar = (await activeChannels('google')).find((channel) => channel.kind === 'calendar');
    const before = (await syncRequests(integrationId)).length;
    const result = await control('google/notify', { channelId: calendar?.id, state: 'exists', count: 25 });
    expect(result.statuses).toEqual(Array.from({ length: 25 }, () => 200));
    const after = await syncRequests(integrationId);
    expect(after.length - before).toBe(25);
    expect(after.at(-1)?.detail.resource).toBe('calendar');
  });

  it('a Gmail push (OIDC-signed by the sandbox) requests a Gmail sync', async () => {
    const result = await control('google/gmail-push', { emailAddress: 'admin@sandbox-google.test', historyId: '1234567890' });
    expect(result.status).toBe(204);
    expect((await syncRequests(integrationId)).some((event) => event.detail.resource === 'gmail')).toBe(true);
  });

  it('renewal: a new channel per expiring one, routing switched, the old one stopped', async () => {
    const before = await activeChannels('google');
    const run = (await (await fetch(`${server.url}/_local/jobs/renew-subscriptions`, { method: 'POST' })).json()) as { data: { renewed: number; failed: number } };
    expect(run.data.failed).toBe(0);
    expect(run.data.renewed).toBeGreaterThanOrEqual(2);
    await fetch(`${server.url}/sandbox/_control/deliveries/settle`, { method: 'POST' });
    const after = await activeChannels('google');
    const oldCalendar = before.find((channel) => channel.kind === 'calendar');
    const newCalendar = after.find((channel) => channel.kind === 'calendar');
    expect(newCalendar?.id).not.toBe(oldCalendar?.id);
    expect(after.some((channel) => channel.id === oldCalendar?.id)).toBe(false);
    const count = (await syncRequests(integrationId)).length;
    expect((await control('google/notify', { channelId: newCalendar?.id, state: 'exists' })).statuses).toEqual([200]);
    expect((await syncRequests(integrationId)).length).toBe(count + 1);
  });

  it('disconnect stops every channel', async () => {
    await fetch(`${server.url}/api/integrations/${integrationId}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
    expect(await activeChannels('google')).toEqual([]);
  });
});

describe('Microsoft Graph push', () => {
  let integrationId = '';

  it('connecting creates calendar and OneDrive subscriptions after the validation handshake', async () => {
    integrationId = await connect('microsoft');
    // As for Google: the first sync is queued at once and may be running already.
    expect(await integration(integrationId)).toMatchObject({ status: 'active' });
    expect(['healthy', 'syncing']).toContain((await integration(integrationId)).healthStatus);
    const subscriptions = await activeChannels('microsoft');
    expect(subscriptions).toHaveLength(2);
  });

  it('notifications are accepted with 202 and request a sync; a missed lifecycle event asks a full one', async () => {
    const [first] = await activeChannels('microsoft');
    const before = (await syncRequests(integrationId)).length; // the initial sync requested at connect
    const result = await control('microsoft/notify', { subscriptionId: first?.id, count: 3 });
    expect(result.statuses).toEqual([202, 202, 202]);
    expect((await syncRequests(integrationId)).length - before).toBe(3);
    const lifecycle = await control('microsoft/lifecycle', { subscriptionId: first?.id, lifecycleEvent: 'missed' });
    expect(lifecycle.status).toBe(202);
    expect((await syncRequests(integrationId)).at(-1)?.detail.full).toBe(true);
  });

  it('reauthorizationRequired makes the hourly renewal PATCH the subscription', async () => {
    const [first] = await activeChannels('microsoft');
    await control('microsoft/lifecycle', { subscriptionId: first?.id, lifecycleEvent: 'reauthorizationRequired' });
    const run = (await (await fetch(`${server.url}/_local/jobs/renew-subscriptions`, { method: 'POST' })).json()) as { data: { renewed: number } };
    expect(run.data.renewed).toBe(1);
    const requests = (await control('requests?provider=microsoft')).requests as Array<{ method: string; path: string }>;
    expect(requests.some((request) => request.method === 'PATCH' && request.path.endsWith(`/subscriptions/${first?.id}`))).toBe(true);
  });

  it('subscriptionRemoved: the renewal recreates the subscription and notifications flow again', async () => {
    const [first] = await activeChannels('microsoft');
    const lifecycle = await control('microsoft/lifecycle', { subscriptionId: first?.id, lifecycleEvent: 'subscriptionRemoved' });
    expect(lifecycle.removed).toBe(true);
    expect(await activeChannels('microsoft')).toHaveLength(1);
    const run = (await (await fetch(`${server.url}/_local/jobs/renew-subscriptions`, { method: 'POST' })).json()) as { data: { renewed: number; failed: number } };
    expect(run.data).toMatchObject({ renewed: 1, failed: 0 });
    const now = await activeChannels('microsoft');
    expect(now).toHaveLength(2);
    expect(now.some((channel) => channel.id === first?.id)).toBe(false);
    const recreated = now.find((channel) => channel.resource === first?.resource);
    const before = (await syncRequests(integrationId)).length;
    expect((await control('microsoft/notify', { subscriptionId: recreated?.id })).statuses).toEqual([202]);
    expect((await syncRequests(integrationId)).length).toBe(before + 1);
  });

  it('disconnect deletes the subscriptions', async () => {
    await fetch(`${server.url}/api/integrations/${integrationId}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
    expect(await activeChannels('microsoft')).toEqual([]);
  });
});

describe('a renewal that fails', () => {
  it('degrades the integration with the reason, and a lapsed channel raises integration.alert', async () => {
    await control('push-config', { googleChannels: { calendar: { defaultSeconds: 1, maxSeconds: 1 } } });
    const integrationId = await connect('google');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the calendar channel lapses
    await control('faults', { provider: 'google', path: '/www/calendar/v3/calendars/primary/events/watch', status: 500, times: 10 });
    const run = (await (await fetch(`${server.url}/_local/jobs/renew-subscriptions`, { method: 'POST' })).json()) as { data: { failed: number } };
    await fetch(`${server.url}/sandbox/_control/faults`, { method: 'DELETE' });
    expect(run.data.failed).toBeGreaterThanOrEqual(1);
    expect(await integration(integrationId)).toMatchObject({ status: 'active', healthStatus: 'degraded', healthReason: 'subscription_renewal_failed' });
    const alerts = (await busEvents()).filter((event) => event['detail-type'] === 'integration.alert' && event.detail.integrationId === integrationId);
    expect(alerts[0]?.detail).toMatchObject({ resource: 'calendar' });
  });
});
