import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { SANDBOX_SLACK_SIGNING_SECRET } from '../../shared/providers/slack/webhook';
import { follow, submitConsent } from '../support/oauth-browser';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { signedSlackRequest, slackEventCallback } from '../support/slack-events';

/**
 * Connect → list → reconnect → disconnect for every active provider, through
 * the local runtime over HTTP, against the sandbox providers it serves.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-oauth-'));
const APP = 'http://app.test';
let server: LocalProcess;
let admin = '';

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: APP });
  const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
  admin = await mintLocalToken(jwtSecret, { orgId: 'acme', role: 'admin', sub: 'alice', ttlSeconds: 3600 });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown, token = admin) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as { success: boolean; data?: unknown; error?: { code: string } } };
}

const integrationCount = async () => ((await api('GET', '/api/integrations')).body.data as unknown[]).length;
const startData = (response: { body: { data?: unknown } }) => response.body.data as { url: string; state: string };

async function sandboxRequests(provider: string) {
  const response = await fetch(`${server.url}/sandbox/_control/requests?provider=${provider}`);
  return ((await response.json()) as { requests: Array<{ method: string; path: string; headers: Record<string, string>; body: unknown }> }).requests;
}

async function connectThroughBrowser(providerId: string, path = '/api/integrations/connect', body: unknown = { providerId }) {
  const started = await api('POST', path, body);
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const { url, state } = started.body.data as { url: string; state: string };
  expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(url.startsWith(`${server.url}/sandbox/${providerId}/`)).toBe(true);
  const callback = await submitConsent(url, 'allow');
  expect(callback.startsWith(`${server.url}/api/integrations/callback/${providerId}?`)).toBe(true);
  const landing = await follow(callback);
  const pending = landing.location.searchParams.get('pending') ?? '';
  expect(pending).toMatch(/^[A-Za-z0-9_-]{43}$/);
  // The HR app completes the pending grant with the initiator's token.
  const completed = await api('POST', '/api/integrations/connect/complete', { pending });
  expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  const outcome = completed.body.data as { integrationId: string; status: string };
  const back = { status: landing.status, location: new URL(landing.location) };
  back.location.searchParams.delete('pending');
  back.location.searchParams.set('integration', outcome.integrationId);
  back.location.searchParams.set('status', outcome.status);
  return { back, callback, state };
}

describe.each(['slack', 'google', 'microsoft'])('%s: connect, list, reconnect, disconnect', (providerId) => {
  let integrationId = '';

  it('connects: consent, callback, then back to the app with the new integration', async () => {
    const { back } = await connectThroughBrowser(providerId);
    expect(back.status).toBe(302);
    expect(back.location.origin + back.location.pathname).toBe(`${APP}/settings/integrations`);
    expect(back.location.searchParams.get('status')).toBe('connected');
    integrationId = back.location.searchParams.get('integration') ?? '';
    expect(integrationId).toMatch(/^int_[0-9A-Z]{26}$/);

    const listed = await api('GET', '/api/integrations');
    const mine = (listed.body.data as Array<Record<string, unknown>>).find((item) => item.id === integrationId);
    expect(mine).toMatchObject({ providerId, status: 'active' });
    expect(['healthy', 'syncing']).toContain(mine?.healthStatus);
    const events = (await (await fetch(`${server.url}/_local/events`)).json()) as { events: Array<{ 'detail-type': string; detail: Record<string, unknown> }> };
    expect(events.events.some((event) => event['detail-type'] === 'integration.connected' && event.detail.integrationId === integrationId)).toBe(true);
  });

  it('reconnects onto the same integration id', async () => {
    const { back } = await connectThroughBrowser(providerId, `/api/integrations/${integrationId}/reconnect`, {});
    expect(back.location.searchParams.get('integration')).toBe(integrationId);
    expect(back.location.searchParams.get('status')).toBe('reconnected');
    const one = await api('GET', `/api/integrations/${integrationId}`);
    // The reconnect also queues a sync, which may already be running or done.
    expect(one.body.data).toMatchObject({ id: integrationId, status: 'active' });
    expect(['healthy', 'syncing']).toContain((one.body.data as { healthStatus: string }).healthStatus);
  });

  it('disconnects: revokes at the provider, keeps the record, and is safe to repeat', async () => {
    const before = (await sandboxRequests(providerId)).length;
    expect(await api('DELETE', `/api/integrations/${integrationId}`)).toEqual({ status: 200, body: { success: true, data: null } });
    const revocations = (await sandboxRequests(providerId)).slice(before).filter((request) => /revoke/.test(request.path));
    const expected: Record<string, number> = { slack: 2, google: 1, microsoft: 0 }; // Slack: bot and user tokens; Microsoft has no revocation
    expect(revocations).toHaveLength(expected[providerId] ?? -1);
    const one = await api('GET', `/api/integrations/${integrationId}`);
    expect(one.body.data).toMatchObject({ status: 'disconnected', healthStatus: 'disconnected', healthReason: 'user_disconnected' });
    expect((await api('DELETE', `/api/integrations/${integrationId}`)).status).toBe(200);
  });

  it('reconnects a disconnected integration back to active, same id', async () => {
    const { back } = await connectThroughBrowser(providerId, `/api/integrations/${integrationId}/reconnect`, {});
    expect(back.location.searchParams.get('integration')).toBe(integrationId);
    expect((await api('GET', `/api/integrations/${integrationId}`)).body.data).toMatchObject({ status: 'active', disconnectedAt: null });
  });
});

describe('the callback refuses what it did not start', () => {
  it('replaying a callback is refused and changes nothing', async () => {
    const { callback } = await connectThroughBrowser('slack');
    const count = await integrationCount();
    const replay = await follow(callback);
    expect(replay.location.searchParams.get('error')).toBe('invalid_state');
    expect(await integrationCount()).toBe(count);
  });

  it('a tampered or garbage state is refused', async () => {
    const started = await api('POST', '/api/integrations/connect', { providerId: 'google' });
    const tampered = `${startData(started).state.slice(0, -2)}xy`;
    const hop = await follow(`${server.url}/api/integrations/callback/google?code=abc&state=${tampered}`);
    expect(hop.location.searchParams.get('error')).toBe('invalid_state');
    const garbage = await follow(`${server.url}/api/integrations/callback/google?state=%00%ff&code=<script>`);
    expect(garbage.location.toString().startsWith(`${APP}/settings/integrations?error=invalid_state`)).toBe(true);
    const wrongProvider = await follow(`${server.url}/api/integrations/callback/microsoft?code=abc&state=${startData(started).state}`);
    expect(wrongProvider.location.searchParams.get('error')).toBe('invalid_state');
  });

  it("a user's Deny comes back as error=access_denied with nothing stored", async () => {
    const count = await integrationCount();
    const started = await api('POST', '/api/integrations/connect', { providerId: 'microsoft', redirectTo: `${APP}/onboarding?step=3` });
    const callback = await submitConsent(startData(started).url, 'deny');
    const back = await follow(callback);
    expect(back.location.pathname).toBe('/onboarding');
    expect(back.location.searchParams.get('step')).toBe('3');
    expect(back.location.searchParams.get('error')).toBe('access_denied');
    expect(await integrationCount()).toBe(count);
  });
});

describe('connect refuses bad requests with the envelope', () => {
  it.each([
    [{ providerId: 'nope' }, 400],
    [{ providerId: 'slack', scopes: ['admin:everything'] }, 400],
    [{ providerId: 'slack', redirectTo: 'https://evil.example/steal' }, 400],
    [{ providerId: 'slack', scopes: 'chat:write' }, 400],
    [{}, 400],
  ])('%j → %i', async (body, status) => {
    const response = await api('POST', '/api/integrations/connect', body);
    expect(response.status).toBe(status);
    expect(response.body.success).toBe(false);
  });

  it('only admin and hr may connect', async () => {
    const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
    for (const [role, status] of [['hr', 200], ['manager', 403], ['employee', 403]] as const) {
      const token = await mintLocalToken(jwtSecret, { orgId: 'acme', role, sub: role, ttlSeconds: 60 });
      expect((await api('POST', '/api/integrations/connect', { providerId: 'slack' }, token)).status).toBe(status);
    }
  });

  it('a malformed JSON body is a 400', async () => {
    const response = await fetch(`${server.url}/api/integrations/connect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{"providerId":',
    });
    expect(response.status).toBe(400);
  });
});

describe('Slack webhooks through the local runtime', () => {
  it('needs no set-up: connecting Slack is enough; N signed events sent → exactly N processed, retries once', async () => {
    const { back } = await connectThroughBrowser('slack');
    const integrationId = back.location.searchParams.get('integration') ?? '';
    const one = await api('GET', `/api/integrations/${integrationId}`);
    const teamId = (one.body.data as { externalAccount: { id: string } }).externalAccount.id;

    const N = 120;
    const payloads = Array.from({ length: N }, (_, n) => slackEventCallback(teamId, { type: 'message', channel: 'C1', text: `m${n}`, ts: `${n}.0` }));
    const send = async (payload: unknown, retryNum?: number) => {
      const request = signedSlackRequest(SANDBOX_SLACK_SIGNING_SECRET, payload, retryNum === undefined ? {} : { retryNum });
      const response = await fetch(`${server.url}/api/webhooks/slack`, { method: 'POST', headers: request.headers, body: request.body });
      return response.status;
    };
    for (let start = 0; start < N; start += 10) {
      const statuses = await Promise.all(payloads.slice(start, start + 10).map((payload) => send(payload)));
      expect(statuses.every((status) => status === 200)).toBe(true);
    }
    // Slack retries some of them: still processed once.
    await Promise.all(payloads.slice(0, 20).map((payload) => send(payload, 1)));

    const events = (await (await fetch(`${server.url}/_local/events`)).json()) as { events: Array<{ 'detail-type': string; detail: { integrationId?: string; eventId?: string } }> };
    const received = events.events.filter((event) => event['detail-type'] === 'integration.webhook.received' && event.detail.integrationId === integrationId);
    expect(received).toHaveLength(N);
    expect(new Set(received.map((event) => event.detail.eventId)).size).toBe(N);
  });

  it('refuses an unsigned event with 401', async () => {
    const response = await fetch(`${server.url}/api/webhooks/slack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"event_callback"}' });
    expect(response.status).toBe(401);
  });
});
