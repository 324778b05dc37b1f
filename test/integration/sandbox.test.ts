import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { SANDBOX_CLIENTS, Sandbox, startSandboxServer, type SandboxServer } from '../../infra/local/sandbox';
import {
  AUTHORIZE_PATH as AUTHORIZE,
  SANDBOX_REDIRECT,
  TOKEN_PATH as TOKEN,
  json,
  jsonObject,
  sandboxOAuth,
  str,
  type Json,
  type SandboxProvider as Provider,
} from '../support/sandbox-oauth';

/**
 * The sandbox providers over real HTTP (a standalone server on an ephemeral
 * port, plain fetch, redirects not followed).
 */

const PROVIDERS: Provider[] = ['slack', 'google', 'microsoft'];

const WRONG_VERIFIER = 'A'.repeat(43);
const REDIRECT = `${SANDBOX_REDIRECT}?from=sandbox`;

const SCOPES: Record<Provider, string> = {
  slack: 'chat:write,channels:manage,users:read',
  google: 'openid email https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/gmail.send',
  microsoft: 'openid profile offline_access User.Read Calendars.ReadWrite Mail.Send ChannelMessage.Send',
};

let server: SandboxServer;
let base: string;

beforeAll(async () => {
  server = await startSandboxServer({ host: '127.0.0.1', port: 0 });
  base = server.url;
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.sandbox.reset();
});

// --- helpers ---

const { authorizeParams, exchangeParams, post, postJson, decide, authorize, exchange, connect, control } = sandboxOAuth({
  base: () => base,
  redirectUri: REDIRECT,
  scopes: SCOPES,
  extraAuthorizeParams: { google: { access_type: 'offline' } },
});

function refreshParams(provider: Provider, refreshToken: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: SANDBOX_CLIENTS[provider].clientId,
    client_secret: SANDBOX_CLIENTS[provider].clientSecret,
    ...extra,
  };
}

const bearer = (token: unknown) => ({ authorization: `Bearer ${String(token)}` });

async function slackCall(method: string, token: unknown, params: Record<string, string> = {}): Promise<Json> {
  const response = await post(`/slack/slack/api/${method}`, params, bearer(token));
  expect(response.status).toBe(200);
  return json(response);
}

function jwtPayload(token: unknown): Json {
  const [, payload] = str(token).split('.');
  return jsonObject.parse(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')));
}

function hiddenInputs(html: string): Record<string, string> {
  const unescape = (value: string) =>
    value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const out: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    out[unescape(match[1] ?? '')] = unescape(match[2] ?? '');
  }
  return out;
}

// --- consent pages ---

