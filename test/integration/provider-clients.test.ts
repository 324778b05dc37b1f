import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startSandboxServer,
  type CalendarEventRecord,
  type LoggedRequest,
  type SandboxServer,
  type SentEmail,
  type SlackMessage,
  type TeamsMessage,
} from '../../infra/local/sandbox';
import { MalformedProviderResponseError, ProviderError } from '../../shared/oauth/errors';
import {
  InvalidProviderRequestError,
  ProviderNotConfiguredError,
  jitteredBackoffMs,
  retryDelayMs,
  withRetries,
  type RetryOptions,
} from '../../shared/providers/api-call';
import { buildRfc2822Message, createGoogleClient, encodeRfc2047, googleClient, googleErrorFrom } from '../../shared/providers/google/client';
import { createMicrosoftClient, microsoftClient } from '../../shared/providers/microsoft/client';
import { createSlackClient, slackClient } from '../../shared/providers/slack/client';
import { AUTHORIZE_PATH, sandboxOAuth, type SandboxProvider } from '../support/sandbox-oauth';

/**
 * The provider API clients against the sandbox fakes over real HTTP: tokens
 * come from the sandbox's own OAuth flow, every call is checked from the
 * sandbox's side (request log, recorded mail and messages), and retries are
 * driven by injected faults with a recorded (not real) sleep.
 */

const CREDENTIAL_ENV = [
  'SLACK_CLIENT_ID',
  'SLACK_CLIENT_SECRET',
  'GOOGLE_CLIENT_ID',
  'GOOGLE_CLIENT_SECRET',
  'MICROSOFT_CLIENT_ID',
  'MICROSOFT_CLIENT_SECRET',
  'SANDBOX_BASE_URL',
] as const;
const REDIRECT_URI = 'http://app.test/oauth/callback';

const GOOGLE_CALENDAR = 'https://www.googleapis.com/auth/calendar.events';
const GOOGLE_GMAIL_SEND = 'https://www.googleapis.com/auth/gmail.send';

let server: SandboxServer;
const savedEnv = new Map<string, string | undefined>();

beforeAll(async () => {
  for (const name of CREDENTIAL_ENV) {
    savedEnv.set(name, process.env[name]);
    delete process.env[name];
  }
  server = await startSandboxServer({ port: 0 });
  process.env.SANDBOX_BASE_URL = server.url;
});

afterAll(async () => {
  await server.close();
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

beforeEach(async () => {
  process.env.SANDBOX_BASE_URL = server.url;
  await control('POST', '/reset');
});

// --- sandbox helpers ---

const oauth = sandboxOAuth({ base: () => server.url, redirectUri: REDIRECT_URI, pkce: false });

async function control<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await oauth.control(method, path, body);
  expect(response.status, `control ${method} ${path}`).toBe(200);
  return (await response.json()) as T;
}

const requests = async (provider: SandboxProvider, path?: string) =>
  (await control<{ requests: LoggedRequest[] }>('GET', `/requests?provider=${provider}`)).requests.filter(
    (entry) => path === undefined || entry.path === path,
  );

const fault = (spec: { provider: string; path: string; status?: number; retryAfterSeconds?: number; times: number }) =>
  control('POST', '/faults', spec);

/** The authorization-code flow as a browser and a backend run it: consent page, Allow, code, token endpoint. */
async function authorizeAndExchange(provider: SandboxProvider, scope: string, extra: Record<string, string> = {}): Promise<string> {
  const overrides = { scope, ...extra, state: `state-${Math.random().toString(36).slice(2)}` };
  const page = await fetch(`${server.url}${AUTHORIZE_PATH[provider]}?${new URLSearchParams(oauth.authorizeParams(provider, overrides)).toString()}`, {
    redirect: 'manual',
  });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('SANDBOX');

  const code = await oauth.authorize(provider, overrides);
  const token = await oauth.exchange(provider, code, { grant_type: 'authorization_code' });
  const body = (await token.json()) as Record<string, unknown>;
  expect(token.status, JSON.stringify(body)).toBe(200);
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string') throw new Error(`no access token in ${JSON.stringify(body)}`);
  return accessToken;
}

const slackToken = (scopes: string[]) => authorizeAndExchange('slack', scopes.join(','));

const googleToken = (scopes: string[]) => authorizeAndExchange('google', ['openid', 'email', ...scopes].join(' '), { access_type: 'offline' });

const microsoftToken = (scopes: string[]) => authorizeAndExchange('microsoft', ['openid', 'offline_access', 'User.Read', ...scopes].join(' '));

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a ProviderError');
}

