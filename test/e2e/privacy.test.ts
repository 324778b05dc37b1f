/**
 * Privacy and tenancy through the local runtime, for every active provider
 * of the catalog (each connected once through the sandbox): export
 * (organisation and integration), consent history, a table-driven check of
 * every endpoint against another organisation's ids and against every role,
 * and erasure.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { manifest } from '../../infra/manifest';
import { findProvider } from '../../shared/providers/registry';
import { providerCatalog } from '../../shared/providers/catalog';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';

const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-privacy-'));
let server: LocalProcess;
let client: ReturnType<typeof runtimeClient>;
let secret = '';
const token = (orgId: string, role: string) => mintLocalToken(secret, { orgId, role, sub: `${role}@${orgId}`, ttlSeconds: 3600 });
let admin = '';

interface ExportPage {
  items: Array<{ type: string; integrationId?: string; data: Record<string, unknown> }>;
  nextCursor: string | null;
}

/** A sixth provider made active in the catalog is covered by every test below without a change here. */
const providers = providerCatalog.filter((entry) => entry.status === 'active').map((entry) => entry.id);
/** Each provider's integration in the umbrella organisation, and the external account id its data names. */
const connected: Record<string, { id: string; account: string }> = {};
const integrationOf = (provider: string) => connected[provider]?.id ?? '';
/** Each integration's own export, as the export test read it: the erasure's receipt must name what it held. */
const exported: Record<string, ExportPage['items']> = {};
/** Graph has no revocation endpoint (README, `DELETE /api/integrations/{id}`): its grant outlives the erasure at Microsoft. */
const keepsGrantAtProvider = new Set(['microsoft']);

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

