import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';
import { waitForSyncLog, type SyncLogView } from '../support/sync-logs';

/**
 * Asana and Notion end to end through the local runtime and their sandbox
 * fakes: connect (Asana's webhook handshake inside the connection), the
 * first sync, changes arriving as signed webhooks and synced incrementally
 * with tombstones, forged and replayed deliveries refused, the actions,
 * reconnect and disconnect with revocation.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-asana-notion-'));
let server: LocalProcess;
let client: ReturnType<typeof runtimeClient>;
let admin = '';

interface RecordView {
  externalId: string;
  deleted: boolean;
  data?: Record<string, unknown>;
}
interface BusEvent {
  'detail-type': string;
  detail: { integrationId?: string; trigger?: string; resource?: string };
}

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test' });
  client = runtimeClient(server.url);
  const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
  admin = await mintLocalToken(jwtSecret, { orgId: 'umbrella', role: 'admin', sub: 'alice', ttlSeconds: 3600 });
});
afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const api = <T>(method: string, path: string, body?: unknown) => client.api<T>(method, path, admin, body);
const sandbox = (path: string, body?: unknown) => client.sandbox(path, body);
const settle = () => fetch(`${server.url}/sandbox/_control/deliveries/settle`, { method: 'POST' });
const busEvents = async () => ((await (await fetch(`${server.url}/_local/events`)).json()) as { events: BusEvent[] }).events;
const webhookSyncs = async (integrationId: string) =>
  (await busEvents()).filter((event) => event['detail-type'] === 'SyncRequested' && event.detail.integrationId === integrationId && event.detail.trigger === 'webhook');

const waitForLog = (integrationId: string, match: (log: SyncLogView) => boolean) =>
  waitForSyncLog((path) => api<{ logs: SyncLogView[] }>('GET', path), integrationId, match, 15_000);

async function syncNow(integrationId: string): Promise<SyncLogView> {
  const queued = await api<{ syncId: string }>('POST', `/api/integrations/${integrationId}/sync`);
  expect(queued.status).toBe(202);
  return waitForLog(integrationId, (log) => log.syncId === queued.data.syncId || (log.covers ?? []).includes(queued.data.syncId));
}

const records = async (integrationId: string, resource: string) =>
  (await api<{ records: RecordView[] }>('GET', `/api/integrations/${integrationId}/records?resource=${resource}&limit=500`)).data.records;

const webhook = (provider: string, body: string, headers: Record<string, string>, query = '') =>
  fetch(`${server.url}/api/webhooks/${provider}${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('Asana', () => {
  let id = '';
  let hooks: Array<{ gid: string; target: string; resource: { gid: string } }> = [];

  it('connects with PKCE; each project gets a webhook whose handshake completed during the connection', async () => {
    id = await client.connect('asana', admin);
    const integration = await api<{ status: string; externalAccount: { id: string; name?: string } }>('GET', `/api/integrations/${id}`);
    expect(integration.data.status).toBe('active');
    hooks = (await sandbox('asana/webhooks')).webhooks as typeof hooks;
    expect(hooks.map((hook) => hook.resource.gid).sort()).toEqual(['1200000000000101', '1200000000000102']);
    for (const hook of hooks) expect(new URL(hook.target).searchParams.get('subscription')).toMatch(new RegExp(`^${hook.resource.gid}-`));
    const consents = await api<{ consents: Array<{ scopesGranted: string[] }> }>('GET', `/api/integrations/${id}/consents`);
    expect(consents.data.consents[0]?.scopesGranted).toEqual(expect.arrayContaining(['tasks:write', 'webhooks:write']));
  });

  it('the first sync stores projects and tasks', async () => {
    expect((await waitForLog(id, (log) => log.trigger === 'initial')).outcome).toBe('succeeded');
    expect((await records(id, 'projects')).map((record) => record.data?.name).sort()).toEqual(['Hiring', 'Onboarding']);
    expect((await records(id, 'tasks')).filter((record) => !record.deleted)).toHaveLength(5);
  });

  it('a change arrives as a signed webhook that requests a sync; the sync reads /events: new task stored, deleted one a tombstone', async () => {
    const before = (await webhookSyncs(id)).length;
    const requests = async () => (await sandbox('requests?provider=asana')).requests as Array<{ seq: number; path: string; query: Record<string, string> }>;
    const since = (await requests()).at(-1)?.seq ?? 0;
    const added = await sandbox('asana/data', { op: 'add', type: 'task', name: 'Buy welcome flowers', project: '1200000000000101' });
    await sandbox('asana/data', { op: 'delete', type: 'task', gid: '1200000000000200' });
    await settle();
    expect((await webhookSyncs(id)).length).toBeGreaterThan(before);
    expect((await syncNow(id)).outcome).toBe('succeeded');
    const tasks = await records(id, 'tasks');
    expect(tasks.find((record) => record.externalId === added.gid)).toMatchObject({ deleted: false, data: { name: 'Buy welcome flowers' } });
    expect(tasks.find((record) => record.externalId === '1200000000000200')?.deleted).toBe(true);
    // Incremental: /events per project and the changed task, never the task listings again.
    const calls = (await requests()).filter((request) => request.seq > since).map((request) => request.path);
    expect(calls).toContain('/app/api/1.0/events');
    expect(calls).not.toContain('/app/api/1.0/tasks');
  });

  it('refuses a forged signature and a second handshake for a subscription; acknowledges a heartbeat', async () => {
    const subscription = new URL(hooks[0]?.target ?? '').search;
    const body = JSON.stringify({ events: [{ action: 'changed', resource: { gid: '1', resource_type: 'task' } }] });
    expect((await webhook('asana', body, { 'x-hook-signature': createHmac('sha256', 'guess').update(body).digest('hex') }, subscription)).status).toBe(401);
    expect((await webhook('asana', '', { 'x-hook-secret': 'attacker-chosen' }, subscription)).status).toBe(401);
    expect((await webhook('asana', body, { 'x-hook-signature': 'a'.repeat(64) }, '?subscription=unknown')).status).toBe(401);
    expect((await sandbox('asana/heartbeat', {})).statuses).toEqual([200, 200]);
  });

  it('an invalidated sync token (412) makes the next sync a full one that still succeeds', async () => {
    await sandbox('asana/invalidate-sync', {});
    const log = await syncNow(id);
    expect(log.outcome).toBe('succeeded');
    expect((await records(id, 'tasks')).filter((record) => !record.deleted)).toHaveLength(5);
  });

  it('runs asana.createTask', async () => {
    const run = await api<{ ids: { taskId: string } }>('POST', `/api/integrations/${id}/actions/asana.createTask`, { name: 'Set up payroll', project: '1200000000000101', dueOn: '2027-02-01', assignee: 'me' });
    expect(run.status).toBe(200);
    const created = ((await sandbox('asana/data')).items as Array<{ gid: string; name: string; due_on: string }>).find((task) => task.gid === run.data.ids.taskId);
    expect(created).toMatchObject({ name: 'Set up payroll', due_on: '2027-02-01' });
    expect((await api('POST', `/api/integrations/${id}/actions/asana.createTask`, { name: '' })).status).toBe(400);
  });

  it('export lists the webhooks as subscription metadata, never their signing keys', async () => {
    const items: Array<{ type: string }> = [];
    let cursor: string | null = null;
    do {
      const page: { data: { items: Array<{ type: string }>; nextCursor: string | null }; raw: string } = await api('GET', `/api/integrations/${id}/export${cursor ? `?cursor=${cursor}` : ''}`);
      expect(page.raw).not.toMatch(/signingKey|[0-9a-f]{64}/);
      items.push(...page.data.items);
      cursor = page.data.nextCursor;
    } while (cursor);
    expect(items.filter((item) => item.type === 'subscription')).toHaveLength(2);
  });

  it('reconnect keeps the id; disconnect revokes the grant (by refresh token) and deletes the webhooks', async () => {
    const started = await api<{ url: string }>('POST', `/api/integrations/${id}/reconnect`, {});
    expect(started.status).toBe(200);
    const { submitConsent, follow } = await import('../support/oauth-browser');
    const back = await follow(await submitConsent(started.data.url, 'allow'));
    expect((await client.complete(back.location, admin)).integrationId).toBe(id);
    expect((await api('DELETE', `/api/integrations/${id}`)).status).toBe(200);
    expect((await sandbox('asana/webhooks')).webhooks).toEqual([]);
    const tokens = (await sandbox('tokens?provider=asana')).tokens as { asana: { grants: { active: number } } };
    expect(tokens.asana.grants.active).toBe(0);
  });
});

describe('Notion', () => {
  let id = '';

  it('connects (owner=user, no scopes) and syncs pages and databases', async () => {
    id = await client.connect('notion', admin);
    expect((await waitForLog(id, (log) => log.trigger === 'initial')).outcome).toBe('succeeded');
    expect((await records(id, 'pages')).map((record) => record.data?.title)).toEqual(expect.arrayContaining(['Employee handbook', 'Benefits']));
    expect((await records(id, 'databases')).map((record) => record.data?.title)).toEqual(['Employees']);
  });

  it('the verification token is received and kept; once the owner verifies it, signed events request syncs; trash becomes a tombstone', async () => {
    const subscribed = await sandbox('notion/webhook/subscribe', {});
    expect(subscribed.status).toBe(200);
    // A token no event has proven yet may be anyone's: no test event is signed with it.
    expect(await api('POST', `/api/integrations/${id}/webhooks/test`)).toMatchObject({ status: 409, error: { code: 'no_webhook_channel' } });
    expect((await sandbox('notion/webhook/verify', {})).verified).toBe(true);
    const before = (await webhookSyncs(id)).length;
    const added = await sandbox('notion/data', { op: 'add', title: 'First week plan' });
    expect(added.delivered).toBe(200);
    expect((await webhookSyncs(id)).length).toBe(before + 1);
    await syncNow(id);
    expect((await records(id, 'pages')).find((record) => record.externalId === added.id)?.data?.title).toBe('First week plan');
    expect((await sandbox('notion/data', { op: 'trash', id: added.id })).delivered).toBe(200);
    await syncNow(id);
    expect((await records(id, 'pages')).find((record) => record.externalId === added.id)?.deleted).toBe(true);
  });

  it('refuses a forged signature, and an event signed with a token anyone may post once a real one is proven', async () => {
    const workspace = ((await api<{ externalAccount: { id: string } }>('GET', `/api/integrations/${id}`)).data.externalAccount).id;
    const event = JSON.stringify({ id: 'evt-forged', type: 'page.content_updated', workspace_id: workspace, entity: { id: 'p1', type: 'page' }, attempt_number: 1 });
    expect((await webhook('notion', event, { 'x-notion-signature': `sha256=${createHmac('sha256', 'secret_guess').update(event).digest('hex')}` })).status).toBe(401);
    // A verification post cannot be authenticated: a self-made token is kept as a candidate, but the proven one alone verifies events.
    const token = 'secret_playedbythetest0000000000000000';
    const verification = JSON.stringify({ verification_token: token });
    const sign = (body: string) => `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;
    expect((await webhook('notion', verification, { 'x-notion-signature': sign(verification) })).status).toBe(200);
    const before = (await webhookSyncs(id)).length;
    expect((await webhook('notion', event, { 'x-notion-signature': sign(event) })).status).toBe(401);
    expect((await webhookSyncs(id)).length).toBe(before);
    expect((await sandbox('notion/data', { op: 'add', title: 'Still verified' })).delivered).toBe(200);
  });

  it('runs notion.createPage under a shared page; an unknown parent is a 404', async () => {
    const handbook = (await records(id, 'pages')).find((record) => record.data?.title === 'Employee handbook');
    const run = await api<{ ids: { pageId: string } }>('POST', `/api/integrations/${id}/actions/notion.createPage`, { parent: { pageId: handbook?.externalId }, title: 'Welcome, Sam', content: ['Your first day starts at 9.'] });
    expect(run.status).toBe(200);
    expect(run.data.ids.pageId).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await api('POST', `/api/integrations/${id}/actions/notion.createPage`, { parent: { pageId: '00000000-0000-4000-8000-000000000000' }, title: 'Nowhere' });
    expect(missing.status).toBe(404);
  });

  it('disconnect revokes the token at Notion', async () => {
    expect((await api('DELETE', `/api/integrations/${id}`)).status).toBe(200);
    const tokens = (await sandbox('tokens?provider=notion')).tokens as { notion: { grants: { active: number } } };
    expect(tokens.notion.grants.active).toBe(0);
  });
});

/**
 * Each provider across the platform, on a second organisation's connection
 * (its own account, so revoking it leaves the ones above alone): health
 * check and test event, export, consents, isolation and roles, a revoked
 * grant, erasure.
 */
