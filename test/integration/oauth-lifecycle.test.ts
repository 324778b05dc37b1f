import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as callbackHandler } from '../../functions/api/oauth-callback';
import { handler as completeHandler } from '../../functions/api/complete-connection';
import { handler as connectHandler } from '../../functions/api/connect';
import { startSandboxServer } from '../../infra/local/sandbox';
import type { IntegrationRecord } from '../../shared/domain/integration';
import { ProviderError } from '../../shared/oauth/errors';
import { providerFetch } from '../../shared/oauth/http';
import { sweepExpiringTokens } from '../../shared/oauth/refresh-sweep';
import { savePendingConnection } from '../../shared/oauth/state';
import { IntegrationUnavailableError, getCredential, withAccessToken } from '../../shared/oauth/token-manager';
import { dynamo, tableName } from '../../shared/store/client';
import { listConsents } from '../../shared/store/consents';
import { getIntegration, listIntegrations } from '../../shared/store/integrations';
import { keys } from '../../shared/store/keys';
import { loadCredentials, replaceCredentials } from '../../shared/store/tokens';
import { call, claimsFor, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';
import { submitConsent } from '../support/oauth-browser';

/**
 * The OAuth lifecycle in process: handlers against dynalite and the sandbox
 * providers over real HTTP, with every log line captured and searched for
 * the secrets the sandbox issued.
 */
let sandbox: Awaited<ReturnType<typeof startSandboxServer>>;
let events: Awaited<ReturnType<typeof startTestEventBus>>;
const logLines: string[] = [];
const secretsSeen = new Set<string>();
/** Every API answer the tests saw, searched for secrets at the end. */
const responses: string[] = [];
/** OAuth states are returned by connect by design; everything else secret must never be. */
const statesIssued = new Set<string>();

beforeAll(async () => {
  sandbox = await startSandboxServer({ port: 0 });
  events = await startTestEventBus('hr-integrations-test');
  for (const name of ['SLACK', 'GOOGLE', 'MICROSOFT']) {
    delete process.env[`${name}_CLIENT_ID`];
    delete process.env[`${name}_CLIENT_SECRET`];
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logLines.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
    });
  }
});

beforeEach(() => {
  process.env.SANDBOX_BASE_URL = sandbox.url;
});

afterAll(async () => {
  vi.restoreAllMocks();
  await sandbox.close();
  await events.close();
});

