import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as callbackHandler } from '../../functions/api/oauth-callback';
import { handler as completeHandler } from '../../functions/api/complete-connection';
import { handler as connectHandler } from '../../functions/api/connect';
import { handler as disconnectHandler } from '../../functions/api/disconnect';
import { handler as eraseHandler } from '../../functions/api/erase-integration';
import { handler as exportHandler } from '../../functions/api/export-integration';
import { handler as actionHandler } from '../../functions/api/run-action';
import { lambdaContext } from '../../infra/local/lambda-events';
import { startSandboxServer, type CalendarEventRecord, type SentEmail, type SlackMessage, type TeamsMessage } from '../../infra/local/sandbox';
import { STALE_CLAIM_MS, claimIdempotencyKey, recordActionRun } from '../../shared/store/actions';
import { dynamo, tableName } from '../../shared/store/client';
import { listIntegrations } from '../../shared/store/integrations';
import { keys } from '../../shared/store/keys';
import { apiEvent, call, claimsFor, uniqueOrg, type ParsedResponse } from '../support/api';
import { startTestEventBus } from '../support/event-bus';
import { submitConsent } from '../support/oauth-browser';

/**
 * Provider actions through the API, in process: the handler against dynalite
 * and the sandbox providers over real HTTP, every effect checked on the
 * sandbox's side.
 */
let sandbox: Awaited<ReturnType<typeof startSandboxServer>>;
let events: Awaited<ReturnType<typeof startTestEventBus>>;

beforeAll(async () => {
  sandbox = await startSandboxServer({ port: 0 });
  events = await startTestEventBus('hr-integrations-test');
  // Set here too: the describe blocks' beforeAll connect before any beforeEach runs.
  process.env.SANDBOX_BASE_URL = sandbox.url;
  for (const name of ['SLACK', 'GOOGLE', 'MICROSOFT']) {
    delete process.env[`${name}_CLIENT_ID`];
    delete process.env[`${name}_CLIENT_SECRET`];
  }
});

beforeEach(() => {
  process.env.SANDBOX_BASE_URL = sandbox.url;
});

afterAll(async () => {
  await sandbox.close();
  await events.close();
});

async function control<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${sandbox.url}/_control/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

const USER = 'user-7';

/** Connects through the handlers and the sandbox's consent page; returns the integration id. */
async function connect(providerId: string, orgId: string, scopes?: string[]): Promise<string> {
  const json = { 'content-type': 'application/json' };
  const started = await call(connectHandler, {
    method: 'POST',
    path: '/api/integrations/connect',
    body: JSON.stringify({ providerId, ...(scopes ? { scopes } : {}) }),
    headers: json,
    claims: claimsFor(orgId, 'hr', USER),
  });
  expect(started.statusCode, started.raw).toBe(200);
  const callbackUrl = new URL(await submitConsent((started.json.data as { url: string }).url, 'allow'));
  const back = await call(callbackHandler, {
    path: callbackUrl.pathname,
    routeKey: 'GET /api/integrations/callback/{providerId}',
    pathParameters: { providerId },
    query: callbackUrl.search.slice(1),
    claims: null,
  });
  const pending = new URL(String(back.headers.location)).searchParams.get('pending') ?? '';
  const completed = await call(completeHandler, {
    method: 'POST',
    path: '/api/integrations/connect/complete',
    body: JSON.stringify({ pending }),
    headers: json,
    claims: claimsFor(orgId, 'hr', USER),
  });
  expect(completed.statusCode, completed.raw).toBe(200);
  const integration = (await listIntegrations(orgId)).items.find((item) => item.providerId === providerId);
  if (!integration) throw new Error('integration was not created');
  return integration.id;
}

interface ActionCall {
  orgId: string;
  integrationId: string;
  action: string;
  input: unknown;
  role?: string;
  idempotencyKey?: string;
}

function runAction({ orgId, integrationId, action, input, role = 'hr', idempotencyKey }: ActionCall): Promise<ParsedResponse> {
  return call(actionHandler, {
    method: 'POST',
    path: `/api/integrations/${integrationId}/actions/${action}`,
    routeKey: 'POST /api/integrations/{id}/actions/{action}',
    pathParameters: { id: integrationId, action },
    body: JSON.stringify(input),
    headers: { 'content-type': 'application/json', ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }) },
    claims: claimsFor(orgId, role, USER),
  });
}

const slackMessages = async () => (await control<{ messages: SlackMessage[] }>('slack/messages')).messages;