describe.each([
  { provider: 'asana', account: 'people@globex-asana.test', action: 'asana.createTask', input: { name: 'Welcome pack' } },
  { provider: 'notion', account: 'people@globex-notion.test', action: 'notion.createPage', input: { parent: { pageId: '00000000-0000-4000-8000-000000000000' }, title: 'Welcome' } },
])('$provider across the platform', ({ provider, account, action, input }) => {
  const tokens: Record<'admin' | 'manager' | 'employee' | 'outsider', string> = { admin: '', manager: '', employee: '', outsider: '' };
  const as = <T>(who: keyof typeof tokens, method: string, path: string, body?: unknown) => client.api<T>(method, path, tokens[who], body);
  let id = '';

  beforeAll(async () => {
    const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
    const mint = (orgId: string, role: 'admin' | 'manager' | 'employee') => mintLocalToken(jwtSecret, { orgId, role, sub: `${orgId}-${role}`, ttlSeconds: 3600 });
    [tokens.admin, tokens.manager, tokens.employee, tokens.outsider] = await Promise.all([mint('globex', 'admin'), mint('globex', 'manager'), mint('globex', 'employee'), mint('umbrella', 'admin')]);
    const { submitConsent, follow } = await import('../support/oauth-browser');
    const started = await as<{ url: string }>('admin', 'POST', '/api/integrations/connect', { providerId: provider });
    id = (await client.complete((await follow(await submitConsent(started.data.url, 'allow', account))).location, tokens.admin)).integrationId;
    await waitForSyncLog((path) => as<{ logs: SyncLogView[] }>('admin', 'GET', path), id, (log) => log.trigger === 'initial', 15_000);
  });

  it('a health check answers healthy; a test event is verified by its webhook', async () => {
    expect((await as<{ result: string }>('admin', 'POST', `/api/integrations/${id}/health-check`)).data.result).toBe('healthy');
    expect((await as<{ outcome: string; status: number }>('admin', 'POST', `/api/integrations/${id}/webhooks/test`)).data).toMatchObject({ outcome: 'test', status: 200 });
    const logs = (await as<{ logs: Array<{ outcome: string; test: boolean }> }>('admin', 'GET', `/api/integrations/${id}/webhook-logs`)).data.logs;
    expect(logs).toContainEqual(expect.objectContaining({ outcome: 'test', test: true }));
  });

  it('appears in the organisation export and its own, without secrets; consents list the grant', async () => {
    for (const path of ['/api/integrations/export', `/api/integrations/${id}/export`]) {
      const exported = await as<{ items: Array<{ type: string; data: { id?: string } }>; nextCursor: string | null }>('admin', 'GET', path);
      expect(exported.status).toBe(200);
      expect(exported.raw).not.toMatch(/signingKey|accessToken|refreshToken|secret_|ntn_|nrt_|[0-9a-f]{64}|\d\/\d{6,}(?:\/\d{6,})?:[0-9a-f]{32}/);
      expect(exported.data.items).toContainEqual(expect.objectContaining({ type: 'integration', data: expect.objectContaining({ id, providerId: provider }) }));
    }
    const consents = await as<{ consents: Array<{ userId: string; scopesGranted: string[] }> }>('admin', 'GET', `/api/integrations/${id}/consents`);
    expect(consents.data.consents).toEqual([expect.objectContaining({ userId: 'globex-admin' })]);
  });

  it("another organisation's admin gets 404; a manager and an employee may not run its actions (403)", async () => {
    const outsider = await Promise.all([
      as('outsider', 'GET', `/api/integrations/${id}`),
      as('outsider', 'POST', `/api/integrations/${id}/sync`),
      as('outsider', 'POST', `/api/integrations/${id}/actions/${action}`, input),
    ]);
    expect(outsider.map((answer) => answer.status)).toEqual([404, 404, 404]);
    const roles = await Promise.all([as('manager', 'POST', `/api/integrations/${id}/actions/${action}`, input), as('employee', 'POST', `/api/integrations/${id}/actions/${action}`, input)]);
    expect(roles.map((answer) => answer.status)).toEqual([403, 403]);
  });

  it('a grant revoked at the provider makes the health check answer disconnected', async () => {
    expect(await sandbox('revoke', { provider, account })).toEqual({ revoked: 1 });
    expect((await as<{ result: string }>('admin', 'POST', `/api/integrations/${id}/health-check`)).data.result).toBe('disconnected');
    expect((await as<{ status: string }>('admin', 'GET', `/api/integrations/${id}`)).data.status).toBe('disconnected');
  });

  it('erasure reports what it removes and hides the integration', async () => {
    const erased = await as<{ removes: Record<string, number> }>('admin', 'DELETE', `/api/integrations/${id}/data`);
    expect(erased.status).toBe(202);
    expect(erased.data.removes).toMatchObject({ integration: 1, consents: 1, syncLogs: expect.any(Number), records: expect.any(Number), subscriptions: expect.any(Number), webhookLogs: expect.any(Number) });
    expect(erased.data.removes.webhookLogs).toBeGreaterThan(0);
    const after = await Promise.all(['', '/export', '/consents', '/webhooks'].map((suffix) => as('admin', 'GET', `/api/integrations/${id}${suffix}`)));
    expect(after.map((answer) => answer.status)).toEqual([404, 404, 404, 404]);
    expect((await as('admin', 'GET', '/api/integrations/export')).raw).not.toContain(id);
  });
});