async function control(path: string, body?: unknown) {
  const response = await fetch(`${sandbox.url}/_control/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return (await response.json()) as Record<string, unknown>;
}

const refreshRequests = async (provider: string) =>
  ((await control(`requests?provider=${provider}`)).requests as Array<{ path: string; body: unknown }>).filter(
    (request) => JSON.stringify(request.body ?? '').includes('refresh_token') && /token|access/.test(request.path),
  );

async function remember(integration: IntegrationRecord) {
  const stored = await loadCredentials({ orgId: integration.orgId, integrationId: integration.id, providerId: integration.providerId });
  for (const credential of stored?.credentials ?? []) {
    secretsSeen.add(credential.accessToken);
    if (credential.refreshToken) secretsSeen.add(credential.refreshToken);
  }
  return stored;
}

/** Connects through the handlers and a browser-like consent, returning the stored integration. */
async function connect(providerId: string, orgId = uniqueOrg(providerId)): Promise<IntegrationRecord> {
  const started = await call(connectHandler, {
    method: 'POST',
    path: '/api/integrations/connect',
    body: JSON.stringify({ providerId }),
    headers: { 'content-type': 'application/json' },
    claims: claimsFor(orgId, 'hr', 'user-42'),
  });
  expect(started.statusCode, started.raw).toBe(200);
  responses.push(started.raw);
  const { url, state } = started.json.data as { url: string; state: string };
  secretsSeen.add(state);
  statesIssued.add(state);
  const pending = await dynamo().send(new GetCommand({ TableName: tableName(), Key: { pk: keys.oauthState(state), sk: keys.oauthStateSk } }));
  if (typeof pending.Item?.codeVerifier === 'string') secretsSeen.add(pending.Item.codeVerifier);
  const callbackUrl = new URL(await submitConsent(url, 'allow'));
  secretsSeen.add(callbackUrl.searchParams.get('code') ?? '');
  const back = await call(callbackHandler, {
    method: 'GET',
    path: callbackUrl.pathname,
    routeKey: 'GET /api/integrations/callback/{providerId}',
    pathParameters: { providerId },
    query: callbackUrl.search.slice(1),
    headers: { 'user-agent': 'Mozilla/5.0 (test browser)' },
    claims: null,
  });
  expect(back.statusCode).toBe(302);
  const pendingId = new URL(String(back.headers.location)).searchParams.get('pending') ?? '';
  responses.push(JSON.stringify(back.headers), back.raw);
  const completed = await call(completeHandler, {
    method: 'POST',
    path: '/api/integrations/connect/complete',
    body: JSON.stringify({ pending: pendingId }),
    headers: { 'content-type': 'application/json' },
    claims: claimsFor(orgId, 'hr', 'user-42'),
  });
  expect(completed.statusCode, completed.raw).toBe(200);
  expect(completed.json.data).toMatchObject({ status: 'connected', providerId });
  responses.push(completed.raw);
  const integration = (await listIntegrations(orgId)).items.find((item) => item.providerId === providerId);
  if (!integration) throw new Error('integration was not created');
  await remember(integration);
  return integration;
}

/** Makes the stored access token look expired (as time passing would). */
async function ageTokens(integration: IntegrationRecord) {
  const ref = { orgId: integration.orgId, integrationId: integration.id, providerId: integration.providerId };
  const stored = await loadCredentials(ref);
  await replaceCredentials(ref, (stored?.credentials ?? []).map((credential) => ({ ...credential, expiresAt: new Date(Date.now() - 60_000).toISOString() })));
}

describe('callback', () => {
  it('records consent: who, when, scopes asked and given, IP, user agent, consent version', async () => {
    const integration = await connect('google');
    const { items } = await listConsents(integration.orgId, integration.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      userId: 'user-42',
      providerId: 'google',
      ipAddress: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (test browser)',
      consentVersion: '2026-11-01',
    });
    expect(items[0]?.scopesRequested).toEqual(expect.arrayContaining(['openid', 'email', 'https://www.googleapis.com/auth/calendar.events']));
    expect(items[0]?.scopesGranted.length).toBeGreaterThan(0);
    expect(events.eventsOfType('integration.connected').some((event) => (event.detail as { integrationId?: string }).integrationId === integration.id)).toBe(true);
  });

  it('stores Slack bot and user credentials apart, each with its own expiry and refresh token', async () => {
    const integration = await connect('slack');
    const stored = await remember(integration);
    expect(stored?.credentials.map((credential) => credential.kind).sort()).toEqual(['slack-bot', 'slack-user']);
    for (const credential of stored?.credentials ?? []) {
      expect(credential.refreshToken).toMatch(/^xoxe-1-/);
      expect(credential.expiresAt).toBeDefined();
    }
    expect(integration.scopesGranted).toContain('user:chat:write');
  });

  it('keeps no token in plaintext in the table', async () => {
    const integration = await connect('microsoft');
    await remember(integration);
    const { Items } = await dynamo().send(
      new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.org(integration.orgId) } }),
    );
    const raw = (Items ?? [])
      .map((item) => JSON.stringify(item, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value)))
      .join('\n');
    expect(Items?.length).toBeGreaterThanOrEqual(3); // integration, tokens, consent
    for (const secret of secretsSeen) if (secret) expect(raw).not.toContain(secret);
  });

  it('refuses an expired state: no integration', async () => {
    const orgId = uniqueOrg('expired');
    const state = 'E'.repeat(43);
    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    await savePendingConnection(
      state,
      { orgId, userId: 'u', providerId: 'slack', scopes: [], redirectTo: 'http://app.test/settings/integrations', createdAt: elevenMinutesAgo.toISOString() },
      elevenMinutesAgo,
    );
    const response = await call(callbackHandler, {
      path: '/api/integrations/callback/slack',
      routeKey: 'GET /api/integrations/callback/{providerId}',
      pathParameters: { providerId: 'slack' },
      query: `code=anything&state=${state}`,
      claims: null,
    });
    expect(String(response.headers.location)).toBe('http://app.test/settings/integrations?error=invalid_state');
    expect((await listIntegrations(orgId)).items).toHaveLength(0);
  });

  it('a malformed token response from the provider creates nothing and logs no secret', async () => {
    const liar = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, access_token: 'xoxb-leaked-in-a-broken-response', token_type: 'weird' }));
    });
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    const orgId = uniqueOrg('liar');
    const started = await call(connectHandler, {
      method: 'POST',
      path: '/api/integrations/connect',
      body: JSON.stringify({ providerId: 'slack' }),
      headers: { 'content-type': 'application/json' },
      claims: claimsFor(orgId),
    });
    const { state } = started.json.data as { state: string };
    process.env.SANDBOX_BASE_URL = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
    secretsSeen.add('xoxb-leaked-in-a-broken-response');
    const back = await call(callbackHandler, {
      path: '/api/integrations/callback/slack',
      routeKey: 'GET /api/integrations/callback/{providerId}',
      pathParameters: { providerId: 'slack' },
      query: `code=c0de&state=${state}`,
      claims: null,
    });
    expect(String(back.headers.location)).toContain('error=exchange_failed');
    await new Promise<void>((resolve) => liar.close(() => resolve()));
    expect((await listIntegrations(orgId)).items).toHaveLength(0);
    expect(logLines.some((line) => line.includes('Code exchange failed'))).toBe(true);
  });
});

describe('token manager', () => {
  it('50 concurrent callers of an expired Slack token cause exactly one refresh; the rotated token is stored', async () => {
    const integration = await connect('slack');
    await ageTokens(integration);
    const before = (await refreshRequests('slack')).length;
    const results = await Promise.all(Array.from({ length: 50 }, () => getCredential(integration, 'slack-bot')));
    expect((await refreshRequests('slack')).length - before).toBe(1);
    expect(new Set(results.map((credential) => credential.accessToken)).size).toBe(1);
    const stored = await remember(integration);
    const bot = stored?.credentials.find((credential) => credential.kind === 'slack-bot');
    expect(bot?.accessToken).toBe(results[0]?.accessToken);
    expect(Date.parse(bot?.expiresAt ?? '')).toBeGreaterThan(Date.now() + 11 * 3600_000);
    // The user credential was left alone.
    expect(stored?.credentials.find((credential) => credential.kind === 'slack-user')?.expiresAt).toBeDefined();
    // The stored (rotated) refresh token works: another refresh succeeds.
    await ageTokens(integration);
    await expect(getCredential(integration, 'slack-bot')).resolves.toMatchObject({ kind: 'slack-bot' });
  });

  it('across containers the DynamoDB lease keeps it to one refresh (each container its own module instance)', async () => {
    const integration = await connect('slack');
    await ageTokens(integration);
    const before = (await refreshRequests('slack')).length;
    const containers = [];
    for (let n = 0; n < 5; n += 1) {
      vi.resetModules();
      containers.push((await import('../../shared/oauth/token-manager')).getCredential);
    }
    const results = await Promise.all(containers.flatMap((get) => Array.from({ length: 10 }, () => get(integration, 'slack-bot'))));
    expect((await refreshRequests('slack')).length - before).toBe(1);
    expect(new Set(results.map((credential) => credential.accessToken)).size).toBe(1);
    await remember(integration);
  });

  it('keeps a refresh token the provider omitted (Google does not rotate)', async () => {
    const integration = await connect('google');
    const original = (await remember(integration))?.credentials[0]?.refreshToken;
    await ageTokens(integration);
    const refreshed = await getCredential(integration, 'oauth');
    expect(refreshed.refreshToken).toBe(original);
    expect((await remember(integration))?.credentials[0]?.refreshToken).toBe(original);
  });

  it('a revoked grant disconnects the integration with the reason and an event', async () => {
    const integration = await connect('google');
    const token = (await remember(integration))?.credentials[0]?.accessToken;
    await control('revoke', { provider: 'google', token });
    await ageTokens(integration);
    const error = await getCredential(integration, 'oauth').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntegrationUnavailableError);
    const after = await getIntegration(integration.orgId, integration.id);
    expect(after).toMatchObject({ status: 'disconnected', healthStatus: 'disconnected', healthReason: 'invalid_grant' });
    expect(events.eventsOfType('integration.health_changed').some((event) => (event.detail as { integrationId?: string; to?: string }).integrationId === integration.id)).toBe(true);
  });

  it('a transient failure degrades the integration; the next success recovers it', async () => {
    const integration = await connect('microsoft');
    await ageTokens(integration);
    await control('faults', { provider: 'microsoft', path: '/login', status: 503, times: 3 });
    const error = await getCredential(integration, 'oauth').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    const degraded = await getIntegration(integration.orgId, integration.id);
    expect(degraded).toMatchObject({ status: 'active', healthStatus: 'degraded' });
    expect(degraded?.healthReason).toMatch(/^token_refresh_failed/);
    await getCredential(degraded as IntegrationRecord, 'oauth');
    expect(await getIntegration(integration.orgId, integration.id)).toMatchObject({ healthStatus: 'healthy', healthReason: 'token_refreshed' });
  });

  it('on a provider 401 it refreshes once and retries once', async () => {
    const integration = await connect('slack');
    const bot = (await remember(integration))?.credentials.find((credential) => credential.kind === 'slack-bot');
    await control('expire', { provider: 'slack', token: bot?.accessToken });
    const tokensUsed: string[] = [];
    const result = await withAccessToken(integration, 'slack-bot', async (accessToken) => {
      tokensUsed.push(accessToken);
      const response = await providerFetch('slack', `${sandbox.url}/slack/slack/api/auth.test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      const body = response.json as { ok: boolean; error?: string; team_id?: string };
      if (!body.ok) throw new ProviderError('slack', body.error ?? 'unknown', 200, 'unauthorized');
      return body.team_id;
    });
    expect(result).toBe(integration.externalAccountId);
    expect(tokensUsed).toHaveLength(2);
    expect(tokensUsed[0]).not.toBe(tokensUsed[1]);
    await remember(integration);
  });
});