describe('authorize: the consent page', () => {
  it.each(PROVIDERS)('%s: GET shows a labelled page listing every scope, and submitting its form redirects with code and state', async (provider) => {
    const params = authorizeParams(provider);
    const page = await fetch(`${base}${AUTHORIZE[provider]}?${new URLSearchParams(params)}`, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const name = { slack: 'Slack', google: 'Google', microsoft: 'Microsoft' }[provider];
    expect(html).toContain(`SANDBOX ${name}`);
    for (const scope of SCOPES[provider].split(provider === 'slack' ? ',' : ' ')) expect(html).toContain(`<code>${scope}</code>`);
    expect(html).toMatch(/<form method="post"/);
    expect(html).toContain('name="decision" value="allow"');
    expect(html).toContain('name="decision" value="deny"');
    const defaults = { slack: 'T0SANDBOX1', google: 'admin@sandbox-google.test', microsoft: 'admin@sandbox-contoso.test' };
    expect(html).toContain(`name="account" value="${defaults[provider]}"`);

    const hidden = hiddenInputs(html);
    expect(hidden).toEqual(params);
    const location = await decide(provider, hidden, 'allow');
    expect(`${location.origin}${location.pathname}`).toBe('https://app.test/integrations/callback');
    expect(location.searchParams.get('from')).toBe('sandbox');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('code')).toMatch(/\S{20,}/);
  });

  it.each(PROVIDERS)('%s: escapes what it echoes (a <script> in a scope)', async (provider) => {
    const evil = '<script>alert("x")</script>';
    const scope = provider === 'slack' ? `chat:write,${evil}` : `openid ${evil}`;
    const params = authorizeParams(provider, { scope, state: '"><img src=x onerror=alert(1)>' });
    const html = await (await fetch(`${base}${AUTHORIZE[provider]}?${new URLSearchParams(params)}`)).text();
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it.each(PROVIDERS)('%s: deny redirects with error=access_denied and the state', async (provider) => {
    const location = await decide(provider, authorizeParams(provider), 'deny');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it.each(PROVIDERS)('%s: an unknown client or a non-absolute redirect URI gets a 400 HTML page, never a redirect', async (provider) => {
    for (const overrides of [{ client_id: 'someone-else' }, { redirect_uri: '/relative/callback' }, { redirect_uri: 'javascript:alert(1)' }]) {
      const response = await fetch(`${base}${AUTHORIZE[provider]}?${new URLSearchParams(authorizeParams(provider, overrides))}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    }
  });

  it('Microsoft reports other authorize errors on the redirect, with an AADSTS description', async () => {
    const response = await fetch(`${base}${AUTHORIZE.microsoft}?${new URLSearchParams(authorizeParams('microsoft', { response_type: 'token' }))}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('unsupported_response_type');
    expect(location.searchParams.get('error_description')).toMatch(/^AADSTS\d+:/);
    expect(location.searchParams.get('state')).toBe('state-123');
  });

  it('Google requires response_type=code; a bad PKCE method is refused', async () => {
    const noType = await fetch(`${base}${AUTHORIZE.google}?${new URLSearchParams(authorizeParams('google', { response_type: undefined }))}`, { redirect: 'manual' });
    expect(noType.status).toBe(400);
    const badMethod = await fetch(`${base}${AUTHORIZE.google}?${new URLSearchParams(authorizeParams('google', { code_challenge_method: 'S512' }))}`, { redirect: 'manual' });
    expect(badMethod.status).toBe(400);
  });
});

// --- PKCE and codes ---

describe('token endpoints: PKCE and one-time codes', () => {
  it.each(PROVIDERS)('%s accepts the RFC 7636 Appendix B verifier for its S256 challenge', async (provider) => {
    const code = await authorize(provider);
    const response = await exchange(provider, code);
    expect(response.status).toBe(200);
    const body = await json(response);
    if (provider === 'slack') expect(body.ok).toBe(true);
    expect(body.access_token).toBeTruthy();
  });

  it('each provider rejects a wrong verifier with its own error', async () => {
    const slack = await exchange('slack', await authorize('slack'), { code_verifier: WRONG_VERIFIER });
    expect(slack.status).toBe(200);
    expect(await slack.json()).toEqual({ ok: false, error: 'invalid_code_verifier' });

    const google = await exchange('google', await authorize('google'), { code_verifier: WRONG_VERIFIER });
    expect(google.status).toBe(400);
    expect(await google.json()).toEqual({ error: 'invalid_grant', error_description: 'Bad Request' });

    const microsoft = await exchange('microsoft', await authorize('microsoft'), { code_verifier: WRONG_VERIFIER });
    expect(microsoft.status).toBe(400);
    const body = await json(microsoft);
    expect(body.error).toBe('invalid_grant');
    expect(str(body.error_description)).toMatch(/^AADSTS501481:/);
    expect(body.error_codes).toEqual([501481]);
    expect(body).toHaveProperty('trace_id');
    expect(body).toHaveProperty('correlation_id');
    expect(body).toHaveProperty('timestamp');
  });

  it.each(PROVIDERS)('%s: a missing verifier is refused when the code had a challenge', async (provider) => {
    const response = await exchange(provider, await authorize(provider), { code_verifier: undefined });
    expect(response.status).toBe(provider === 'slack' ? 200 : 400);
    expect((await json(response)).error).toBe(provider === 'slack' ? 'invalid_code_verifier' : 'invalid_grant');
  });

  it.each(PROVIDERS)('%s: plain PKCE works and is the default method when none is given', async (provider) => {
    const plain = 'plain-verifier-0123456789-0123456789-0123456789';
    const code = await authorize(provider, { code_challenge: plain, code_challenge_method: undefined });
    const response = await exchange(provider, code, { code_verifier: plain });
    expect(response.status).toBe(200);
    expect((await json(response)).access_token).toBeTruthy();
  });

  it('a code is single-use', async () => {
    const slackCode = await authorize('slack');
    expect((await json(await exchange('slack', slackCode))).ok).toBe(true);
    expect(await (await exchange('slack', slackCode)).json()).toEqual({ ok: false, error: 'invalid_code' });

    const googleCode = await authorize('google');
    expect((await exchange('google', googleCode)).status).toBe(200);
    const google = await exchange('google', googleCode);
    expect(google.status).toBe(400);
    expect((await json(google)).error).toBe('invalid_grant');

    const msCode = await authorize('microsoft');
    expect((await exchange('microsoft', msCode)).status).toBe(200);
    const microsoft = await exchange('microsoft', msCode);
    expect(microsoft.status).toBe(400);
    const body = await json(microsoft);
    expect(body.error).toBe('invalid_grant');
    expect(body.error_codes).toEqual([54005]);
  });

  it('a code is bound to its redirect URI and expires after 10 minutes', async () => {
    expect(await (await exchange('slack', await authorize('slack'), { redirect_uri: 'https://app.test/other' })).json()).toEqual({
      ok: false,
      error: 'bad_redirect_uri',
    });
    const google = await exchange('google', await authorize('google'), { redirect_uri: 'https://app.test/other' });
    expect(google.status).toBe(400);
    expect((await json(google)).error).toBe('redirect_uri_mismatch');

    const code = await authorize('google');
    await control('POST', '/clock', { advanceSeconds: 601 });
    const expired = await exchange('google', code);
    expect(expired.status).toBe(400);
    expect((await json(expired)).error).toBe('invalid_grant');
  });

  it('client authentication: each provider refuses unknown clients and wrong secrets in its own way', async () => {
    expect(await (await exchange('slack', await authorize('slack'), { client_id: 'nope' })).json()).toEqual({ ok: false, error: 'invalid_client_id' });
    expect(await (await exchange('slack', await authorize('slack'), { client_secret: 'nope' })).json()).toEqual({ ok: false, error: 'bad_client_secret' });
    expect(await (await post(TOKEN.slack, { ...refreshParams('slack', 'x'), grant_type: 'password' })).json()).toEqual({ ok: false, error: 'invalid_grant_type' });

    const google = await exchange('google', await authorize('google'), { client_id: 'nope' });
    expect(google.status).toBe(401);
    expect(await google.json()).toEqual({ error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    const googleGrant = await post(TOKEN.google, { ...refreshParams('google', 'x'), grant_type: 'password' });
    expect(googleGrant.status).toBe(400);
    expect((await json(googleGrant)).error).toBe('unsupported_grant_type');

    const microsoft = await exchange('microsoft', await authorize('microsoft'), { client_secret: 'nope' });
    expect(microsoft.status).toBe(401);
    const body = await json(microsoft);
    expect(body.error).toBe('invalid_client');
    expect(body.error_codes).toEqual([7000215]);
  });

  it('Slack and Microsoft accept client credentials by HTTP Basic', async () => {
    for (const provider of ['slack', 'microsoft'] as const) {
      const code = await authorize(provider);
      const { clientId, clientSecret } = SANDBOX_CLIENTS[provider];
      const response = await post(TOKEN[provider], exchangeParams(provider, code, { client_id: undefined, client_secret: undefined }), {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      });
      expect(response.status).toBe(200);
      expect((await json(response)).access_token).toBeTruthy();
    }
  });
});

// --- Slack ---

describe('Slack', () => {
  it('comma scopes and user_scope give separate bot and user credentials with rotation fields', async () => {
    const body = await connect('slack', { scope: 'chat:write,users:read', user_scope: 'search:read,users:read' });
    expect(body).toMatchObject({
      ok: true,
      token_type: 'bot',
      scope: 'chat:write,users:read',
      expires_in: 43200,
      team: { id: 'T0SANDBOX1', name: expect.any(String) },
      enterprise: null,
    });
    expect(str(body.access_token)).toMatch(/^xoxe\.xoxb-1-/);
    expect(str(body.refresh_token)).toMatch(/^xoxe-1-/);
    expect(str(body.bot_user_id)).toMatch(/^U/);
    expect(str(body.app_id)).toMatch(/^A/);
    const user = jsonObject.parse(body.authed_user);
    expect(user).toMatchObject({ scope: 'search:read,users:read', token_type: 'user', expires_in: 43200 });
    expect(str(user.access_token)).toMatch(/^xoxe\.xoxp-1-/);
    expect(str(user.refresh_token)).toMatch(/^xoxe-1-/);
    expect(user.refresh_token).not.toBe(body.refresh_token);

    const asBot = await slackCall('auth.test', body.access_token);
    expect(asBot).toMatchObject({ ok: true, team_id: 'T0SANDBOX1', user_id: body.bot_user_id });
    expect(str(asBot.bot_id)).toMatch(/^B/);
    const asUser = await slackCall('auth.test', user.access_token);
    expect(asUser).toMatchObject({ ok: true, team_id: 'T0SANDBOX1', user_id: user.id });
    expect(asUser).not.toHaveProperty('bot_id');
  });

  it('without user_scope, authed_user is just the installing user; the account picked is the team', async () => {
    const body = await connect('slack', {}, 't0other99');
    expect(Object.keys(jsonObject.parse(body.authed_user))).toEqual(['id']);
    expect(jsonObject.parse(body.team).id).toBe('T0OTHER99');
  });

  it('rotation: refresh returns a new access and refresh token; the old refresh token is dead (200 ok:false)', async () => {
    const first = await connect('slack', { user_scope: 'users:read' });
    const refreshed = await json(await post(TOKEN.slack, refreshParams('slack', str(first.refresh_token))));
    expect(refreshed).toMatchObject({ ok: true, token_type: 'bot', scope: SCOPES.slack, expires_in: 43200, bot_user_id: first.bot_user_id });
    expect(str(refreshed.access_token)).toMatch(/^xoxe\.xoxb-1-/);
    expect(refreshed.access_token).not.toBe(first.access_token);
    expect(str(refreshed.refresh_token)).toMatch(/^xoxe-1-/);
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);

    const reused = await post(TOKEN.slack, refreshParams('slack', str(first.refresh_token)));
    expect(reused.status).toBe(200);
    expect(await reused.json()).toEqual({ ok: false, error: 'invalid_refresh_token' });

    expect((await slackCall('auth.test', refreshed.access_token)).ok).toBe(true);
    expect((await json(await post(TOKEN.slack, refreshParams('slack', str(refreshed.refresh_token))))).ok).toBe(true);

    const user = jsonObject.parse(first.authed_user);
    const userRefreshed = await json(await post(TOKEN.slack, refreshParams('slack', str(user.refresh_token))));
    expect(userRefreshed).toMatchObject({ ok: true, token_type: 'user', scope: 'users:read' });
    expect(str(userRefreshed.access_token)).toMatch(/^xoxe\.xoxp-1-/);
  });

  it('Web API auth errors: not_authed, invalid_auth, token_revoked after auth.revoke, token_expired', async () => {
    expect(await json(await post('/slack/slack/api/auth.test', {}))).toEqual({ ok: false, error: 'not_authed' });
    expect(await slackCall('auth.test', 'xoxe.xoxb-1-forged')).toEqual({ ok: false, error: 'invalid_auth' });

    const body = await connect('slack');
    // token as a form parameter works too
    expect((await json(await post('/slack/slack/api/auth.test', { token: str(body.access_token) }))).ok).toBe(true);
    expect(await slackCall('auth.revoke', body.access_token)).toEqual({ ok: true, revoked: true });
    expect(await slackCall('auth.test', body.access_token)).toEqual({ ok: false, error: 'token_revoked' });
    expect(await json(await post(TOKEN.slack, refreshParams('slack', str(body.refresh_token))))).toEqual({ ok: false, error: 'invalid_refresh_token' });

    const other = await connect('slack');
    await control('POST', '/clock', { advanceSeconds: 43_200 });
    expect(await slackCall('auth.test', other.access_token)).toEqual({ ok: false, error: 'token_expired' });
    // The refresh token outlives the access token.
    const refreshed = await json(await post(TOKEN.slack, refreshParams('slack', str(other.refresh_token))));
    expect((await slackCall('auth.test', refreshed.access_token)).ok).toBe(true);
  });

  it('chat.postMessage, conversations.create and users.info (form and JSON bodies), with missing_scope', async () => {
    const body = await connect('slack');
    const token = body.access_token;
    const posted = await json(await postJson('/slack/slack/api/chat.postMessage', { channel: '#general', text: 'Hello from HR', blocks: [{ type: 'section' }] }, bearer(token)));
    expect(posted).toMatchObject({ ok: true, channel: expect.stringMatching(/^C/), ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    expect(await slackCall('chat.postMessage', token, { channel: 'C_NOPE', text: 'x' })).toEqual({ ok: false, error: 'channel_not_found' });
    expect(await slackCall('chat.postMessage', token, { channel: 'general' })).toEqual({ ok: false, error: 'no_text' });

    const created = await slackCall('conversations.create', token, { name: 'new-hires-2026' });
    const channel = jsonObject.parse(created.channel);
    expect(channel).toMatchObject({ name: 'new-hires-2026', is_channel: true, is_private: false, is_member: true });
    expect(await slackCall('conversations.create', token, { name: 'new-hires-2026' })).toEqual({ ok: false, error: 'name_taken' });
    expect(await slackCall('conversations.create', token, { name: 'New Hires' })).toEqual({ ok: false, error: 'invalid_name_specials' });
    expect(await slackCall('conversations.create', token, { name: '---' })).toEqual({ ok: false, error: 'invalid_name_punctuation' });
    expect(await slackCall('conversations.create', token, { name: 'x'.repeat(81) })).toEqual({ ok: false, error: 'invalid_name_maxlength' });
    expect(await slackCall('conversations.create', token, { name: '' })).toEqual({ ok: false, error: 'invalid_name_required' });
    expect((await slackCall('chat.postMessage', token, { channel: str(channel.id), text: 'Welcome!' })).ok).toBe(true);

    const user = await slackCall('users.info', token, { user: str(jsonObject.parse(body.authed_user).id) });
    expect(jsonObject.parse(user.user)).toMatchObject({ team_id: 'T0SANDBOX1', is_bot: false });
    expect(await slackCall('users.info', token, { user: 'U000000' })).toEqual({ ok: false, error: 'user_not_found' });

    const narrow = await connect('slack', { scope: 'users:read' });
    expect(await slackCall('chat.postMessage', narrow.access_token, { channel: 'general', text: 'x' })).toEqual({
      ok: false,
      error: 'missing_scope',
      needed: 'chat:write',
      provided: 'users:read',
    });

    const messages = z.object({ messages: z.array(jsonObject) }).parse(await (await control('GET', '/slack/messages')).json()).messages;
    expect(messages.map((message) => message.text)).toEqual(['Hello from HR', 'Welcome!']);
    expect(messages[0]).toMatchObject({ teamId: 'T0SANDBOX1', tokenKind: 'bot', blocks: [{ type: 'section' }] });
  });

  it('unknown methods answer 404 unknown_method', async () => {
    const response = await post('/slack/slack/api/foo.bar', {});
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error: 'unknown_method', req_method: 'foo.bar' });
  });
});

// --- Google ---

describe('Google', () => {
  it('code exchange returns ya29 / 1// tokens, the granted scopes and an id_token; refresh does not rotate', async () => {
    const body = await connect('google');
    expect(body).toMatchObject({ expires_in: 3599, token_type: 'Bearer', scope: SCOPES.google });
    expect(str(body.access_token)).toMatch(/^ya29\./);
    expect(str(body.refresh_token)).toMatch(/^1\/\//);
    const claims = jwtPayload(body.id_token);
    expect(claims).toMatchObject({ iss: 'https://accounts.google.com', aud: SANDBOX_CLIENTS.google.clientId, email: 'admin@sandbox-google.test' });
    expect(str(claims.sub)).toMatch(/^\d{21}$/);

    const refreshed = await post(TOKEN.google, refreshParams('google', str(body.refresh_token)));
    expect(refreshed.status).toBe(200);
    const refreshedBody = await json(refreshed);
    expect(refreshedBody).not.toHaveProperty('refresh_token');
    expect(str(refreshedBody.access_token)).toMatch(/^ya29\./);
    const again = await post(TOKEN.google, refreshParams('google', str(body.refresh_token)));
    expect(again.status).toBe(200);

    const userinfo = await json(await fetch(`${base}/google/openidconnect/v1/userinfo`, { headers: bearer(refreshedBody.access_token) }));
    expect(userinfo).toMatchObject({ sub: claims.sub, email: 'admin@sandbox-google.test', email_verified: true, hd: 'sandbox-google.test' });
  });

  it('no refresh token without access_type=offline', async () => {
    const body = await connect('google', { access_type: undefined });
    expect(body).not.toHaveProperty('refresh_token');
  });

  it('revoke ends the grant: refresh then fails with 400 invalid_grant "Token has been expired or revoked."', async () => {
    const body = await connect('google');
    const revoked = await fetch(`${base}/google/oauth2/revoke?token=${encodeURIComponent(str(body.refresh_token))}`, { method: 'POST' });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({});

    const refresh = await post(TOKEN.google, refreshParams('google', str(body.refresh_token)));
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });

    const api = await fetch(`${base}/google/openidconnect/v1/userinfo`, { headers: bearer(body.access_token) });
    expect(api.status).toBe(401);

    const twice = await post('/google/oauth2/revoke', { token: str(body.access_token) });
    expect(twice.status).toBe(400);
    expect(await twice.json()).toEqual({ error: 'invalid_token', error_description: 'Token expired or revoked' });
  });

  it('Calendar events.insert: 200 Event, 400 required, 401 authError, 403 insufficientPermissions', async () => {
    const body = await connect('google');
    const path = '/google/www/calendar/v3/calendars/primary/events';
    const event = { summary: 'Onboarding', start: { dateTime: '2026-03-02T09:00:00+01:00' }, end: { dateTime: '2026-03-02T10:00:00+01:00' } };
    const created = await postJson(`${path}?sendUpdates=all`, event, bearer(body.access_token));
    expect(created.status).toBe(200);
    const createdBody = await json(created);
    expect(createdBody).toMatchObject({ kind: 'calendar#event', status: 'confirmed', summary: 'Onboarding', start: event.start, end: event.end });
    for (const key of ['id', 'htmlLink', 'created', 'updated', 'etag', 'iCalUID']) expect(createdBody[key]).toBeTruthy();

    const missing = await postJson(path, { summary: 'x', start: event.start }, bearer(body.access_token));
    expect(missing.status).toBe(400);
    const missingBody = z.object({ error: z.object({ code: z.number(), errors: z.array(jsonObject) }) }).parse(await missing.json());
    expect(missingBody.error.code).toBe(400);
    expect(missingBody.error.errors[0]?.reason).toBe('required');

    const unauthenticated = await postJson(path, event, bearer('ya29.forged'));
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({
      error: { code: 401, status: 'UNAUTHENTICATED', errors: [{ domain: 'global', reason: 'authError', message: 'Invalid Credentials' }] },
    });

    const mailOnly = await connect('google', { scope: 'https://www.googleapis.com/auth/gmail.send' });
    const forbidden = await postJson(path, event, bearer(mailOnly.access_token));
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED', errors: [{ reason: 'insufficientPermissions' }] } });
  });

  it('Gmail messages.send decodes the RFC 2822 message and records it; To and Subject are required', async () => {
    const body = await connect('google');
    const path = '/google/gmail/gmail/v1/users/me/messages/send';
    const message = [
      'From: HR <admin@sandbox-google.test>',
      'To: "Doe, Jane" <jane@example.test>, bob@example.test',
      'Subject: =?UTF-8?B?V2VsY29tZSDwn46J?=',
      'Content-Type: text/plain; charset=UTF-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('Bienvenue à bord').toString('base64'),
    ].join('\r\n');
    const sent = await postJson(path, { raw: Buffer.from(message).toString('base64url') }, bearer(body.access_token));
    expect(sent.status).toBe(200);
    const sentBody = await json(sent);
    expect(sentBody).toMatchObject({ labelIds: ['SENT'] });
    expect(sentBody.threadId).toBe(sentBody.id);

    const noSubject = await postJson(path, { raw: Buffer.from('To: a@b.test\r\n\r\nhi').toString('base64url') }, bearer(body.access_token));
    expect(noSubject.status).toBe(400);
    expect(await noSubject.json()).toMatchObject({ error: { code: 400, errors: [{ reason: 'invalidArgument' }] } });
    const noTo = await postJson(path, { raw: Buffer.from('Subject: hi\r\n\r\nhi').toString('base64url') }, bearer(body.access_token));
    expect(noTo.status).toBe(400);

    const emails = z.object({ emails: z.array(jsonObject) }).parse(await (await control('GET', '/emails?provider=google')).json()).emails;
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      provider: 'google',
      from: 'admin@sandbox-google.test',
      to: ['jane@example.test', 'bob@example.test'],
      subject: 'Welcome 🎉',
      body: 'Bienvenue à bord',
    });
  });

  it('unknown paths answer Google’s HTML 404', async () => {
    const response = await fetch(`${base}/google/www/drive/v3/nothing`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });
});

// --- Microsoft ---

describe('Microsoft', () => {
  it('code exchange returns JWT-looking tokens; refresh returns a new refresh token and the old one keeps working', async () => {
    const body = await connect('microsoft');
    expect(body).toMatchObject({ token_type: 'Bearer', scope: SCOPES.microsoft, expires_in: 3599, ext_expires_in: 3599 });
    expect(str(body.access_token)).toMatch(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
    expect(str(body.refresh_token)).toMatch(/^0\.AX/);
    const claims = jwtPayload(body.id_token);
    expect(claims).toMatchObject({ aud: SANDBOX_CLIENTS.microsoft.clientId, preferred_username: 'admin@sandbox-contoso.test', ver: '2.0' });
    expect(str(claims.tid)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(str(claims.iss)).toBe(`https://login.microsoftonline.com/${str(claims.tid)}/v2.0`);
    expect(claims.oid).toBeTruthy();

    const first = await json(await post(TOKEN.microsoft, refreshParams('microsoft', str(body.refresh_token), { scope: 'User.Read offline_access' })));
    expect(first.scope).toBe('User.Read offline_access');
    expect(first.refresh_token).toBeTruthy();
    expect(first.refresh_token).not.toBe(body.refresh_token);
    const second = await post(TOKEN.microsoft, refreshParams('microsoft', str(body.refresh_token)));
    expect(second.status).toBe(200);
    const secondBody = await json(second);
    expect(secondBody.refresh_token).not.toBe(first.refresh_token);
    expect((await post(TOKEN.microsoft, refreshParams('microsoft', str(first.refresh_token)))).status).toBe(200);

    const wider = await post(TOKEN.microsoft, refreshParams('microsoft', str(body.refresh_token), { scope: 'Files.ReadWrite.All' }));
    expect(wider.status).toBe(400);
    expect((await json(wider)).error).toBe('invalid_scope');
  });

  it('the tenant id is a stable UUID derived from the account’s domain', async () => {
    const a = jwtPayload((await connect('microsoft', {}, 'alice@fabrikam.test')).id_token);
    const b = jwtPayload((await connect('microsoft', {}, 'bob@fabrikam.test')).id_token);
    const c = jwtPayload((await connect('microsoft', {}, 'carol@northwind.test')).id_token);
    expect(a.tid).toBe(b.tid);
    expect(a.oid).not.toBe(b.oid);
    expect(c.tid).not.toBe(a.tid);
    // Authorizing at the tenant's own id works; another tenant refuses the account.
    const code = await authorize('microsoft', {}, 'alice@fabrikam.test');
    expect((await post(`/microsoft/login/${str(a.tid)}/oauth2/v2.0/token`, exchangeParams('microsoft', code))).status).toBe(200);
    const wrongTenant = await post(`/microsoft/login/${str(c.tid)}/oauth2/v2.0/authorize`, { ...authorizeParams('microsoft'), decision: 'allow', account: 'alice@fabrikam.test' });
    expect(wrongTenant.status).toBe(400);
    expect(await wrongTenant.text()).toContain('AADSTS50020');
  });

  it('no refresh token without offline_access', async () => {
    const body = await connect('microsoft', { scope: 'openid User.Read' });
    expect(body).not.toHaveProperty('refresh_token');
  });

  it('Graph: /me, events (201), sendMail (202 empty), channel messages (201), 401 and 403 in Graph’s shape', async () => {
    const body = await connect('microsoft');
    const token = body.access_token;
    const me = await fetch(`${base}/microsoft/graph/v1.0/me`, { headers: bearer(token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ displayName: expect.any(String), mail: 'admin@sandbox-contoso.test', userPrincipalName: 'admin@sandbox-contoso.test', id: jwtPayload(body.id_token).oid });

    const event = await postJson(
      '/microsoft/graph/v1.0/me/events',
      { subject: 'Onboarding', start: { dateTime: '2026-03-02T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-03-02T10:00:00', timeZone: 'UTC' } },
      bearer(token),
    );
    expect(event.status).toBe(201);
    expect(await event.json()).toMatchObject({ subject: 'Onboarding', id: expect.any(String), iCalUId: expect.any(String), webLink: expect.any(String) });

    const mail = await postJson(
      '/microsoft/graph/v1.0/me/sendMail',
      { message: { subject: 'Welcome', body: { contentType: 'Text', content: 'Hello' }, toRecipients: [{ emailAddress: { address: 'jane@example.test' } }] } },
      bearer(token),
    );
    expect(mail.status).toBe(202);
    expect(await mail.text()).toBe('');
    const emails = z.object({ emails: z.array(jsonObject) }).parse(await (await control('GET', '/emails?provider=microsoft')).json()).emails;
    expect(emails[0]).toMatchObject({ provider: 'microsoft', to: ['jane@example.test'], subject: 'Welcome', body: 'Hello' });

    const chat = await postJson('/microsoft/graph/v1.0/teams/team-1/channels/19%3Aabc%40thread.tacv2/messages', { body: { content: 'Hi team' } }, bearer(token));
    expect(chat.status).toBe(201);
    expect(await chat.json()).toMatchObject({ messageType: 'message', body: { content: 'Hi team' }, channelIdentity: { teamId: 'team-1', channelId: '19:abc@thread.tacv2' } });

    const unauthorized = await fetch(`${base}/microsoft/graph/v1.0/me`, { headers: bearer('eyJ.forged.token') });
    expect(unauthorized.status).toBe(401);
    const unauthorizedBody = z.object({ error: z.object({ code: z.string(), message: z.string(), innerError: jsonObject }) }).parse(await unauthorized.json());
    expect(unauthorizedBody.error.code).toBe('InvalidAuthenticationToken');
    expect(Object.keys(unauthorizedBody.error.innerError)).toEqual(expect.arrayContaining(['date', 'request-id', 'client-request-id']));

    const narrow = await connect('microsoft', { scope: 'openid offline_access User.Read' });
    const forbidden = await postJson('/microsoft/graph/v1.0/me/sendMail', { message: { toRecipients: [] } }, bearer(narrow.access_token));
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: 'Authorization_RequestDenied' } });
  });
});

// --- faults ---

describe('faults', () => {
  it('429 in each provider’s own shape, with Retry-After, for the next `times` matching requests only', async () => {
    for (const provider of PROVIDERS) {
      const set = await control('POST', '/faults', { provider, path: '', status: 429, retryAfterSeconds: 7, times: 1 });
      expect(set.status).toBe(200);
    }
    const slack = await post('/slack/slack/api/auth.test', {});
    expect(slack.status).toBe(429);
    expect(slack.headers.get('retry-after')).toBe('7');
    expect(await slack.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect((await post('/slack/slack/api/auth.test', {})).status).toBe(200);

    const google = await postJson('/google/www/calendar/v3/calendars/primary/events', {});
    expect(google.status).toBe(429);
    expect(google.headers.get('retry-after')).toBe('7');
    expect(await google.json()).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits' }] } });

    const graph = await fetch(`${base}/microsoft/graph/v1.0/me`);
    expect(graph.status).toBe(429);
    expect(graph.headers.get('retry-after')).toBe('7');
    expect(await graph.json()).toMatchObject({ error: { code: 'TooManyRequests', message: 'Please retry again later.', innerError: { 'request-id': expect.any(String) } } });
    expect((await fetch(`${base}/microsoft/graph/v1.0/me`)).status).toBe(401);
  });

  it('faults match a path prefix; 5xx in the provider shape; DELETE clears; delays delay', async () => {
    await control('POST', '/faults', { provider: 'slack', path: '/slack/api/oauth.v2.access', status: 503, times: 5 });
    expect((await post('/slack/slack/api/auth.test', {})).status).toBe(200);
    const failing = await post(TOKEN.slack, {});
    expect(failing.status).toBe(503);
    expect(await failing.json()).toEqual({ ok: false, error: 'service_unavailable' });
    await control('DELETE', '/faults');
    expect((await post(TOKEN.slack, {})).status).toBe(200);

    await control('POST', '/faults', { provider: 'microsoft', path: '/graph/', status: 503, retryAfterSeconds: 2, times: 1 });
    const graph = await fetch(`${base}/microsoft/graph/v1.0/me`);
    expect(graph.status).toBe(503);
    expect(graph.headers.get('retry-after')).toBe('2');
    expect(await graph.json()).toMatchObject({ error: { code: 'serviceNotAvailable' } });

    await control('POST', '/faults', { provider: 'google', path: '/oauth2/token', delayMs: 150, times: 1 });
    const started = Date.now();
    const delayed = await post(TOKEN.google, {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(delayed.status).toBe(400);
  });

  it('a timeout-sized delay can be cut short by the client', async () => {
    await control('POST', '/faults', { provider: 'google', path: '', delayMs: 60_000, times: 1 });
    await expect(fetch(`${base}/google/oauth2/token`, { method: 'POST', signal: AbortSignal.timeout(100) })).rejects.toThrow();
  });
});

// --- expiry, clock, revocation ---

describe('expire, clock and revoke', () => {
  it('expire makes access tokens fail with each provider’s expiry error; refresh still works', async () => {
    const slack = await connect('slack');
    const google = await connect('google');
    const microsoft = await connect('microsoft');
    for (const [provider, token] of [['slack', slack.access_token], ['google', google.access_token], ['microsoft', microsoft.access_token]] as const) {
      expect(await json(await control('POST', '/expire', { provider, token }))).toEqual({ expired: 1 });
    }
    expect(await slackCall('auth.test', slack.access_token)).toEqual({ ok: false, error: 'token_expired' });
    expect((await fetch(`${base}/google/openidconnect/v1/userinfo`, { headers: bearer(google.access_token) })).status).toBe(401);
    const graph = await fetch(`${base}/microsoft/graph/v1.0/me`, { headers: bearer(microsoft.access_token) });
    expect(graph.status).toBe(401);
    expect(await graph.json()).toMatchObject({ error: { code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' } });
    expect((await post(TOKEN.google, refreshParams('google', str(google.refresh_token)))).status).toBe(200);
  });

  it('the clock moves forward and expiry follows it; Microsoft refresh tokens die after 90 days', async () => {
    const before = z.object({ nowMs: z.number(), offsetSeconds: z.number() }).parse(await (await control('GET', '/clock')).json());
    expect(before.offsetSeconds).toBe(0);
    const google = await connect('google');
    const microsoft = await connect('microsoft');
    const advanced = z.object({ nowMs: z.number(), offsetSeconds: z.number() }).parse(await (await control('POST', '/clock', { advanceSeconds: 3599 })).json());
    expect(advanced.offsetSeconds).toBe(3599);
    expect(advanced.nowMs - before.nowMs).toBeGreaterThanOrEqual(3599_000);
    expect((await fetch(`${base}/google/openidconnect/v1/userinfo`, { headers: bearer(google.access_token) })).status).toBe(401);
    expect((await fetch(`${base}/microsoft/graph/v1.0/me`, { headers: bearer(microsoft.access_token) })).status).toBe(401);

    await control('POST', '/clock', { advanceSeconds: 91 * 24 * 3600 });
    const dead = await post(TOKEN.microsoft, refreshParams('microsoft', str(microsoft.refresh_token)));
    expect(dead.status).toBe(400);
    expect(await dead.json()).toMatchObject({ error: 'invalid_grant', error_codes: [700082] });
  });

  it('revoke by account or token makes API calls and refreshes fail with each provider’s terminal error', async () => {
    const slack = await connect('slack', { user_scope: 'users:read' });
    const google = await connect('google');
    const microsoft = await connect('microsoft');

    expect(await json(await control('POST', '/revoke', { provider: 'slack', account: 't0sandbox1' }))).toEqual({ revoked: 2 });
    expect(await slackCall('auth.test', slack.access_token)).toEqual({ ok: false, error: 'token_revoked' });
    expect(await slackCall('auth.test', jsonObject.parse(slack.authed_user).access_token)).toEqual({ ok: false, error: 'token_revoked' });
    expect(await json(await post(TOKEN.slack, refreshParams('slack', str(slack.refresh_token))))).toEqual({ ok: false, error: 'invalid_refresh_token' });

    expect(await json(await control('POST', '/revoke', { provider: 'google', token: google.access_token }))).toEqual({ revoked: 1 });
    const googleRefresh = await post(TOKEN.google, refreshParams('google', str(google.refresh_token)));
    expect(googleRefresh.status).toBe(400);
    expect(await googleRefresh.json()).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });

    expect(await json(await control('POST', '/revoke', { provider: 'microsoft', account: 'ADMIN@sandbox-contoso.test' }))).toEqual({ revoked: 1 });
    const msRefresh = await post(TOKEN.microsoft, refreshParams('microsoft', str(microsoft.refresh_token)));
    expect(msRefresh.status).toBe(400);
    expect((await json(msRefresh)).error).toBe('invalid_grant');
    expect((await fetch(`${base}/microsoft/graph/v1.0/me`, { headers: bearer(microsoft.access_token) })).status).toBe(401);
  });
});

// --- control API ---

describe('control API', () => {
  it('logs every provider request (not control calls) with parsed bodies, filtered by provider and since', async () => {
    await post('/slack/slack/api/auth.test', { token: 'xoxe.xoxb-1-abc' });
    await postJson('/google/oauth2/token', { grant_type: 'refresh_token' });
    await fetch(`${base}/microsoft/graph/v1.0/me?$select=id`, { headers: { 'client-request-id': 'c-1' } });
    await control('GET', '/clock');

    const all = z.object({ requests: z.array(jsonObject) }).parse(await (await control('GET', '/requests')).json()).requests;
    expect(all.map((entry) => entry.provider)).toEqual(['slack', 'google', 'microsoft']);
    expect(all[0]).toMatchObject({ seq: 1, method: 'POST', path: '/slack/api/auth.test', body: { token: 'xoxe.xoxb-1-abc' }, status: 200 });
    expect(all[1]).toMatchObject({ body: { grant_type: 'refresh_token' }, status: 400 });
    expect(all[2]).toMatchObject({ method: 'GET', path: '/graph/v1.0/me', query: { $select: 'id' }, body: null, status: 401 });
    expect(jsonObject.parse(all[2]?.headers)['client-request-id']).toBe('c-1');

    const since = z.object({ requests: z.array(jsonObject) }).parse(await (await control('GET', '/requests?since=1')).json()).requests;
    expect(since.map((entry) => entry.seq)).toEqual([2, 3]);
    const google = z.object({ requests: z.array(jsonObject) }).parse(await (await control('GET', '/requests?provider=google')).json()).requests;
    expect(google).toHaveLength(1);
  });

  it('token counts never show token values', async () => {
    const slack = await connect('slack', { user_scope: 'users:read' });
    await post(TOKEN.slack, refreshParams('slack', str(slack.refresh_token)));
    const response = await control('GET', '/tokens?provider=slack');
    const text = await response.text();
    expect(text).not.toContain(str(slack.access_token));
    expect(JSON.parse(text)).toEqual({
      tokens: {
        slack: {
          grants: { active: 2, revoked: 0 },
          codes: { issued: 1, pending: 0, used: 1, expired: 0 },
          access: { issued: 3, active: 3, expired: 0, revoked: 0 },
          refresh: { issued: 3, active: 2, expired: 0, revoked: 1 },
        },
      },
    });
  });

  it('invalid control input is a 400 with an error; unknown tokens a 404', async () => {
    for (const [method, path, body] of [
      ['POST', '/faults', { provider: 'slack', path: 'no-slash', status: 429, times: 1 }],
      ['POST', '/faults', { provider: 'slack', path: '', status: 418, times: 1 }],
      ['POST', '/faults', { provider: 'dropbox', path: '', status: 429, times: 1 }],
      ['POST', '/clock', { advanceSeconds: -5 }],
      ['POST', '/revoke', { provider: 'slack' }],
      ['GET', '/requests?since=abc', undefined],
    ] as const) {
      const response = await control(method, path, body);
      expect(response.status).toBe(400);
      expect(await json(response)).toHaveProperty('error');
    }
    const bad = await fetch(`${base}/_control/expire`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect((await control('POST', '/revoke', { provider: 'google', token: 'ya29.unknown' })).status).toBe(404);
    expect((await control('GET', '/nothing')).status).toBe(404);
  });

  it('reset forgets grants, the log and the clock', async () => {
    const slack = await connect('slack');
    await control('POST', '/clock', { advanceSeconds: 10 });
    expect((await control('POST', '/reset')).status).toBe(200);
    expect(await slackCall('auth.test', slack.access_token)).toEqual({ ok: false, error: 'invalid_auth' });
    expect(z.object({ offsetSeconds: z.number() }).parse(await (await control('GET', '/clock')).json()).offsetSeconds).toBe(0);
    const log = z.object({ requests: z.array(jsonObject) }).parse(await (await control('GET', '/requests')).json()).requests;
    expect(log.map((entry) => entry.path)).toEqual(['/slack/api/auth.test']);
  });
});

// --- persistence ---

describe('persistence', () => {
  it('a second Sandbox on the same statePath accepts the tokens of the first (and never stores them in clear)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
    const statePath = join(dir, 'sandbox.json');
    try {
      const first = await startSandboxServer({ sandbox: new Sandbox({ statePath }) });
      const authorizeResponse = await fetch(`${first.url}${AUTHORIZE.slack}`, {
        method: 'POST',
        body: new URLSearchParams({ ...authorizeParams('slack'), decision: 'allow' }),
        redirect: 'manual',
      });
      const code = new URL(authorizeResponse.headers.get('location') ?? '').searchParams.get('code') ?? '';
      const tokens = jsonObject.parse(await (await fetch(`${first.url}${TOKEN.slack}`, { method: 'POST', body: new URLSearchParams(exchangeParams('slack', code)) })).json());
      await fetch(`${first.url}/_control/clock`, { method: 'POST', body: JSON.stringify({ advanceSeconds: 60 }) });
      await first.close();
      await first.sandbox.close();

      const stored = readFileSync(statePath, 'utf8');
      expect(stored).not.toContain(str(tokens.access_token));
      expect(stored).not.toContain(str(tokens.refresh_token));

      const second = await startSandboxServer({ sandbox: new Sandbox({ statePath }) });
      try {
        const test = jsonObject.parse(
          await (await fetch(`${second.url}/slack/slack/api/auth.test`, { method: 'POST', headers: bearer(tokens.access_token) })).json(),
        );
        expect(test).toMatchObject({ ok: true, team_id: 'T0SANDBOX1' });
        const refreshed = jsonObject.parse(
          await (await fetch(`${second.url}${TOKEN.slack}`, { method: 'POST', body: new URLSearchParams(refreshParams('slack', str(tokens.refresh_token))) })).json(),
        );
        expect(refreshed.ok).toBe(true);
        expect(second.sandbox.clock().offsetSeconds).toBe(60);
        // the code was used before the restart
        const reused = jsonObject.parse(await (await fetch(`${second.url}${TOKEN.slack}`, { method: 'POST', body: new URLSearchParams(exchangeParams('slack', code)) })).json());
        expect(reused).toEqual({ ok: false, error: 'invalid_code' });
      } finally {
        await second.close();
        await second.sandbox.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in process: handle() and the control methods, with an injected clock', async () => {
    let now = Date.UTC(2026, 0, 1);
    const sandbox = new Sandbox({ now: () => now });
    const request = (method: string, path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      sandbox.handle({
        method,
        path,
        query: new URLSearchParams(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: Buffer.from(new URLSearchParams(form).toString()),
      });
    const redirect = await request('POST', AUTHORIZE.google, { ...authorizeParams('google'), decision: 'allow' });
    expect(redirect.status).toBe(302);
    const code = new URL(redirect.headers.location ?? '').searchParams.get('code') ?? '';
    const tokens = jsonObject.parse(JSON.parse((await request('POST', TOKEN.google, exchangeParams('google', code))).body));
    const userinfo = () => sandbox.handle({ method: 'GET', path: '/google/openidconnect/v1/userinfo', query: new URLSearchParams(), headers: bearer(tokens.access_token), body: Buffer.alloc(0) });
    expect((await userinfo()).status).toBe(200);
    now += 3599_000;
    expect((await userinfo()).status).toBe(401);
    expect(sandbox.clock().now).toBe('2026-01-01T00:59:59.000Z');
    expect(sandbox.requests({ provider: 'google' })).toHaveLength(4);
    expect(sandbox.tokenCounts('google').google?.access).toEqual({ issued: 1, active: 0, expired: 1, revoked: 0 });
    expect(sandbox.revoke({ provider: 'google', account: 'admin@sandbox-google.test' })).toEqual({ revoked: 1 });
    await sandbox.close();
  });
});
