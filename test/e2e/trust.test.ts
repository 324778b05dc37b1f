import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { SANDBOX_SLACK_SIGNING_SECRET } from '../../shared/providers/slack/webhook';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { follow, submitConsent } from '../support/oauth-browser';
import { runtimeClient, type ApiAnswer } from '../support/runtime-client';
import { signedSlackRequest, slackEventCallback } from '../support/slack-events';

/**
 * Trust under abuse and races, over the real local runtime: the OAuth flow is
 * bound to the person who started it, one account is one integration however
 * many flows race, disconnect and reconnect racing end consistent, erasure
 * stays erased, webhooks stop at disconnect, and crafted input is a 4xx.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-trust-'));
let server: LocalProcess;
let client: ReturnType<typeof runtimeClient>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test' });
  client = runtimeClient(server.url);
  const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
  const mint = (orgId: string, sub: string, role = 'admin') => mintLocalToken(jwtSecret, { orgId, role, sub, ttlSeconds: 3600 });
  tokens.alice = await mint('acme', 'alice');
  tokens.bob = await mint('acme', 'bob');
  tokens.eve = await mint('evil-corp', 'eve');
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const api = <T = unknown>(method: string, path: string, body?: unknown, token = tokens.alice ?? ''): Promise<ApiAnswer<T>> =>
  client.api<T>(method, path, token, body);

interface IntegrationView {
  id: string;
  status: string;
  healthStatus: string;
  externalAccount: { id: string };
}

/** Starts a flow as `token`'s user and consents as `account`; returns the pending id the app receives. */
async function pendingGrant(providerId: string, account: string, token = tokens.alice ?? '', path = '/api/integrations/connect'): Promise<string> {
  const started = await api<{ url: string }>('POST', path, path.endsWith('/connect') ? { providerId } : {}, token);
  expect(started.status, started.raw).toBe(200);
  const landing = await follow(await submitConsent(started.data.url, 'allow', account));
  const pending = landing.location.searchParams.get('pending');
  expect(pending, landing.location.toString()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(landing.location.searchParams.get('integration')).toBeNull();
  return pending ?? '';
}

const complete = (pending: string, token = tokens.alice ?? '') =>
  api<{ integrationId: string; status: string }>('POST', '/api/integrations/connect/complete', { pending }, token);

async function liveGrants(provider: string): Promise<number> {
  const counts = (await client.sandbox(`tokens?provider=${provider}`)) as { tokens: Record<string, { grants: { active: number } }> };
  return counts.tokens[provider]?.grants.active ?? 0;
}

async function integrationsOf(account: string, token = tokens.alice ?? ''): Promise<IntegrationView[]> {
  return (await api<IntegrationView[]>('GET', '/api/integrations', undefined, token)).data.filter((item) => item.externalAccount.id === account);
}

async function localEvents(type: string, integrationId: string) {
  const { events } = (await (await fetch(`${server.url}/_local/events`)).json()) as { events: Array<{ 'detail-type': string; detail: { integrationId?: string } }> };
  return events.filter((event) => event['detail-type'] === type && event.detail.integrationId === integrationId);
}

const errorLines = (from: number) => server.output().slice(from).split('\n').filter((line) => /"level":"ERROR"/.test(line));

describe('the OAuth flow is bound to the person who started it', () => {
  it.each([
    ['a second user of the same organisation', 'bob', 404],
    ['a user of another organisation', 'eve', 404],
    ['a request with no token', '', 401],
  ])('%s cannot complete it: nothing stored, no consent; a stranger’s attempt revokes the grant', async (_who, user, status) => {
    const account = `T0BIND${user.toUpperCase() || 'ANON'}`;
    const before = await liveGrants('slack');
    const pending = await pendingGrant('slack', account);
    expect(await liveGrants('slack')).toBe(before + 2); // Slack's bot and user grants, exchanged at the callback
    const attempt = await complete(pending, user ? (tokens[user] ?? '') : 'not-a-token');
    expect(attempt.status).toBe(status);
    expect(attempt.success).toBe(false);
    for (const token of [tokens.alice, tokens.eve]) expect(await integrationsOf(account, token)).toEqual([]);
    if (user) {
      // Presented by someone else: revoked at once, and its initiator can no longer complete it.
      expect(await liveGrants('slack')).toBe(before);
      expect((await complete(pending)).status).toBe(404);
    } else {
      // Unauthenticated requests never reach the grant; its initiator still completes it.
      const mine = await complete(pending);
      expect(mine.status, mine.raw).toBe(200);
      expect(mine.data.status).toBe('connected');
      const consents = await api<{ consents: Array<{ userId: string }> }>('GET', `/api/integrations/${mine.data.integrationId}/consents`);
      expect(consents.data.consents.map((consent) => consent.userId)).toEqual(['alice']);
    }
  });

  it('its initiator completes it once; a replayed completion is a 404', async () => {
    const pending = await pendingGrant('google', 'bound@sandbox-google.test');
    const first = await complete(pending);
    expect(first.status, first.raw).toBe(200);
    expect(first.data).toMatchObject({ status: 'connected', providerId: 'google' });
    expect((await complete(pending)).status).toBe(404);
    const listed = (await api<IntegrationView[]>('GET', '/api/integrations')).data;
    expect(listed.filter((item) => item.id === first.data.integrationId)).toHaveLength(1);
  });

  it('the local Settings page completes the flow on landing, with the token of the user who started it', async () => {
    // The browser suite (test/e2e/browser) walks the landing itself; here, that the page carries it.
    const page = await (await fetch(`${server.url}/settings/integrations?pending=x&provider=slack`)).text();
    expect(page).toContain("localStorage.getItem(TOKEN_KEY)");
    const component = await (await fetch(`${server.url}/settings/integrations/hr-integrations.js`)).text();
    expect(component).toContain('/api/integrations/connect/complete');
  });
});

describe('one integration per organisation, provider and account', () => {
  it('20 parallel flows for one Slack workspace make one integration; the others reconnect it and every superseded grant is revoked', async () => {
    const account = 'T0RACE20';
    const before = await liveGrants('slack');
    const pendings = await Promise.all(Array.from({ length: 20 }, () => pendingGrant('slack', account)));
    const outcomes = await Promise.all(pendings.map((pending) => complete(pending)));
    const landed = outcomes.filter((outcome) => outcome.status === 200);
    expect(outcomes.every((outcome) => outcome.status === 200 || outcome.status === 409), JSON.stringify(outcomes.map((o) => o.raw))).toBe(true);
    expect(landed.filter((outcome) => outcome.data.status === 'connected')).toHaveLength(1);
    expect(new Set(landed.map((outcome) => outcome.data.integrationId)).size).toBe(1);
    const mine = await integrationsOf(account);
    expect(mine).toHaveLength(1);
    expect(await liveGrants('slack')).toBe(before + 2);

    const event = slackEventCallback(account, { type: 'message', channel: 'C1', text: 'hello', ts: '1.0' });
    const request = signedSlackRequest(SANDBOX_SLACK_SIGNING_SECRET, event);
    expect((await fetch(`${server.url}/api/webhooks/slack`, { method: 'POST', headers: request.headers, body: request.body })).status).toBe(200);
    const received = (await fetch(`${server.url}/_local/events`).then((response) => response.json())) as { events: Array<{ 'detail-type': string; detail: { eventId?: string } }> };
    expect(received.events.filter((item) => item['detail-type'] === 'integration.webhook.received' && item.detail.eventId === event.event_id)).toHaveLength(1);
  });

  it('reconnects do not pile up grants: Slack revokes the one it replaces; Google\'s consents are one authorization, revoked whole at disconnect', async () => {
    for (const [provider, account] of [['slack', 'T0PILE1'], ['google', 'pile@sandbox-google.test']] as const) {
      const before = await liveGrants(provider);
      const first = await complete(await pendingGrant(provider, account));
      for (let n = 0; n < 2; n += 1) {
        const again = await complete(await pendingGrant(provider, account, tokens.alice, `/api/integrations/${first.data.integrationId}/reconnect`));
        expect(again.data).toMatchObject({ integrationId: first.data.integrationId, status: 'reconnected' });
      }
      // Slack: only the latest bot and user grants live. Google: three consents of one authorization; revoking
      // the superseded ones would revoke the current one too, so none is revoked until the disconnect.
      expect(await liveGrants(provider)).toBe(before + (provider === 'slack' ? 2 : 3));
      expect((await api('DELETE', `/api/integrations/${first.data.integrationId}`)).status).toBe(200);
      expect(await liveGrants(provider)).toBe(before);
    }
  });
});

describe('Google keeps one authorization per user and client: revoking one consent revokes them all', () => {
  /** Runs a manual sync (it uses the stored token: a dead authorization disconnects) and reads the outcome. */
  const googleLive = async (integrationId: string, token = tokens.alice ?? '') => {
    const { syncId } = (await api<{ syncId: string }>('POST', `/api/integrations/${integrationId}/sync`, undefined, token)).data;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const logs = (await api<{ logs: Array<{ syncId: string; covers?: string[] }> }>('GET', `/api/integrations/${integrationId}/sync-logs`, undefined, token)).data.logs;
      if (logs.some((log) => log.syncId === syncId || log.covers?.includes(syncId)) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return (await api<IntegrationView>('GET', `/api/integrations/${integrationId}`, undefined, token)).data;
  };

  it("one organisation's disconnect leaves another organisation's integration of the same Google account working", async () => {
    const account = 'shared@sandbox-google.test';
    const mine = (await complete(await pendingGrant('google', account))).data.integrationId;
    const theirs = (await complete(await pendingGrant('google', account, tokens.eve), tokens.eve)).data.integrationId;
    expect((await api('DELETE', `/api/integrations/${mine}`)).status).toBe(200);
    expect(await googleLive(theirs, tokens.eve)).toMatchObject({ status: 'active' });
  });

  it('a refused or stranger-presented consent of an account already connected does not revoke the connected one', async () => {
    const carol = (await complete(await pendingGrant('google', 'carol@sandbox-google.test'))).data.integrationId;
    const bob = (await complete(await pendingGrant('google', 'bob@sandbox-google.test'))).data.integrationId;
    // Presented by someone else: 404, and carol's integration still works.
    expect((await complete(await pendingGrant('google', 'carol@sandbox-google.test'), tokens.bob)).status).toBe(404);
    // Reconnecting carol's integration with bob's account: 409 account_mismatch, saying which account to sign in as, and bob's integration still works.
    const wrong = await complete(await pendingGrant('google', 'bob@sandbox-google.test', tokens.alice, `/api/integrations/${carol}/reconnect`));
    expect(wrong, wrong.raw).toMatchObject({ status: 409, error: { code: 'account_mismatch', message: expect.stringContaining('sign in as carol@sandbox-google.test') } });
    expect(wrong.error?.message).not.toMatch(/token/i);
    for (const id of [carol, bob]) expect(await googleLive(id)).toMatchObject({ status: 'active' });
  });

  it('a reconnect completed after the account was disconnected is refused, not reported as reconnected', async () => {
    const { integrationId } = (await complete(await pendingGrant('google', 'late@sandbox-google.test'))).data;
    const pending = await pendingGrant('google', 'late@sandbox-google.test', tokens.alice, `/api/integrations/${integrationId}/reconnect`);
    expect((await api('DELETE', `/api/integrations/${integrationId}`)).status).toBe(200);
    const late = await complete(pending);
    expect(late, late.raw).toMatchObject({ status: 409, error: { code: 'conflict' } });
    expect((await api<IntegrationView>('GET', `/api/integrations/${integrationId}`)).data.status).toBe('disconnected');
  });
});

describe('disconnect, reconnect, sync and settings racing on one integration', () => {
  it('ends either active with working tokens or disconnected with every grant revoked (5 rounds)', async () => {
    for (let round = 0; round < 5; round += 1) {
      const account = `T0RACEDISC${round}`;
      const before = await liveGrants('slack');
      const { integrationId } = (await complete(await pendingGrant('slack', account))).data;
      const pending = await pendingGrant('slack', account, tokens.alice, `/api/integrations/${integrationId}/reconnect`);
      const [disconnected, reconnected] = await Promise.all([
        api('DELETE', `/api/integrations/${integrationId}`),
        complete(pending),
        ...Array.from({ length: 5 }, () => api('POST', `/api/integrations/${integrationId}/sync`)),
        api('PATCH', `/api/integrations/${integrationId}/settings`, { resources: { channels: false } }),
      ]);
      expect(disconnected?.status).toBe(200);
      expect([200, 409]).toContain(reconnected?.status);
      const final = (await api<IntegrationView>('GET', `/api/integrations/${integrationId}`)).data;
      if (final.status === 'active') {
        expect(await liveGrants('slack')).toBe(before + 2);
        const message = await client.sandbox('slack/messages');
        expect(message).toBeDefined();
        const sync = await api<{ syncId: string }>('POST', `/api/integrations/${integrationId}/sync`);
        expect(sync.status).toBe(202);
      } else {
        expect(final.status).toBe('disconnected');
        expect(await liveGrants('slack')).toBe(before);
      }
    }
  });
});

describe('webhooks after disconnect', () => {
  it('a signed Slack event for a disconnected integration is acknowledged and never published', async () => {
    const account = 'T0AFTERDISC';
    const { integrationId } = (await complete(await pendingGrant('slack', account))).data;
    expect((await api('DELETE', `/api/integrations/${integrationId}`)).status).toBe(200);
    const event = slackEventCallback(account, { type: 'message', channel: 'C1', text: 'payroll is late', ts: '2.0' });
    const request = signedSlackRequest(SANDBOX_SLACK_SIGNING_SECRET, event);
    expect((await fetch(`${server.url}/api/webhooks/slack`, { method: 'POST', headers: request.headers, body: request.body })).status).toBe(200);
    expect(await localEvents('integration.webhook.received', integrationId)).toHaveLength(0);
  });
});

describe('erasure stays erased', () => {
  it('erasing during a running sync: 404 everywhere, gone from lists and exports; the account connects again as a new integration', async () => {
    const account = 'T0ERASE1';
    await client.sandbox('data/slack', { op: 'bulk-add', resource: 'users', account, count: 3000 });
    const { integrationId } = (await complete(await pendingGrant('slack', account))).data;
    // The first sync starts at connect; erase while it runs.
    const deadline = Date.now() + 10_000;
    while ((await api<IntegrationView>('GET', `/api/integrations/${integrationId}`)).data.healthStatus !== 'syncing' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const erased = await api('DELETE', `/api/integrations/${integrationId}/data`);
    expect(erased.status, erased.raw).toBe(202);
    // Let the sync run into the fence.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const [method, path, body] of [
      ['GET', ''],
      ['DELETE', ''],
      ['DELETE', '/data'],
      ['POST', '/reconnect', {}],
      ['POST', '/sync'],
      ['GET', '/settings'],
      ['PATCH', '/settings', { scheduledSync: false }],
      ['GET', '/sync-logs'],
      ['GET', '/records?resource=users'],
      ['GET', '/export'],
      ['GET', '/consents'],
    ] as const) {
      const answer = await api(method, `/api/integrations/${integrationId}${path}`, body);
      expect(answer.status, `${method} ${path}: ${answer.raw}`).toBe(404);
    }
    expect(await integrationsOf(account)).toEqual([]);
    const exported = await api<{ items: Array<{ integrationId?: string; data: { id?: string } }> }>('GET', '/api/integrations/export');
    expect(exported.data.items.some((item) => item.integrationId === integrationId || item.data.id === integrationId)).toBe(false);

    const again = await complete(await pendingGrant('slack', account));
    expect(again.status).toBe(200);
    expect(again.data.status).toBe('connected');
    expect(again.data.integrationId).not.toBe(integrationId);
  });
});

describe('bad input is a 4xx that changes nothing and logs no error', () => {
  it("a callback replayed on another provider's path is refused without using up the real flow", async () => {
    const started = await api<{ url: string }>('POST', '/api/integrations/connect', { providerId: 'slack' });
    const callback = new URL(await submitConsent(started.data.url, 'allow', 'T0REPLAY'));
    const replayed = await follow(`${server.url}/api/integrations/callback/google${callback.search}`);
    expect(replayed.location.searchParams.get('error')).toBe('invalid_state');
    const real = await follow(callback.toString());
    expect(real.location.searchParams.get('pending')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('a callback with an oversized or malformed state is error=invalid_state', async () => {
    const from = server.output().length;
    for (const state of ['x'.repeat(3000), 'y'.repeat(4096), 'a'.repeat(42), '%00']) {
      const hop = await follow(`${server.url}/api/integrations/callback/slack?code=abc&state=${state}`);
      expect(hop.location.searchParams.get('error')).toBe('invalid_state');
    }
    expect(errorLines(from)).toEqual([]);
  });

  it('settings refuse resource names that are not the provider’s, prototype names included', async () => {
    const { integrationId } = (await complete(await pendingGrant('slack', 'T0SETTINGS'))).data;
    const before = (await api('GET', `/api/integrations/${integrationId}/settings`)).raw;
    const from = server.output().length;
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const answer = await client.api('PATCH', `/api/integrations/${integrationId}/settings`, tokens.alice ?? '', JSON.parse(`{"resources":{"${name}":false}}`));
      expect(answer.status, `${name}: ${answer.raw}`).toBe(400);
      expect(answer.error?.code).toBe('validation_failed');
    }
    expect((await api('GET', `/api/integrations/${integrationId}/settings`)).raw).toBe(before);
    expect(errorLines(from)).toEqual([]);
  });

  it('50 parallel manual syncs: every syncId is accounted for by the log of the run that served it, one log per run', async () => {
    const { integrationId } = (await complete(await pendingGrant('slack', 'T0MANYSYNC'))).data;
    const answers = await Promise.all(Array.from({ length: 50 }, () => api<{ syncId: string }>('POST', `/api/integrations/${integrationId}/sync`)));
    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    const wanted = new Set(answers.map((answer) => answer.data.syncId));
    const deadline = Date.now() + 30_000;
    let logs: Array<{ syncId: string; covers?: string[] }> = [];
    for (;;) {
      logs = (await api<{ logs: typeof logs }>('GET', `/api/integrations/${integrationId}/sync-logs?limit=100`)).data.logs;
      const served = new Set(logs.flatMap((log) => [log.syncId, ...(log.covers ?? [])]));
      if ([...wanted].every((id) => served.has(id)) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const served = new Set(logs.flatMap((log) => [log.syncId, ...(log.covers ?? [])]));
    expect([...wanted].filter((id) => !served.has(id))).toEqual([]);
    expect(new Set(logs.map((log) => log.syncId)).size).toBe(logs.length);
  });
});