/** Retry options whose sleeps are recorded instead of waited for. */
function recordedSleep(extra: RetryOptions = {}): RetryOptions & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    ...extra,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  };
}

// --- retry policy (no provider involved) ---

describe('retry policy', () => {
  const transient = (retryAfterSeconds?: number) => new ProviderError('x', 'http_503', 503, 'transient', retryAfterSeconds);

  it('honours Retry-After up to the cap, backs off with full jitter otherwise, and never retries the rest', () => {
    expect(retryDelayMs(transient(4), 0)).toBe(4_000);
    expect(retryDelayMs(transient(30), 0)).toBe(30_000);
    expect(retryDelayMs(transient(31), 0)).toBeUndefined();
    expect(retryDelayMs(transient(31), 0, { maxRetryAfterSeconds: 60 })).toBe(31_000);
    expect(retryDelayMs(new ProviderError('x', 'bad', 400, 'rejected'), 0)).toBeUndefined();
    expect(retryDelayMs(new ProviderError('x', 'authError', 401, 'unauthorized'), 0)).toBeUndefined();
    expect(retryDelayMs(new ProviderError('x', 'token_revoked', 200, 'terminal'), 0)).toBeUndefined();
    expect(retryDelayMs(new MalformedProviderResponseError('x', 'answer'), 0)).toBeUndefined();
    expect(retryDelayMs(new Error('boom'), 0)).toBeUndefined();

    const top = () => 0.999_999;
    expect(jitteredBackoffMs(0, { random: top })).toBe(199);
    expect(jitteredBackoffMs(1, { random: top })).toBe(399);
    expect(jitteredBackoffMs(10, { random: top })).toBe(4_999);
    expect(jitteredBackoffMs(3, { random: () => 0 })).toBe(0);
  });

  it('makes at most three attempts in all', async () => {
    const options = recordedSleep({ random: () => 0.5 });
    let attempts = 0;
    await expect(
      withRetries(async () => {
        attempts += 1;
        throw transient();
      }, options),
    ).rejects.toMatchObject({ code: 'http_503' });
    expect(attempts).toBe(3);
    expect(options.sleeps).toEqual([100, 200]);
  });

  it('retries a network failure (nothing listening) with backoff', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    process.env.SANDBOX_BASE_URL = `http://127.0.0.1:${port}/sandbox`;
    const options = recordedSleep();
    const error = await providerError(createSlackClient(options).sendMessage('xoxb-any', 'C1', 'hi'));
    expect(error).toMatchObject({ providerId: 'slack', code: 'network_error', kind: 'transient' });
    expect(options.sleeps).toHaveLength(2);
  });

  it('turns an answer of the wrong shape into MalformedProviderResponseError, without retrying', async () => {
    let hits = 0;
    const odd: Server = createServer((_request, response) => {
      hits += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, channel: 42 }));
    });
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    try {
      process.env.SANDBOX_BASE_URL = `http://127.0.0.1:${(odd.address() as AddressInfo).port}/sandbox`;
      await expect(createSlackClient(recordedSleep()).sendMessage('xoxb-any', 'C1', 'hi')).rejects.toBeInstanceOf(MalformedProviderResponseError);
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((resolve) => odd.close(() => resolve()));
    }
  });

  it('says so when a provider is not configured', async () => {
    delete process.env.SANDBOX_BASE_URL;
    await expect(slackClient.sendMessage('xoxb-any', 'C1', 'hi')).rejects.toBeInstanceOf(ProviderNotConfiguredError);
  });
});

// --- Slack ---

