import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { manifest } from '../../infra/manifest';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';

/**
 * Privacy and tenancy through the local runtime: export (organisation and
 * integration), consent history, erasure, and a table-driven check of every
 * endpoint against another organisation's ids and against every role.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-privacy-'));
let server: LocalProcess;
let client: ReturnType<typeof runtimeClient>;
let secret = '';
const token = (orgId: string, role: string) => mintLocalToken(secret, { orgId, role, sub: `${role}@${orgId}`, ttlSeconds: 3600 });
let admin = '';
let slackId = '';
let googleId = '';

interface ExportPage {
  items: Array<{ type: string; integrationId?: string; data: Record<string, unknown> }>;
  nextCursor: string | null;
}

async function exportAll(path: string, bearer: string) {
  const items: ExportPage['items'] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; data: ExportPage; raw: string } = await client.api<ExportPage>('GET', `${path}${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, bearer);
    expect(page.status, page.raw).toBe(200);
    items.push(...page.data.items);
    cursor = page.data.nextCursor;
  } while (cursor);
  return items;
}

async function waitForSync(id: string) {
  for (let i = 0; i < 100; i += 1) {
    const logs = await client.api<{ logs: unknown[] }>('GET', `/api/integrations/${id}/sync-logs`, admin);
    if (logs.data.logs.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test' });
  client = runtimeClient(server.url);
  secret = (JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string }).jwtSecret;
  admin = await token('umbrella', 'admin');
  slackId = await client.connect('slack', admin);
  googleId = await client.connect('google', admin);
  await waitForSync(slackId);
  await waitForSync(googleId);
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('access and portability', () => {
  it('exports the organisation: integrations, consents, sync logs, records, subscriptions, webhook logs, and no secret', async () => {
    const items = await exportAll('/api/integrations/export', admin);
    const types = new Set(items.map((item) => item.type));
    // Webhook logs: the Google channels' handshake deliveries.
    expect([...types].sort()).toEqual(['consent', 'integration', 'record', 'subscription', 'syncLog', 'webhookLog']);
    expect(items.filter((item) => item.type === 'integration').map((item) => item.data.id).sort()).toEqual([slackId, googleId].sort());
    const text = JSON.stringify(items);
    for (const forbidden of ['xoxe', 'ya29.', '1//', 'secretHash', 'codeVerifier', 'clientState', 'ciphertext', 'refreshToken', 'accessToken']) {
      expect(text).not.toContain(forbidden);
    }
  });

  it('exports one integration: only its own data', async () => {
    const items = await exportAll(`/api/integrations/${slackId}/export`, admin);
    expect(items.length).toBeGreaterThan(3);
    for (const item of items) {
      const owner = item.type === 'integration' ? item.data.id : item.type === 'consent' ? item.data.integrationId : item.integrationId;
      expect(owner).toBe(slackId);
    }
  });

  it('lists the consent history: when, who, scopes approved, IP, user agent, consent version', async () => {
    const answer = await client.api<{ consents: Array<Record<string, unknown>> }>('GET', `/api/integrations/${googleId}/consents`, admin);
    expect(answer.status).toBe(200);
    expect(answer.data.consents[0]).toMatchObject({
      userId: 'admin@umbrella',
      providerId: 'google',
      ipAddress: '127.0.0.1',
      consentVersion: expect.any(String),
      grantedAt: expect.any(String),
      scopesGranted: expect.arrayContaining(['openid']),
      userAgent: expect.any(String),
    });
  });
});

describe('erasure', () => {
  it('disconnects, hides everything at once, and says what goes when', async () => {
    const before = ((await client.sandbox('requests?provider=google')).requests as Array<{ path: string }>).length;
    const answer = await client.api<{ integrationId: string; purgeAt: string; removes: Record<string, number> }>('DELETE', `/api/integrations/${googleId}/data`, admin);
    expect(answer.status).toBe(202);
    const days = (Date.parse(answer.data.purgeAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    expect(answer.data.removes.integration).toBe(1);
    expect(answer.data.removes.consents).toBe(1);
    expect(answer.data.removes.syncLogs).toBeGreaterThanOrEqual(1);
    const revoked = ((await client.sandbox('requests?provider=google')).requests as Array<{ path: string }>).slice(before);
    expect(revoked.some((request) => request.path.endsWith('/revoke'))).toBe(true);

    for (const path of [`/api/integrations/${googleId}`, `/api/integrations/${googleId}/export`, `/api/integrations/${googleId}/consents`, `/api/integrations/${googleId}/records?resource=calendar`, `/api/integrations/${googleId}/sync-logs`]) {
      expect((await client.api('GET', path, admin)).status, path).toBe(404);
    }
    const listed = await client.api<Array<{ id: string }>>('GET', '/api/integrations', admin);
    expect(listed.data.map((item) => item.id)).not.toContain(googleId);
    const exported = await exportAll('/api/integrations/export', admin);
    expect(JSON.stringify(exported)).not.toContain(googleId);
  });

  it('erasing twice, unknown or malformed ids: the envelope and a 4xx', async () => {
    expect(await client.api('DELETE', `/api/integrations/${googleId}/data`, admin)).toMatchObject({ status: 404, success: false, error: { code: 'not_found' } });
    expect((await client.api('DELETE', '/api/integrations/int_00000000000000000000000000/data', admin)).status).toBe(404);
    expect((await client.api('DELETE', '/api/integrations/not-an-id/data', admin)).status).toBe(400);
    expect((await client.api('GET', '/api/integrations/not-an-id/export', admin)).status).toBe(400);
    expect((await client.api('GET', '/api/integrations/export?cursor=garbage', admin)).status).toBe(400);
  });
});

/** Every authenticated route of the manifest, with a path and body that are valid for it. */
const routes = manifest.flatMap((spec) => (spec.trigger.kind === 'http' && spec.trigger.auth === 'jwt' ? [{ name: spec.name, ...spec.trigger }] : []));
const bodies: Record<string, unknown> = {
  connect: { providerId: 'slack' },
  reconnect: {},
  'update-settings': { scheduledSync: true },
  'run-action': { channel: '#general', text: 'hello' },
  // A loopback URL nothing listens on: the organisation's events may go there and are refused on this machine.
  'create-event-endpoint': { url: 'http://127.0.0.1:9/hooks', eventTypes: ['alert'] },
};
const unknownEndpointId = 'ep_00000000000000000000000000';
const fill = (path: string, id: string, endpointId = unknownEndpointId) =>
  path.replace('{id}', id).replace('{endpointId}', endpointId).replace('{action}', 'slack.sendMessage') + (path.endsWith('/records') ? '?resource=users' : '');