describe('slack actions', () => {
  let orgId: string;
  let slackId: string;
  beforeAll(async () => {
    orgId = uniqueOrg('actions-slack');
    slackId = await connect('slack', orgId);
  });

  it('slack.sendMessage posts as the bot and returns the channel and ts', async () => {
    const text = `Welcome aboard ${Math.random()}`;
    const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text } });
    expect(answer.statusCode, answer.raw).toBe(200);
    const data = answer.json.data as { runId: string; action: string; ids: { channel: string; ts: string } };
    expect(data).toMatchObject({ action: 'slack.sendMessage', ids: { channel: expect.stringMatching(/^C/), ts: expect.stringMatching(/^\d+\.\d+$/) } });
    expect((await slackMessages()).filter((message) => message.text === text)).toEqual([
      expect.objectContaining({ channel: data.ids.channel, ts: data.ids.ts, tokenKind: 'bot' }),
    ]);
  });

  it('slack.createChannel creates it; the same name again is 409 name_taken', async () => {
    const name = `onboarding-${Date.now()}`;
    const created = await runAction({ orgId, integrationId: slackId, action: 'slack.createChannel', input: { name } });
    expect(created.statusCode, created.raw).toBe(200);
    expect(created.json.data).toMatchObject({ ids: { channelId: expect.stringMatching(/^C/) }, details: { name } });
    const again = await runAction({ orgId, integrationId: slackId, action: 'slack.createChannel', input: { name } });
    expect(again.statusCode).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('name_taken') });
  });

  it('an unknown channel is 404 channel_not_found', async () => {
    const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#no-such-channel', text: 'hi' } });
    expect(answer.statusCode).toBe(404);
    expect(answer.json.error).toMatchObject({ code: 'not_found', message: expect.stringContaining('channel_not_found') });
  });

  it('an invalid input is 400 validation_failed and reaches no provider', async () => {
    const before = (await slackMessages()).length;
    const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general' } });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('text') });
    const badName = await runAction({ orgId, integrationId: slackId, action: 'slack.createChannel', input: { name: 'Not A Name' } });
    expect(badName.statusCode).toBe(400);
    expect((await slackMessages()).length).toBe(before);
  });

  it("another provider's action and an unknown action are 404; a malformed one is 400", async () => {
    expect((await runAction({ orgId, integrationId: slackId, action: 'google.sendEmail', input: {} })).statusCode).toBe(404);
    expect((await runAction({ orgId, integrationId: slackId, action: 'slack.deleteEverything', input: {} })).statusCode).toBe(404);
    expect((await runAction({ orgId, integrationId: slackId, action: 'not-an-action', input: {} })).statusCode).toBe(400);
  });

  it('a rate limit is 429 with Retry-After', async () => {
    // Beyond the client's 30 s cap, so it is not waited out but answered at once.
    await control('faults', { provider: 'slack', path: '/slack/api/chat.postMessage', status: 429, retryAfterSeconds: 120, times: 1 });
    const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text: 'hi' } });
    expect(answer.statusCode).toBe(429);
    expect(answer.headers['retry-after']).toBe('120');
    expect(answer.json.error).toMatchObject({ code: 'rate_limited' });
  });

  it('an Idempotency-Key runs the action once: the retry replays the answer, another body is 409', async () => {
    const key = `welcome-${Math.random()}`;
    const text = `Once only ${Math.random()}`;
    const input = { channel: '#general', text };
    const first = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input, idempotencyKey: key });
    const retry = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { text, channel: '#general' }, idempotencyKey: key });
    expect(first.statusCode, first.raw).toBe(200);
    expect(retry.statusCode).toBe(200);
    expect(retry.json.data).toEqual(first.json.data);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect((await slackMessages()).filter((message) => message.text === text)).toHaveLength(1);

    const other = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text: 'else' }, idempotencyKey: key });
    expect(other.statusCode).toBe(409);
    expect(other.json.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('different request') });
    expect((await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input, idempotencyKey: '' })).statusCode).toBe(400);
  });

  it('concurrent requests with one key: one runs, the other is 409 in progress or the replay', async () => {
    const key = `race-${Math.random()}`;
    const text = `Raced ${Math.random()}`;
    const input = { channel: '#general', text };
    const answers = await Promise.all([0, 1].map(() => runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input, idempotencyKey: key })));
    expect(answers.map((answer) => answer.statusCode)).toContain(200);
    for (const answer of answers.filter((candidate) => candidate.statusCode !== 200)) {
      expect(answer.statusCode).toBe(409);
      expect(answer.json.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('in progress') });
    }
    expect((await slackMessages()).filter((message) => message.text === text)).toHaveLength(1);
  });

  it('a send that got no answer in time is not sent again: 503, one message, and the key stays held', async () => {
    const key = `unanswered-${Math.random()}`;
    const input = { channel: '#general', text: `Slow ${Math.random()}` };
    // Slack takes 3 s; the function has 3 s in all, so the call gives up after about 2 s.
    await control('faults', { provider: 'slack', path: '/slack/api/chat.postMessage', delayMs: 3_000, times: 1 });
    const event = apiEvent({
      method: 'POST',
      path: `/api/integrations/${slackId}/actions/slack.sendMessage`,
      routeKey: 'POST /api/integrations/{id}/actions/{action}',
      pathParameters: { id: slackId, action: 'slack.sendMessage' },
      body: JSON.stringify(input),
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      claims: claimsFor(orgId, 'hr', USER),
    });
    const answer = (await actionHandler(event, lambdaContext('run-action', 3))) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the slow call lands at the provider
    expect((await slackMessages()).filter((message) => message.text === input.text)).toHaveLength(1);
    const retry = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input, idempotencyKey: key });
    expect(retry.statusCode).toBe(409);
    expect((await slackMessages()).filter((message) => message.text === input.text)).toHaveLength(1);
  });

  describe('a key whose first request is still held', () => {
    // The request's fingerprint: the action and its input as canonical JSON (keys sorted), hashed.
    const fingerprint = (input: Record<string, string>) =>
      createHash('sha256').update(`slack.sendMessage\n{${Object.keys(input).sort().map((name) => `${JSON.stringify(name)}:${JSON.stringify(input[name])}`).join(',')}}`).digest('base64url');
    const hold = (key: string, input: Record<string, string>, startedAt: Date) =>
      claimIdempotencyKey({ orgId, integrationId: slackId, key, runId: 'first-run', fingerprint: fingerprint(input), now: startedAt });

    it('is 409 in progress while the first request runs, and nothing is sent twice', async () => {
      const key = `held-${Math.random()}`;
      const input = { channel: '#general', text: `Held ${Math.random()}` };
      expect(await hold(key, input, new Date())).toEqual({ claimed: true });
      const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input, idempotencyKey: key });
      expect(answer.statusCode).toBe(409);
      expect(answer.json.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('in progress') });
      expect((await slackMessages()).filter((message) => message.text === input.text)).toHaveLength(0);
    });

    it('is taken over when the first request stopped two minutes ago (its function died)', async () => {
      const key = `stale-${Math.random()}`;
      const input = { channel: '#general', text: `Taken over ${Math.random()}` };
      expect(await hold(key, input, new Date(Date.now() - STALE_CLAIM_MS - 1_000))).toEqual({ claimed: true });
      const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input, idempotencyKey: key });
      expect(answer.statusCode).toBe(200);
      expect((await slackMessages()).filter((message) => message.text === input.text)).toHaveLength(1);
    });
  });

  it("each run is in the integration's export, without the message", async () => {
    const text = `Exported? ${Math.random()}`;
    await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text } });
    // The export comes section by section (integration, consents, …, actions): follow the cursor.
    const items: Array<{ type: string; data: Record<string, unknown> }> = [];
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ParsedResponse = await call(exportHandler, {
        path: `/api/integrations/${slackId}/export`,
        routeKey: 'GET /api/integrations/{id}/export',
        pathParameters: { id: slackId },
        ...(cursor === null ? {} : { query: `cursor=${encodeURIComponent(cursor)}` }),
        claims: claimsFor(orgId, 'admin'),
      });
      expect(page.statusCode, page.raw).toBe(200);
      const data = page.json.data as { items: typeof items; nextCursor: string | null };
      items.push(...data.items);
      pages.push(page.raw);
      cursor = data.nextCursor;
    } while (cursor !== null);
    const actions = items.filter((item) => item.type === 'action');
    expect(actions.length).toBeGreaterThanOrEqual(5);
    expect(actions).toContainEqual(
      expect.objectContaining({ data: expect.objectContaining({ action: 'slack.sendMessage', userId: USER, outcome: 'succeeded', resultIds: expect.objectContaining({ ts: expect.any(String) }) }) }),
    );
    expect(actions).toContainEqual(expect.objectContaining({ data: expect.objectContaining({ outcome: 'failed', errorCode: 'channel_not_found' }) }));
    expect(pages.join('\n')).not.toContain(text);
  });

  it("a manager and an employee are 403; another organisation's admin is 404", async () => {
    for (const role of ['manager', 'employee']) {
      const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text: 'hi' }, role });
      expect(answer.statusCode, role).toBe(403);
    }
    const stranger = await runAction({ orgId: uniqueOrg('stranger'), integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text: 'hi' }, role: 'admin' });
    expect(stranger.statusCode).toBe(404);
  });
});