describe('slackClient', () => {
  const scopes = ['chat:write', 'channels:manage', 'groups:write'];

  it('posts a message (chat.postMessage) and returns the channel id and ts', async () => {
    const token = await slackToken(scopes);
    const sent = await slackClient.sendMessage(token, '#general', 'Hello from the HR platform! ✨');
    expect(sent.channel).toMatch(/^C[A-Z0-9]+$/);
    expect(sent.ts).toMatch(/^\d+\.\d{6}$/);

    const { messages } = await control<{ messages: SlackMessage[] }>('GET', '/slack/messages');
    expect(messages).toEqual([expect.objectContaining({ channel: sent.channel, ts: sent.ts, text: 'Hello from the HR platform! ✨', tokenKind: 'bot' })]);
    const [request] = await requests('slack', '/slack/api/chat.postMessage');
    expect(request?.method).toBe('POST');
    expect(request?.headers.authorization).toBe(`Bearer ${token}`);
    expect(request?.body).toEqual({ channel: '#general', text: 'Hello from the HR platform! ✨' });
  });

  it('replies in a thread with blocks', async () => {
    const token = await slackToken(scopes);
    const parent = await slackClient.sendMessage(token, '#general', 'parent');
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*reply*' } }];
    const reply = await slackClient.sendMessage(token, parent.channel, 'reply', { threadTs: parent.ts, blocks, unfurlLinks: false });
    const { messages } = await control<{ messages: SlackMessage[] }>('GET', '/slack/messages');
    expect(messages.find((message) => message.ts === reply.ts)).toMatchObject({ threadTs: parent.ts, blocks });
  });

  it('creates public and private channels; a second create of the same name is name_taken', async () => {
    const token = await slackToken(scopes);
    const created = await slackClient.createChannel(token, 'project-alpha', false);
    expect(created).toEqual({ id: expect.stringMatching(/^C[A-Z0-9]+$/), name: 'project-alpha', isPrivate: false });
    expect((await requests('slack', '/slack/api/conversations.create'))[0]?.body).toEqual({ name: 'project-alpha', is_private: false });

    const secret = await slackClient.createChannel(token, 'project-beta', true);
    expect(secret).toMatchObject({ name: 'project-beta', isPrivate: true });

    const error = await providerError(slackClient.createChannel(token, 'project-alpha', false));
    expect(error).toMatchObject({ providerId: 'slack', code: 'name_taken', status: 200, kind: 'rejected' });
  });

  it('leaves the naming rule to Slack: invalid_name_* is a rejection', async () => {
    const token = await slackToken(scopes);
    const error = await providerError(slackClient.createChannel(token, 'Project Alpha', false));
    expect(error).toMatchObject({ code: 'invalid_name_specials', kind: 'rejected' });
  });

  it('channel_not_found is rejected and not retried', async () => {
    const token = await slackToken(scopes);
    const error = await providerError(createSlackClient(recordedSleep()).sendMessage(token, '#no-such-channel', 'hi'));
    expect(error).toMatchObject({ code: 'channel_not_found', status: 200, kind: 'rejected' });
    expect(await requests('slack', '/slack/api/chat.postMessage')).toHaveLength(1);
  });

  it('a missing scope is missing_scope, rejected', async () => {
    const token = await slackToken(['chat:write']);
    const error = await providerError(slackClient.createChannel(token, 'project-gamma', false));
    expect(error).toMatchObject({ code: 'missing_scope', kind: 'rejected' });
  });

  it('classifies token failures: invalid_auth and token_expired unauthorized, token_revoked terminal', async () => {
    const bogus = await providerError(slackClient.sendMessage('xoxb-not-a-real-token', '#general', 'hi'));
    expect(bogus).toMatchObject({ code: 'invalid_auth', kind: 'unauthorized' });

    const expiring = await slackToken(scopes);
    await control('POST', '/expire', { provider: 'slack', token: expiring });
    expect(await providerError(slackClient.sendMessage(expiring, '#general', 'hi'))).toMatchObject({ code: 'token_expired', kind: 'unauthorized' });

    const revoked = await slackToken(scopes);
    await control('POST', '/revoke', { provider: 'slack', token: revoked });
    const error = await providerError(slackClient.sendMessage(revoked, '#general', 'hi'));
    expect(error).toMatchObject({ code: 'token_revoked', kind: 'terminal' });
    expect(error.terminal).toBe(true);
  });

  it('a 429 waits Retry-After and succeeds; a persistent one ends as ratelimited after 3 attempts', async () => {
    const token = await slackToken(scopes);
    const once = recordedSleep();
    await fault({ provider: 'slack', path: '/slack/api/chat.postMessage', status: 429, retryAfterSeconds: 2, times: 1 });
    await createSlackClient(once).sendMessage(token, '#general', 'after a wait');
    expect(once.sleeps).toEqual([2_000]);
    expect(await requests('slack', '/slack/api/chat.postMessage')).toHaveLength(2);

    const always = recordedSleep();
    await fault({ provider: 'slack', path: '/slack/api/chat.postMessage', status: 429, retryAfterSeconds: 1, times: 10 });
    const error = await providerError(createSlackClient(always).sendMessage(token, '#general', 'never'));
    expect(error).toMatchObject({ code: 'ratelimited', status: 429, kind: 'transient', retryAfterSeconds: 1 });
    expect(always.sleeps).toEqual([1_000, 1_000]);
    expect(await requests('slack', '/slack/api/chat.postMessage')).toHaveLength(5);
  });
});