async function connectAndSync(provider: string) {
  const id = await client.connect(provider, admin);
  await waitForSync(id);
  const integration = await client.api<{ externalAccount: { id: string } }>('GET', `/api/integrations/${id}`, admin);
  connected[provider] = { id, account: integration.data.externalAccount.id };
}

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test' });
  client = runtimeClient(server.url);
  secret = (JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string }).jwtSecret;
  admin = await token('umbrella', 'admin');
  await Promise.all(providers.map(connectAndSync));
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every token, code and webhook secret the sandboxes issued so far (the suite's ledger: test/support/env.ts). */
const issuedSecrets = () =>
  readFileSync(process.env.SANDBOX_SECRETS_LEDGER ?? '', 'utf8')
    .split('\n')
    .filter((line) => line.length >= 16);

/** No secret field, nothing shaped like any provider's token, and none of the secrets the sandboxes issued. */
function expectNoSecret(items: ExportPage['items']) {
  const text = JSON.stringify(items);
  for (const field of ['secretHash', 'signingKey', 'codeVerifier', 'clientState', 'ciphertext', 'refreshToken', 'accessToken']) expect(text).not.toContain(field);
  for (const provider of providers) {
    for (const pattern of findProvider(provider)?.wiring?.tokenPatterns ?? []) expect(text.match(pattern), `${provider} token ${pattern.source}`).toBeNull();
  }
  const issued = issuedSecrets();
  expect(issued.length).toBeGreaterThan(providers.length);
  expect(issued.filter((issuedSecret) => text.includes(issuedSecret))).toEqual([]);
}

describe('access and portability', () => {
  it("exports the organisation: every provider's integration, consents, sync logs, records, subscriptions, webhook logs, and no secret", async () => {
    const items = await exportAll('/api/integrations/export', admin);
    const types = new Set(items.map((item) => item.type));
    // Webhook logs: the Google channels' handshake deliveries.
    expect([...types].sort()).toEqual(['consent', 'integration', 'record', 'subscription', 'syncLog', 'webhookLog']);
    expect(items.filter((item) => item.type === 'integration').map((item) => item.data.id).sort()).toEqual(providers.map(integrationOf).sort());
    expectNoSecret(items);
  });

  it.each(providers)('%s: exporting one integration gives its own data only, and no secret', async (provider) => {
    const id = integrationOf(provider);
    const items = await exportAll(`/api/integrations/${id}/export`, admin);
    exported[provider] = items;
    expect(items.length).toBeGreaterThan(3);
    expect(items).toContainEqual(expect.objectContaining({ type: 'integration', data: expect.objectContaining({ id, providerId: provider }) }));
    for (const item of items) {
      const owner = item.type === 'integration' ? item.data.id : item.type === 'consent' ? item.data.integrationId : item.integrationId;
      expect(owner).toBe(id);
    }
    expectNoSecret(items);
  });

  it.each(providers)('%s: the consent history says when, who, the scopes approved, IP, user agent and consent version', async (provider) => {
    const answer = await client.api<{ consents: Array<Record<string, unknown>> }>('GET', `/api/integrations/${integrationOf(provider)}/consents`, admin);
    expect(answer.status).toBe(200);
    const required = providerCatalog.find((entry) => entry.id === provider)?.scopes.filter((scope) => scope.required).map((scope) => scope.scope) ?? [];
    expect(answer.data.consents).toEqual([
      expect.objectContaining({
        userId: 'admin@umbrella',
        providerId: provider,
        ipAddress: '127.0.0.1',
        consentVersion: expect.any(String),
        grantedAt: expect.any(String),
        scopesGranted: expect.arrayContaining(required),
        userAgent: expect.any(String),
      }),
    ]);
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
/** The route's path for one provider's integration: its own action and its own first synced resource, so only the id decides the answer. */
const fill = (path: string, id: string, provider = 'slack', endpointId = unknownEndpointId) => {
  const definition = findProvider(provider);
  const resource = Object.keys(definition?.sync?.resources ?? {})[0] ?? 'users';
  return (
    path
      .replace('{id}', id)
      .replace('{endpointId}', endpointId)
      .replace('{action}', definition?.actions?.list[0]?.name ?? 'slack.sendMessage') + (path.endsWith('/records') ? `?resource=${resource}` : '')
  );
};

/** Outgoing webhook endpoints are admin only, reads included (shared/http/rbac.ts). */
const adminOnlyRoutes = new Set(['create-event-endpoint', 'list-event-endpoints', 'delete-event-endpoint', 'list-event-endpoint-deliveries']);
let umbrellaEndpoint: Promise<string> | undefined;
/** One endpoint of the umbrella organisation, registered on first use, for the cross-organisation checks. */
const umbrellaEndpointId = () =>
  (umbrellaEndpoint ??= client.api<{ id: string }>('POST', '/api/integrations/event-endpoints', admin, { url: 'http://127.0.0.1:9/umbrella-hooks', eventTypes: ['alert'] }).then((answer) => answer.data.id));

/** Read endpoints are open to managers; everything else is for admin and HR (shared/http/rbac.ts). */
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
    "%s: another organisation's admin gets 404 for every provider's integration, and none of its data",
    async (_name, route) => {
      const stranger = await token('intruder-org', 'admin');
      await Promise.all(
        providers.map(async (provider) => {
          const answer = await client.api(route.method, fill(route.path, integrationOf(provider), provider), stranger, bodies[route.name]);
          expect(answer.status, provider).toBe(404);
          expect(answer.raw, provider).not.toContain(connected[provider]?.account);
        }),
      );
    },
  );

  it.each(routes.filter((route) => route.path.includes('{endpointId}')).map((route) => [route.name, route]))(
    "%s: another organisation's admin gets 404 for this organisation's endpoint, which stays",
    async (_name, route) => {
      const endpointId = await umbrellaEndpointId();
      const answer = await client.api(route.method, fill(route.path, integrationOf('slack'), 'slack', endpointId), await token('intruder-org', 'admin'), bodies[route.name]);
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

  it.each(routes.map((route) => [route.name, route]))("%s: the role matrix (a refused role is refused on every provider's integration)", async (name, route) => {
    const unknownId = 'int_00000000000000000000000000';
    await Promise.all(
      ['admin', 'hr', 'manager', 'employee'].map(async (role) => {
        const bearer = await token('umbrella', role);
        const allowed = role === 'admin' || (role === 'hr' && !adminOnlyRoutes.has(name)) || (role === 'manager' && readOnlyRoutes.has(name));
        if (allowed) {
          // An allowed role acts on an unknown id: what the route does is other tests' business.
          const answer = await client.api(route.method, fill(route.path, unknownId), bearer, bodies[name]);
          expect(answer.status, `${role} ${name}`).not.toBe(403);
          expect(answer.status, `${role} ${name}`).toBeLessThan(500);
          return;
        }
        const targets = route.path.includes('{id}') ? providers : ['slack'];
        const answers = await Promise.all(targets.map((provider) => client.api(route.method, fill(route.path, integrationOf(provider), provider), bearer, bodies[name])));
        for (const answer of answers) expect(answer, `${role} ${name}`).toMatchObject({ status: 403, success: false, error: { code: 'forbidden' } });
      }),
    );
  });
});

describe('erasure', () => {
  /** Erases one provider's integration and checks the receipt against what its export held. */
  async function eraseAndCheck(provider: string) {
    const id = integrationOf(provider);
    const held = exported[provider] ?? (await exportAll(`/api/integrations/${id}/export`, admin));
    const count = (type: string) => held.filter((item) => item.type === type).length;
    const answer = await client.api<{ integrationId: string; purgeAt: string; removes: Record<string, number> }>('DELETE', `/api/integrations/${id}/data`, admin);
    expect(answer.status, provider).toBe(202);
    const days = (Date.parse(answer.data.purgeAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    expect(answer.data.removes, provider).toMatchObject({
      integration: 1,
      consents: count('consent'),
      syncLogs: count('syncLog'),
      records: count('record'),
      webhookLogs: count('webhookLog'),
      subscriptions: expect.any(Number),
      actions: expect.any(Number),
    });
    expect(answer.data.removes.syncLogs, provider).toBeGreaterThanOrEqual(1);
    const grants = ((await client.sandbox(`tokens?provider=${provider}`)).tokens as Record<string, { grants: { active: number } }>)[provider];
    expect(grants?.grants.active, provider).toBe(keepsGrantAtProvider.has(provider) ? 1 : 0);

    const resource = fill('/records', id, provider).split('?')[1];
    const after = await Promise.all(['', '/export', '/consents', `/records?${resource}`, '/sync-logs', '/webhooks'].map((suffix) => client.api('GET', `/api/integrations/${id}${suffix}`, admin)));
    expect(after.map((one) => one.status), provider).toEqual([404, 404, 404, 404, 404, 404]);
  }

  it("each provider's erasure disconnects (revoking where the provider can), hides everything at once, and says what goes when", async () => {
    await Promise.all(providers.map(eraseAndCheck));
    const listed = await client.api<Array<{ id: string }>>('GET', '/api/integrations', admin);
    expect(listed.data).toEqual([]);
    const exported = JSON.stringify(await exportAll('/api/integrations/export', admin));
    for (const provider of providers) expect(exported).not.toContain(integrationOf(provider));
  });

  it('erasing twice, unknown or malformed ids: the envelope and a 4xx', async () => {
    expect(await client.api('DELETE', `/api/integrations/${integrationOf('google')}/data`, admin)).toMatchObject({ status: 404, success: false, error: { code: 'not_found' } });
    expect((await client.api('DELETE', '/api/integrations/int_00000000000000000000000000/data', admin)).status).toBe(404);
    expect((await client.api('DELETE', '/api/integrations/not-an-id/data', admin)).status).toBe(400);
    expect((await client.api('GET', '/api/integrations/not-an-id/export', admin)).status).toBe(400);
    expect((await client.api('GET', '/api/integrations/export?cursor=garbage', admin)).status).toBe(400);
  });
});