describe('grants and lifecycle', () => {
  it('a grant without the scope is 403 naming the scope', async () => {
    const orgId = uniqueOrg('actions-scope');
    const slackId = await connect('slack', orgId, ['channels:read', 'users:read']);
    const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text: 'hi' } });
    expect(answer.statusCode, answer.raw).toBe(403);
    expect(answer.json.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('chat:write') });
  });

  it('a Google grant without gmail.send is 403 naming it', async () => {
    const orgId = uniqueOrg('actions-google-scope');
    const googleId = await connect('google', orgId, ['https://www.googleapis.com/auth/calendar.events']);
    const answer = await runAction({ orgId, integrationId: googleId, action: 'google.sendEmail', input: { to: 'a@example.com', subject: 'Hi', body: 'Hello' } });
    expect(answer.statusCode, answer.raw).toBe(403);
    expect(answer.json.error?.message).toContain('https://www.googleapis.com/auth/gmail.send');
  });

  it('a Microsoft grant without Mail.Send is 403 naming it, and nothing is sent', async () => {
    const orgId = uniqueOrg('actions-microsoft-scope');
    const microsoftId = await connect('microsoft', orgId, ['openid', 'offline_access', 'User.Read', 'Calendars.ReadWrite']);
    const subject = `Unsent ${Math.random()}`;
    const answer = await runAction({ orgId, integrationId: microsoftId, action: 'microsoft.sendEmail', input: { to: 'a@contoso.test', subject, body: 'Hello' } });
    expect(answer.statusCode, answer.raw).toBe(403);
    expect(answer.json.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('Mail.Send') });
    const { emails } = await control<{ emails: SentEmail[] }>('emails?provider=microsoft');
    expect(emails.filter((email) => email.subject === subject)).toHaveLength(0);
  });

  it('an access token the provider no longer accepts is refreshed once and the action runs', async () => {
    const orgId = uniqueOrg('actions-refresh');
    const slackId = await connect('slack', orgId);
    await control('expire', { provider: 'slack' });
    const refreshes = async () =>
      (await control<{ requests: Array<{ path: string; body: unknown }> }>('requests?provider=slack')).requests.filter(
        (request) => request.path.endsWith('oauth.v2.access') && JSON.stringify(request.body ?? '').includes('refresh_token'),
      ).length;
    const before = await refreshes();
    const text = `After refresh ${Math.random()}`;
    const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text } });
    expect(answer.statusCode, answer.raw).toBe(200);
    expect((await slackMessages()).filter((message) => message.text === text)).toHaveLength(1);
    expect(await refreshes()).toBe(before + 1);
  });

  it('a disconnected integration is 409', async () => {
    const orgId = uniqueOrg('actions-gone');
    const slackId = await connect('slack', orgId);
    const gone = await call(disconnectHandler, {
      method: 'DELETE',
      path: `/api/integrations/${slackId}`,
      routeKey: 'DELETE /api/integrations/{id}',
      pathParameters: { id: slackId },
      claims: claimsFor(orgId, 'admin'),
    });
    expect(gone.statusCode).toBe(200);
    const answer = await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text: 'hi' } });
    expect(answer.statusCode).toBe(409);
    expect(answer.json.error).toMatchObject({ code: 'conflict' });
  });
});