// --- Google ---

describe('googleClient', () => {
  it('creates a calendar event (events.insert) and returns the typed event', async () => {
    const token = await googleToken([GOOGLE_CALENDAR, GOOGLE_GMAIL_SEND]);
    const event = await googleClient.createCalendarEvent(token, {
      summary: 'Team Meeting',
      description: 'Quarterly planning',
      start: { dateTime: '2025-01-15T10:00:00Z' },
      end: { dateTime: '2025-01-15T11:00:00Z' },
      attendees: [{ email: 'jane@example.com' }],
    });
    expect(event).toMatchObject({
      id: expect.stringMatching(/^[a-v0-9]+$/),
      status: 'confirmed',
      htmlLink: expect.stringContaining('https://'),
      summary: 'Team Meeting',
      start: { dateTime: '2025-01-15T10:00:00Z' },
      attendees: [{ email: 'jane@example.com', responseStatus: 'needsAction' }],
    });
    const [request] = await requests('google', '/www/calendar/v3/calendars/primary/events');
    expect(request?.headers.authorization).toBe(`Bearer ${token}`);
    const { events } = await control<{ events: CalendarEventRecord[] }>('GET', '/calendar/events?provider=google');
    expect(events).toEqual([expect.objectContaining({ id: event.id, calendarId: 'primary' })]);
  });

  it('encodes the calendar id in the path (all-day event on the user’s own calendar)', async () => {
    const token = await googleToken([GOOGLE_CALENDAR]);
    const event = await googleClient.createCalendarEvent(
      token,
      { summary: 'Offsite', start: { date: '2025-02-03' }, end: { date: '2025-02-04' } },
      'admin@sandbox-google.test',
    );
    expect(event.start).toEqual({ date: '2025-02-03' });
    expect(await requests('google', '/www/calendar/v3/calendars/admin%40sandbox-google.test/events')).toHaveLength(1);
  });

  it('sends an RFC 2822 message through Gmail with a non-ASCII subject', async () => {
    const token = await googleToken([GOOGLE_GMAIL_SEND]);
    const subject = 'Bienvenue à bord, Zoë — 入社おめでとうございます 🎉 and a long tail to force folding';
    const body = 'Welcome aboard!\nFirst line\n\nLast line: ünïcödé ✓ ' + 'x'.repeat(120);
    const sent = await googleClient.sendEmail(token, {
      to: ['user@example.com', 'José Núñez <jose@example.com>'],
      cc: 'manager@example.com',
      subject,
      body,
    });
    expect(sent).toEqual({ id: expect.any(String), threadId: expect.any(String) });

    const [request] = await requests('google', '/gmail/gmail/v1/users/me/messages/send');
    expect(request?.body).toEqual({ raw: expect.stringMatching(/^[A-Za-z0-9_-]+$/) });

    const { emails } = await control<{ emails: SentEmail[] }>('GET', '/emails?provider=google');
    expect(emails).toHaveLength(1);
    const email = emails[0];
    expect(email).toMatchObject({
      id: sent.id,
      threadId: sent.threadId,
      to: ['user@example.com', 'jose@example.com'],
      cc: ['manager@example.com'],
      subject,
      contentType: 'text',
      body: body.replace(/\n/g, '\r\n'),
    });
    const raw = email?.raw ?? '';
    expect(raw).not.toMatch(/[^\r]\n/);
    expect(raw).toContain('\r\nMIME-Version: 1.0\r\n');
    expect(raw).toContain('\r\nContent-Type: text/plain; charset="UTF-8"\r\n');
    expect(raw).toContain('\r\nContent-Transfer-Encoding: base64\r\n\r\n');
    expect(raw).toMatch(/\r\nSubject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r\n =\?UTF-8\?B\?/);
    for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
    expect(email?.headers.to).toBe('user@example.com, José Núñez <jose@example.com>');
  });

  it('keeps a plain ASCII subject readable', () => {
    const message = buildRfc2822Message({ to: 'a@example.com', from: 'HR Team <hr@example.com>', subject: 'Welcome to the team', body: 'Hi' });
    expect(message.split('\r\n').slice(0, 3)).toEqual(['From: HR Team <hr@example.com>', 'To: a@example.com', 'Subject: Welcome to the team']);
    expect(message.endsWith('\r\n\r\nSGk=\r\n')).toBe(true);
    const words = encodeRfc2047('é'.repeat(40));
    expect(words.length).toBeGreaterThan(1);
    for (const word of words) expect(word.length).toBeLessThanOrEqual(75);
  });

  it('refuses CR/LF in header values before sending anything', async () => {
    const token = await googleToken([GOOGLE_GMAIL_SEND]);
    const attempts = [
      { to: 'user@example.com', subject: 'Hi\r\nBcc: attacker@evil.test', body: 'x' },
      { to: 'user@example.com\nBcc: attacker@evil.test', subject: 'Hi', body: 'x' },
      { to: ['user@example.com'], cc: ['boss@example.com\r\nX-Injected: 1'], subject: 'Hi', body: 'x' },
      { to: 'user@example.com', from: 'HR <hr@example.com>\rBcc: attacker@evil.test', subject: 'Hi', body: 'x' },
      { to: 'not an address', subject: 'Hi', body: 'x' },
    ];
    for (const email of attempts) {
      await expect(googleClient.sendEmail(token, email)).rejects.toBeInstanceOf(InvalidProviderRequestError);
    }
    expect(await requests('google', '/gmail/gmail/v1/users/me/messages/send')).toHaveLength(0);
  });

  it('a bad token is 401 authError, kind unauthorized', async () => {
    const error = await providerError(googleClient.sendEmail('ya29.not-a-real-token', { to: 'a@example.com', subject: 'Hi', body: 'x' }));
    expect(error).toMatchObject({ providerId: 'google', code: 'authError', status: 401, kind: 'unauthorized' });
  });

  it('a missing scope is 403 insufficientPermissions, rejected and called once', async () => {
    const token = await googleToken([GOOGLE_CALENDAR]);
    const error = await providerError(createGoogleClient(recordedSleep()).sendEmail(token, { to: 'a@example.com', subject: 'Hi', body: 'x' }));
    expect(error).toMatchObject({ code: 'insufficientPermissions', status: 403, kind: 'rejected' });
    expect(await requests('google', '/gmail/gmail/v1/users/me/messages/send')).toHaveLength(1);
  });

  it('a 400 (end before start) is timeRangeEmpty, rejected and called once', async () => {
    const token = await googleToken([GOOGLE_CALENDAR]);
    const error = await providerError(
      createGoogleClient(recordedSleep()).createCalendarEvent(token, {
        summary: 'Backwards',
        start: { dateTime: '2025-01-15T11:00:00Z' },
        end: { dateTime: '2025-01-15T10:00:00Z' },
      }),
    );
    expect(error).toMatchObject({ code: 'timeRangeEmpty', status: 400, kind: 'rejected' });
    expect(await requests('google', '/www/calendar/v3/calendars/primary/events')).toHaveLength(1);
  });

  it('5xx is retried with jittered exponential backoff', async () => {
    const token = await googleToken([GOOGLE_GMAIL_SEND]);
    await fault({ provider: 'google', path: '/gmail/gmail/v1/users/me/messages/send', status: 503, times: 2 });
    const options = recordedSleep({ random: () => 0.75 });
    const sent = await createGoogleClient(options).sendEmail(token, { to: 'a@example.com', subject: 'Eventually', body: 'x' });
    expect(sent.id).toBeTruthy();
    expect(options.sleeps).toEqual([150, 300]);
    const attempts = await requests('google', '/gmail/gmail/v1/users/me/messages/send');
    expect(attempts.map((attempt) => attempt.status)).toEqual([503, 503, 200]);
  });

  it('a 429 keeps Google’s reason as the code', async () => {
    const token = await googleToken([GOOGLE_CALENDAR]);
    await fault({ provider: 'google', path: '/www/calendar/', status: 429, retryAfterSeconds: 5, times: 3 });
    const options = recordedSleep();
    const error = await providerError(
      createGoogleClient(options).createCalendarEvent(token, { summary: 'x', start: { date: '2025-01-01' }, end: { date: '2025-01-02' } }),
    );
    expect(error).toMatchObject({ code: 'rateLimitExceeded', status: 429, kind: 'transient', retryAfterSeconds: 5 });
    expect(options.sleeps).toEqual([5_000, 5_000]);
  });

  it('a 403 rate limit (Google answers some limits that way) is the 429 it means, for every caller', () => {
    for (const reason of ['rateLimitExceeded', 'userRateLimitExceeded']) {
      const error = googleErrorFrom({ status: 403, json: { error: { code: 403, message: 'Rate Limit Exceeded', errors: [{ reason, message: 'Rate Limit Exceeded' }] } } });
      expect(error).toMatchObject({ code: reason, status: 429, kind: 'transient' });
    }
    const refused = googleErrorFrom({ status: 403, json: { error: { code: 403, message: 'no', errors: [{ reason: 'insufficientPermissions', message: 'no' }] } } });
    expect(refused).toMatchObject({ code: 'insufficientPermissions', status: 403, kind: 'rejected' });
  });
});

