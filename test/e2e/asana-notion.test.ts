import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { startLocalProcess, userEnvironment, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';
import { waitForSyncLog, type SyncLogView } from '../support/sync-logs';

/**
 * Asana and Notion end to end through the local runtime and their sandbox
 * fakes: connect (Asana's webhook handshake inside the connection), the
 * first sync, changes arriving as signed webhooks and synced incrementally
 * with tombstones, forged and replayed deliveries refused, the actions,
 * reconnect and disconnect with revocation; Notion's verification token
 * pinned by the operator's command beside the running runtime.
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

/** The operator's `npm run notion-webhook -- …` on this runtime's DATA_DIR, as a user runs it beside the runtime (or after it stopped). */
async function notionWebhookCommand(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const options = { cwd: join(import.meta.dirname, '..', '..'), env: userEnvironment({ DATA_DIR: dataDir }) };
  try {
    const running = promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/ops/notion-webhook.ts', ...args], options);
    running.child.stdin?.end(stdin);
    return { code: 0, ...(await running) };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

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

  const workspaceOf = async () => (await api<{ externalAccount: { id: string } }>('GET', `/api/integrations/${id}`)).data.externalAccount.id;
  const channel = async () => (await api<{ channels: Array<{ status: string; lastRenewalError: string | null; lastDeliveryAt: string | null }> }>('GET', `/api/integrations/${id}/webhooks`)).data.channels;
  const outsiderToken = 'secret_playedbyanoutsider000000000000';
  const signedBy = (token: string, body: string) => ({ 'x-notion-signature': `sha256=${createHmac('sha256', token).update(body).digest('hex')}` });

  it('until the operator pins the token Notion posted, no event verifies, the status says why and no test event is signed', async () => {
    expect((await sandbox('notion/webhook/subscribe', {})).status).toBe(200);
    // Anyone can post a token and sign events with it: before the pin too, that verifies nothing.
    const verification = JSON.stringify({ verification_token: outsiderToken });
    expect((await webhook('notion', verification, signedBy(outsiderToken, verification))).status).toBe(200);
    const event = JSON.stringify({ id: 'evt-outsider', type: 'page.content_updated', workspace_id: await workspaceOf(), entity: { id: 'p1', type: 'page' } });
    expect((await webhook('notion', event, signedBy(outsiderToken, event))).status).toBe(401);
    const status = await api('GET', `/api/integrations/${id}/webhooks`);
    expect(status.raw).not.toMatch(/secret_/);
    expect(await channel()).toEqual([expect.objectContaining({ status: 'off', lastRenewalError: 'awaiting_operator_verification' })]);
    expect(await api('POST', `/api/integrations/${id}/webhooks/test`)).toMatchObject({ status: 409, error: { code: 'no_webhook_channel' } });
  });

  it('the operator lists the tokens received, the owner pastes the one Notion accepts, the operator pins it: signed events request syncs; trash becomes a tombstone', async () => {
    const pending = await notionWebhookCommand(['pending']);
    expect(pending.code).toBe(0);
    const tokens = pending.stdout.trim().split('\n').map((line) => line.split(' ')[1] ?? '');
    // Newest first: the outsider's post came last.
    expect(tokens[0]).toBe(outsiderToken);
    let accepted: string | undefined;
    for (const token of tokens) {
      if ((await sandbox('notion/webhook/verify', { token })).verified) {
        accepted = token;
        break;
      }
    }
    expect(accepted).toMatch(/^secret_/);
    expect(accepted).not.toBe(outsiderToken);
    // On stdin, as the README advises, so the token stays out of shell history and the process list.
    const pinned = await notionWebhookCommand(['pin', '-'], `${accepted ?? ''}\n`);
    expect(pinned).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Pinned the token received at /) });
    expect(pinned.stdout).not.toContain(accepted);
    expect(await channel()).toEqual([expect.objectContaining({ status: 'active', lastRenewalError: null })]);

    const before = (await webhookSyncs(id)).length;
    const added = await sandbox('notion/data', { op: 'add', title: 'First week plan' });
    expect(added.delivered).toBe(200);
    expect((await webhookSyncs(id)).length).toBe(before + 1);
    expect((await channel())[0]?.lastDeliveryAt).not.toBeNull();
    await syncNow(id);
    expect((await records(id, 'pages')).find((record) => record.externalId === added.id)?.data?.title).toBe('First week plan');
    expect((await sandbox('notion/data', { op: 'trash', id: added.id })).delivered).toBe(200);
    await syncNow(id);
    expect((await records(id, 'pages')).find((record) => record.externalId === added.id)?.deleted).toBe(true);
  });

  it('once pinned, refuses a forged signature and events signed with any other token posted', async () => {
    const event = JSON.stringify({ id: 'evt-forged', type: 'page.content_updated', workspace_id: await workspaceOf(), entity: { id: 'p1', type: 'page' }, attempt_number: 1 });
    expect((await webhook('notion', event, signedBy('secret_guess', event))).status).toBe(401);
    const token = 'secret_playedbythetest0000000000000000';
    const verification = JSON.stringify({ verification_token: token });
    expect((await webhook('notion', verification, signedBy(token, verification))).status).toBe(200);
    const before = (await webhookSyncs(id)).length;
    expect((await webhook('notion', event, signedBy(token, event))).status).toBe(401);
    expect((await webhook('notion', event, signedBy(outsiderToken, event))).status).toBe(401);
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
 * check and test event, a revoked grant, erasure of the disconnected
 * integration. Export, consents, isolation and roles of every provider are
 * test/e2e/privacy.test.ts's table.
 */
describe.each([
  { provider: 'asana', account: 'people@globex-asana.test' },
  { provider: 'notion', account: 'people@globex-notion.test' },
])('$provider across the platform', ({ provider, account }) => {
  const tokens: Record<'admin', string> = { admin: '' };
  const as = <T>(who: keyof typeof tokens, method: string, path: string, body?: unknown) => client.api<T>(method, path, tokens[who], body);
  let id = '';

  beforeAll(async () => {
    const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
    tokens.admin = await mintLocalToken(jwtSecret, { orgId: 'globex', role: 'admin', sub: 'globex-admin', ttlSeconds: 3600 });
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

describe('Notion webhook command with the runtime stopped', () => {
  it('reads the pin from the on-disk store', async () => {
    await server.stop('SIGTERM');
    const status = await notionWebhookCommand(['status']);
    expect(status).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Pinned: the token received at /) });
  });
});
