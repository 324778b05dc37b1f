import { describe, expect, it } from 'vitest';
import { handler as getIntegrationHandler } from '../../functions/api/get-integration';
import { handler as listIntegrationsHandler } from '../../functions/api/list-integrations';
import { handler as listProvidersHandler } from '../../functions/api/list-providers';
import { createIntegration } from '../../shared/store/integrations';
import type { JwtClaims } from '../../infra/local/lambda-events';
import { call, claimsFor, integrationRecord, uniqueOrg } from '../support/api';

const getRoute = (id: string) => ({
  method: 'GET',
  path: `/api/integrations/${id}`,
  routeKey: 'GET /api/integrations/{id}',
  pathParameters: { id },
});

describe('GET /api/integrations/providers', () => {
  it('lists the catalog: five active providers, with default scopes', async () => {
    const response = await call(listProvidersHandler, { path: '/api/integrations/providers', claims: claimsFor('o', 'manager') });
    expect(response.statusCode).toBe(200);
    const providers = response.json.data as Array<{ id: string; name: string; status: string; defaultScopes: string[]; features: string[] }>;
    expect(providers.map((p) => [p.id, p.status])).toEqual([
      ['slack', 'active'],
      ['google', 'active'],
      ['microsoft', 'active'],
      ['asana', 'active'],
      ['notion', 'active'],
    ]);
    const slack = providers.find((p) => p.id === 'slack');
    expect(slack?.name).toBe('Slack');
    expect(slack?.defaultScopes).toEqual(expect.arrayContaining(['channels:read', 'chat:write', 'channels:manage', 'users:read']));
    expect(slack?.features).toContain('messaging');
  });
});

describe('GET /api/integrations', () => {
  it("returns the caller's organisation's integrations in the guide's shape, and nothing of other organisations", async () => {
    const orgId = uniqueOrg('list');
    const mine = integrationRecord(orgId, { lastSyncAt: '2026-11-25T10:00:00.000Z' });
    await createIntegration(mine);
    await createIntegration(integrationRecord(uniqueOrg('someone-else')));

    const response = await call(listIntegrationsHandler, { claims: claimsFor(orgId, 'hr') });
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({
      success: true,
      data: [
        {
          id: mine.id,
          providerId: 'slack',
          providerName: 'Slack',
          status: 'active',
          healthStatus: 'healthy',
          healthReason: 'connected',
          healthChangedAt: mine.healthChangedAt,
          externalAccount: { id: 'T0001', name: 'Acme workspace' },
          scopes: ['channels:read', 'chat:write'],
          connectedAt: mine.connectedAt,
          lastSyncAt: '2026-11-25T10:00:00.000Z',
          disconnectedAt: null,
        },
      ],
    });
  });

  it('pages with limit and an x-next-cursor header', async () => {
    const orgId = uniqueOrg('page');
    for (let i = 0; i < 3; i += 1) await createIntegration(integrationRecord(orgId));
    const first = await call(listIntegrationsHandler, { query: 'limit=2', claims: claimsFor(orgId) });
    expect(first.json.data).toHaveLength(2);
    const cursor = String(first.headers['x-next-cursor']);
    const second = await call(listIntegrationsHandler, { query: `limit=2&cursor=${cursor}`, claims: claimsFor(orgId) });
    expect(second.json.data).toHaveLength(1);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=101', 'limit'],
  ])('rejects the query %s with a readable 400', async (query, field) => {
    const response = await call(listIntegrationsHandler, { query, claims: claimsFor(uniqueOrg('q')) });
    expect(response.statusCode).toBe(400);
    expect(response.json.error?.code).toBe('validation_failed');
    expect(response.json.error?.message).toContain(field);
  });

  it('rejects a forged cursor with 400, not 500', async () => {
    const response = await call(listIntegrationsHandler, { query: 'cursor=%%%garbage', claims: claimsFor(uniqueOrg('q')) });
    expect(response.statusCode).toBe(400);
    expect(response.json.error?.code).toBe('bad_request');
  });

  it('answers 413 past the documented 64 KiB body limit', async () => {
    const response = await call(listIntegrationsHandler, {
      body: JSON.stringify({ padding: 'x'.repeat(70 * 1024) }),
      headers: { 'content-type': 'application/json' },
      claims: claimsFor(uniqueOrg('big')),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json).toEqual({
      success: false,
      error: { code: 'payload_too_large', message: 'Request body exceeds the 65536-byte limit' },
    });
  });
});

describe('GET /api/integrations/{id}', () => {
  it('returns one integration of the organisation', async () => {
    const record = integrationRecord(uniqueOrg('get'), { providerId: 'google', externalAccountId: 'user@acme.test' });
    await createIntegration(record);
    const response = await call(getIntegrationHandler, { ...getRoute(record.id), claims: claimsFor(record.orgId, 'manager') });
    expect(response.statusCode).toBe(200);
    expect(response.json.data).toMatchObject({ id: record.id, providerId: 'google', providerName: 'Google Workspace' });
  });

  it("is a 404 for another organisation's integration, with nothing of it in the answer", async () => {
    const record = integrationRecord(uniqueOrg('victim'));
    await createIntegration(record);
    const response = await call(getIntegrationHandler, { ...getRoute(record.id), claims: claimsFor(uniqueOrg('attacker')) });
    expect(response.statusCode).toBe(404);
    expect(response.json).toEqual({ success: false, error: { code: 'not_found', message: 'Integration not found' } });
    expect(response.raw).not.toContain(record.externalAccountId);
  });

  it.each(['int_123', 'INT_01JD3X8Q9W7T5V4N2M1K0H8G6F', 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F#TOKENS', '../etc'])(
    'rejects the malformed id %s with 400',
    async (id) => {
      const response = await call(getIntegrationHandler, { ...getRoute(id), claims: claimsFor(uniqueOrg('bad')) });
      expect(response.statusCode).toBe(400);
      expect(response.json.error?.code).toBe('validation_failed');
    },
  );
});

describe('authentication and roles (claims as the JWT authorizer passes them)', () => {
  const handlers = [
    ['list-providers', listProvidersHandler, { path: '/api/integrations/providers' }],
    ['list-integrations', listIntegrationsHandler, {}],
    ['get-integration', getIntegrationHandler, getRoute('int_01JD3X8Q9W7T5V4N2M1K0H8G6F')],
  ] as const;

  it.each(handlers)('%s: 401 without claims or with any of sub, org_id, role missing', async (_name, handler, route) => {
    const cases: Array<JwtClaims | null> = [null, { org_id: 'o', role: 'admin' }, { sub: 'u', role: 'admin' }, { sub: 'u', org_id: 'o' }, { sub: 'u', org_id: 'o#x', role: 'admin' }];
    for (const claims of cases) {
      const response = await call(handler, { ...route, claims });
      expect(response.statusCode, JSON.stringify(claims)).toBe(401);
      expect(response.json.error?.code).toBe('unauthorized');
    }
  });

  // The RBAC matrix for the read endpoints: admin, hr and manager read; employee and unknown roles get 403.
  it.each(handlers)('%s: the role matrix', async (_name, handler, route) => {
    const orgId = uniqueOrg('rbac');
    const expected: Record<string, number[]> = { admin: [200, 404], hr: [200, 404], manager: [200, 404], employee: [403], contractor: [403] };
    for (const [role, statuses] of Object.entries(expected)) {
      const response = await call(handler, { ...route, claims: claimsFor(orgId, role) });
      expect(statuses, `${role} got ${response.statusCode}`).toContain(response.statusCode);
      if (response.statusCode === 403) expect(response.json.error?.code).toBe('forbidden');
    }
  });
});