// --- Microsoft ---

describe('microsoftClient', () => {
  const scopes = ['Calendars.ReadWrite', 'Mail.Send', 'ChannelMessage.Send'];
  const mail = { to: 'jane@contoso.test', subject: 'Welcome', body: '<p>Welcome aboard!</p>', contentType: 'html' as const };

  it('creates an event (POST /me/events, 201) and returns id and webLink', async () => {
    const token = await microsoftToken(scopes);
    const event = await microsoftClient.createCalendarEvent(token, {
      subject: 'Onboarding',
      body: { contentType: 'html', content: '<b>Day one</b>' },
      start: { dateTime: '2026-01-15T10:00:00', timeZone: 'UTC' },
      end: { dateTime: '2026-01-15T11:00:00', timeZone: 'UTC' },
      attendees: [{ address: 'jane@contoso.test', name: 'Jane' }],
    });
    expect(event).toMatchObject({ id: expect.stringMatching(/^AAMkA/), webLink: expect.stringContaining('https://outlook.office365.com/') });
    const [request] = await requests('microsoft', '/graph/v1.0/me/events');
    expect(request?.status).toBe(201);
    expect(request?.body).toMatchObject({
      subject: 'Onboarding',
      body: { contentType: 'HTML', content: '<b>Day one</b>' },
      attendees: [{ emailAddress: { address: 'jane@contoso.test', name: 'Jane' }, type: 'required' }],
    });
  });

  it('sends mail (POST /me/sendMail, 202 with no body)', async () => {
    const token = await microsoftToken(scopes);
    await expect(microsoftClient.sendEmail(token, { ...mail, cc: ['boss@contoso.test'] })).resolves.toBeUndefined();
    const { emails } = await control<{ emails: SentEmail[] }>('GET', '/emails?provider=microsoft');
    expect(emails).toEqual([
      expect.objectContaining({ to: ['jane@contoso.test'], cc: ['boss@contoso.test'], subject: 'Welcome', contentType: 'html', body: '<p>Welcome aboard!</p>' }),
    ]);
  });

  it('posts a Teams channel message with encoded path segments', async () => {
    const token = await microsoftToken(scopes);
    const teamId = '8b081ef6-4792-4def-b2c9-c363a1bf41d5';
    const channelId = '19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2';
    const message = await microsoftClient.sendChannelMessage(token, teamId, channelId, 'Hello World');
    expect(message.id).toBeTruthy();
    const { messages } = await control<{ messages: TeamsMessage[] }>('GET', '/teams/messages');
    expect(messages).toEqual([expect.objectContaining({ id: message.id, teamId, channelId, content: 'Hello World' })]);
    expect(await requests('microsoft', `/graph/v1.0/teams/${teamId}/channels/${encodeURIComponent(channelId)}/messages`)).toHaveLength(1);
  });

  it('TooManyRequests with Retry-After is waited out and retried', async () => {
    const token = await microsoftToken(scopes);
    await fault({ provider: 'microsoft', path: '/graph/v1.0/me/sendMail', status: 429, retryAfterSeconds: 3, times: 1 });
    const options = recordedSleep();
    await createMicrosoftClient(options).sendEmail(token, mail);
    expect(options.sleeps).toEqual([3_000]);
    expect((await requests('microsoft', '/graph/v1.0/me/sendMail')).map((request) => request.status)).toEqual([429, 202]);
  });

  it('a persistent 429 gives up after 3 attempts with TooManyRequests', async () => {
    const token = await microsoftToken(scopes);
    await fault({ provider: 'microsoft', path: '/graph/v1.0/me/events', status: 429, retryAfterSeconds: 7, times: 10 });
    const options = recordedSleep();
    const error = await providerError(
      createMicrosoftClient(options).createCalendarEvent(token, {
        subject: 'Busy',
        start: { dateTime: '2026-01-15T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2026-01-15T11:00:00', timeZone: 'UTC' },
      }),
    );
    expect(error).toMatchObject({ providerId: 'microsoft', code: 'TooManyRequests', status: 429, kind: 'transient', retryAfterSeconds: 7 });
    expect(options.sleeps).toEqual([7_000, 7_000]);
    expect(await requests('microsoft', '/graph/v1.0/me/events')).toHaveLength(3);
  });

  it('a Retry-After beyond the cap is not waited for', async () => {
    const token = await microsoftToken(scopes);
    await fault({ provider: 'microsoft', path: '/graph/v1.0/me/sendMail', status: 429, retryAfterSeconds: 120, times: 1 });
    const options = recordedSleep();
    const error = await providerError(createMicrosoftClient(options).sendEmail(token, mail));
    expect(error).toMatchObject({ code: 'TooManyRequests', retryAfterSeconds: 120 });
    expect(options.sleeps).toEqual([]);
    expect(await requests('microsoft', '/graph/v1.0/me/sendMail')).toHaveLength(1);
  });

  it('a 5xx is retried with backoff and then succeeds', async () => {
    const token = await microsoftToken(scopes);
    await fault({ provider: 'microsoft', path: '/graph/v1.0/teams/', status: 500, times: 1 });
    const options = recordedSleep({ random: () => 0.5 });
    await createMicrosoftClient(options).sendChannelMessage(token, 'team-1', 'channel-1', 'retry me');
    expect(options.sleeps).toEqual([100]);
    expect((await requests('microsoft')).map((request) => request.status).slice(-2)).toEqual([500, 201]);
  });

  it('a bad token is 401 InvalidAuthenticationToken, kind unauthorized', async () => {
    const error = await providerError(microsoftClient.sendEmail('not-a-token', mail));
    expect(error).toMatchObject({ code: 'InvalidAuthenticationToken', status: 401, kind: 'unauthorized' });
  });

  it('a missing permission is 403 Authorization_RequestDenied, rejected and called once', async () => {
    const token = await microsoftToken(['Calendars.ReadWrite']);
    const error = await providerError(createMicrosoftClient(recordedSleep()).sendEmail(token, mail));
    expect(error).toMatchObject({ code: 'Authorization_RequestDenied', status: 403, kind: 'rejected' });
    expect(await requests('microsoft', '/graph/v1.0/me/sendMail')).toHaveLength(1);
  });

  it('a 400 is rejected with Graph’s code and called exactly once', async () => {
    const token = await microsoftToken(scopes);
    const options = recordedSleep();
    const error = await providerError(createMicrosoftClient(options).sendChannelMessage(token, 'team-1', 'channel-1', ''));
    expect(error).toMatchObject({ code: 'BadRequest', status: 400, kind: 'rejected' });
    expect(options.sleeps).toEqual([]);
    expect(await requests('microsoft', '/graph/v1.0/teams/team-1/channels/channel-1/messages')).toHaveLength(1);
  });
});