describe('a dead grant seen by an API call', () => {
  it('disconnects the integration with the provider reason', async () => {
    const integration = await connect('slack');
    const error = await withAccessToken(integration, 'slack-bot', async () => {
      throw new ProviderError('slack', 'account_inactive', 200, 'terminal');
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntegrationUnavailableError);
    expect(await getIntegration(integration.orgId, integration.id)).toMatchObject({ status: 'disconnected', healthReason: 'account_inactive' });
  });
});

describe('refresh sweep', () => {
  it('refreshes, through the due index, the tokens that expire before its next run, and skips fresh ones', async () => {
    const stale = await connect('google');
    const fresh = await connect('microsoft');
    await ageTokens(stale);
    const before = (await refreshRequests('google')).length;
    const freshBefore = (await refreshRequests('microsoft')).length;
    const result = await sweepExpiringTokens(20 * 60_000);
    expect(result.refreshed).toBeGreaterThanOrEqual(1);
    expect((await refreshRequests('google')).length - before).toBe(1);
    expect((await refreshRequests('microsoft')).length - freshBefore).toBe(0);
    const stored = await remember(stale);
    expect(Date.parse(stored?.credentials[0]?.expiresAt ?? '')).toBeGreaterThan(Date.now() + 50 * 60_000);
    void fresh;
  });
});

describe('responses and logs', () => {
  it('no API answer carries a token, code or verifier', () => {
    const all = responses.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of secretsSeen) if (secret && !statesIssued.has(secret)) expect(all).not.toContain(secret);
  });

  it('logs never carry a token, code, state or verifier the sandbox issued', () => {
    expect(logLines.length).toBeGreaterThan(0);
    const all = logLines.join('\n');
    for (const secret of secretsSeen) if (secret) expect(all).not.toContain(secret);
  });
});