describe('erasure', () => {
  it("erasure removes the integration's action runs, and a run that ends after it is on the same purge clock", async () => {
    const orgId = uniqueOrg('actions-erased');
    const slackId = await connect('slack', orgId);
    expect((await runAction({ orgId, integrationId: slackId, action: 'slack.sendMessage', input: { channel: '#general', text: 'hi' } })).statusCode).toBe(200);
    const erased = await call(eraseHandler, {
      method: 'DELETE',
      path: `/api/integrations/${slackId}/data`,
      routeKey: 'DELETE /api/integrations/{id}/data',
      pathParameters: { id: slackId },
      claims: claimsFor(orgId, 'admin'),
    });
    expect(erased.statusCode, erased.raw).toBe(202);
    expect((erased.json.data as { removes: { actions: number } }).removes.actions).toBe(1);

    // A run that was under way when the integration was erased records itself afterwards.
    const at = new Date().toISOString();
    await recordActionRun(orgId, { runId: 'late', integrationId: slackId, providerId: 'slack', action: 'slack.sendMessage', userId: USER, at, outcome: 'succeeded', resultIds: {} });
    const { Item: late } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: { pk: keys.org(orgId), sk: keys.actionRun(slackId, at, 'late') } }));
    const purgeAt = Date.parse((erased.json.data as { purgeAt: string }).purgeAt) / 1000;
    expect(late?.expiresAt).toBe(Math.floor(purgeAt));
  });
});