/** Outgoing webhook endpoints are admin only, reads included (shared/http/rbac.ts). */
const adminOnlyRoutes = new Set(['create-event-endpoint', 'list-event-endpoints', 'delete-event-endpoint', 'list-event-endpoint-deliveries']);
let umbrellaEndpoint: Promise<string> | undefined;
/** One endpoint of the umbrella organisation, registered on first use, for the cross-organisation checks. */
const umbrellaEndpointId = () =>
  (umbrellaEndpoint ??= client.api<{ id: string }>('POST', '/api/integrations/event-endpoints', admin, { url: 'http://127.0.0.1:9/umbrella-hooks', eventTypes: ['alert'] }).then((answer) => answer.data.id));

/** Read endpoints are open to managers; everything else is for admin and HR (architecture §7). */
const readOnlyRoutes = new Set([
  'list-providers',
  'list-integrations',
  'get-integration',
  'list-records',
  'list-sync-logs',
  'get-settings',
  // Troubleshooting reads; its test event and health check act (admin and HR, like a manual sync).
  'list-webhooks',
  'list-webhook-logs',
  'list-alerts',
]);

describe('isolation and roles, endpoint by endpoint', () => {
  it('covers every authenticated route of the manifest, each classified', () => {
    expect(routes.length).toBe(manifest.filter((spec) => spec.trigger.kind === 'http' && spec.trigger.auth === 'jwt').length);
    // A new GET route must be classified here: read (managers too) or privacy (admin and HR only).
    const privacyRoutes = new Set(['export-org', 'export-integration', 'list-consents']);
    for (const route of routes.filter((candidate) => candidate.method === 'GET')) {
      expect(readOnlyRoutes.has(route.name) || privacyRoutes.has(route.name) || adminOnlyRoutes.has(route.name), route.name).toBe(true);
    }
  });

  it.each(routes.filter((route) => route.path.includes('{id}')).map((route) => [route.name, route]))(
    "%s: another organisation's admin gets 404 and none of the data",
    async (_name, route) => {
      const stranger = await token('intruder-org', 'admin');
      const answer = await client.api(route.method, fill(route.path, slackId), stranger, bodies[route.name]);
      expect(answer.status).toBe(404);
      expect(answer.raw).not.toContain('T0SANDBOX');
    },
  );

  it.each(routes.filter((route) => route.path.includes('{endpointId}')).map((route) => [route.name, route]))(
    "%s: another organisation's admin gets 404 for this organisation's endpoint, which stays",
    async (_name, route) => {
      const endpointId = await umbrellaEndpointId();
      const answer = await client.api(route.method, fill(route.path, slackId, endpointId), await token('intruder-org', 'admin'), bodies[route.name]);
      expect(answer.status).toBe(404);
      expect(answer.raw).not.toContain('umbrella-hooks');
      const listed = await client.api<{ endpoints: Array<{ id: string }> }>('GET', '/api/integrations/event-endpoints', admin);
      expect(listed.data.endpoints.map((endpoint) => endpoint.id)).toContain(endpointId);
    },
  );

  it('organisation-wide routes show another organisation nothing', async () => {
    const stranger = await token('intruder-org', 'admin');
    expect((await client.api<unknown[]>('GET', '/api/integrations', stranger)).data).toEqual([]);
    expect((await client.api<ExportPage>('GET', '/api/integrations/export', stranger)).data.items).toEqual([]);
    await umbrellaEndpointId();
    expect((await client.api<{ endpoints: unknown[] }>('GET', '/api/integrations/event-endpoints', stranger)).data.endpoints).toEqual([]);
  });

  it.each(routes.map((route) => [route.name, route]))('%s: the role matrix', async (name, route) => {
    const unknownId = 'int_00000000000000000000000000';
    for (const role of ['admin', 'hr', 'manager', 'employee']) {
      const allowed = role === 'admin' || (role === 'hr' && !adminOnlyRoutes.has(name)) || (role === 'manager' && readOnlyRoutes.has(name));
      const answer = await client.api(route.method, fill(route.path, unknownId), await token('umbrella', role), bodies[name]);
      if (allowed) expect(answer.status, `${role} ${name}`).not.toBe(403);
      else expect(answer).toMatchObject({ status: 403, success: false, error: { code: 'forbidden' } });
      expect(answer.status, `${role} ${name}`).toBeLessThan(500);
    }
  });
});