describe('google and microsoft actions', () => {
  it('google.createCalendarEvent and google.sendEmail', async () => {
    const orgId = uniqueOrg('actions-google');
    const googleId = await connect('google', orgId);
    const summary = `Onboarding ${Math.random()}`;
    const event = await runAction({
      orgId,
      integrationId: googleId,
      action: 'google.createCalendarEvent',
      input: { summary, start: { dateTime: '2026-12-07T09:00:00Z' }, end: { dateTime: '2026-12-07T09:30:00Z' }, attendees: [{ email: 'new.hire@example.com' }] },
    });
    expect(event.statusCode, event.raw).toBe(200);
    const eventId = (event.json.data as { ids: { eventId: string } }).ids.eventId;
    const { events: calendar } = await control<{ events: CalendarEventRecord[] }>('calendar/events?provider=google');
    expect(calendar.find((record) => record.id === eventId)?.event).toMatchObject({ summary });

    const subject = `Welcome ${Math.random()}`;
    const mail = await runAction({ orgId, integrationId: googleId, action: 'google.sendEmail', input: { to: 'new.hire@example.com', subject, body: 'See you Monday' } });
    expect(mail.statusCode, mail.raw).toBe(200);
    expect(mail.json.data).toMatchObject({ ids: { messageId: expect.any(String), threadId: expect.any(String) } });
    const { emails } = await control<{ emails: SentEmail[] }>('emails?provider=google');
    expect(emails.filter((email) => email.subject === subject)).toEqual([expect.objectContaining({ to: ['new.hire@example.com'] })]);
  });

  it('microsoft.createCalendarEvent, microsoft.sendEmail and microsoft.sendChannelMessage', async () => {
    const orgId = uniqueOrg('actions-microsoft');
    const microsoftId = await connect('microsoft', orgId);
    const subject = `Onboarding ${Math.random()}`;
    const event = await runAction({
      orgId,
      integrationId: microsoftId,
      action: 'microsoft.createCalendarEvent',
      input: { subject, start: { dateTime: '2026-12-07T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-07T09:30:00', timeZone: 'UTC' } },
    });
    expect(event.statusCode, event.raw).toBe(200);
    const eventId = (event.json.data as { ids: { eventId: string } }).ids.eventId;
    const { events: calendar } = await control<{ events: CalendarEventRecord[] }>('calendar/events?provider=microsoft');
    expect(calendar.find((record) => record.id === eventId)).toBeDefined();

    const mailSubject = `Welcome ${Math.random()}`;
    const mail = await runAction({ orgId, integrationId: microsoftId, action: 'microsoft.sendEmail', input: { to: ['new.hire@contoso.test'], subject: mailSubject, body: 'See you Monday' } });
    expect(mail.statusCode, mail.raw).toBe(200);
    const { emails } = await control<{ emails: SentEmail[] }>('emails?provider=microsoft');
    expect(emails.filter((email) => email.subject === mailSubject)).toHaveLength(1);

    const content = `Say hello ${Math.random()}`;
    const teamId = '8b081ef6-4792-4def-b2c9-c363a1bf41d5';
    const channelId = '19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2';
    const posted = await runAction({ orgId, integrationId: microsoftId, action: 'microsoft.sendChannelMessage', input: { teamId, channelId, content } });
    expect(posted.statusCode, posted.raw).toBe(200);
    const messageId = (posted.json.data as { ids: { messageId: string } }).ids.messageId;
    const { messages } = await control<{ messages: TeamsMessage[] }>('teams/messages');
    expect(messages.filter((message) => message.content === content)).toEqual([expect.objectContaining({ id: messageId, teamId, channelId })]);
  });
});
