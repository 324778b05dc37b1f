import { createHmac } from 'node:crypto';
import { APIResponseError, Client as NotionClient, collectPaginatedAPI, type DatabaseObjectResponse, type PageObjectResponse } from '@notionhq/client';
import { getResponseHeader } from '@notionhq/client/build/src/errors';
import Asana from 'asana';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import * as z from 'zod';
import { SANDBOX_CLIENTS, startSandboxServer, type SandboxServer } from '../../infra/local/sandbox';
import { NOTION_VERSION } from '../../shared/providers/notion/oauth';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver';
import { submitConsent } from '../support/oauth-browser';

/**
 * The Asana and Notion fakes against the providers' official SDKs (`asana`
 * v3 with its ApiClient's basePath, `@notionhq/client` with `baseUrl`), and
 * their OAuth servers over raw HTTP: what each SDK accepts shows the fakes
 * answer in the providers' shapes, not just in ours.
 */
const PKCE_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const PKCE_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const REDIRECT = 'https://app.test/callback';

let sandbox: SandboxServer;
let receiver: HttpReceiver;
/** How the receiver answers Asana's handshake: echo the secret, or not. */
let echoHookSecret = true;

beforeAll(async () => {
  [sandbox, receiver] = await Promise.all([
    startSandboxServer({ host: '127.0.0.1', port: 0 }),
    startHttpReceiver((request, response) => {
      const secret = request.headers['x-hook-secret'];
      response.writeHead(200, echoHookSecret && typeof secret === 'string' ? { 'x-hook-secret': secret } : {});
      response.end();
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([sandbox?.close(), receiver?.close()]);
});

const url = (path: string) => `${sandbox.url}${path}`;
const form = (fields: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
const control = async (path: string, body?: unknown) =>
  (await fetch(url(`/_control/${path}`), body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, unknown>>;
const settle = () => fetch(url('/_control/deliveries/settle'), { method: 'POST' });

/** Consent with Allow on the fake's page; returns the code. */
async function consent(authorizePath: string, params: Record<string, string>): Promise<string> {
  const location = new URL(await submitConsent(`${url(authorizePath)}?${new URLSearchParams(params)}`, 'allow'));
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code: ${location.toString()}`);
  return code;
}

describe('Asana fake', () => {
  const asana = SANDBOX_CLIENTS.asana;
  const authorize = () =>
    consent('/asana/app/-/oauth_authorize', {
      client_id: asana.clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      state: 's',
      code_challenge: PKCE_CHALLENGE,
      code_challenge_method: 'S256',
      scope: 'users:read projects:read tasks:read tasks:write webhooks:write',
    });
  const exchange = (code: string, extra: Record<string, string> = {}) =>
    fetch(url('/asana/app/-/oauth_token'), form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: PKCE_VERIFIER, client_id: asana.clientId, client_secret: asana.clientSecret, ...extra }));
  let accessToken = '';
  let refreshToken = '';
  const sdk = () => {
    const client = new Asana.ApiClient();
    client.basePath = url('/asana/app/api/1.0');
    client.authentications.token = { type: 'personalAccessToken', accessToken };
    return client;
  };

  it('exchanges a PKCE (RFC 7636 vector) code with the client credentials in the body; a wrong verifier or Basic-only credentials are refused', async () => {
    expect((await exchange(await authorize(), { code_verifier: `${PKCE_VERIFIER.slice(0, -1)}X` })).status).toBe(400);
    const basicOnly = await fetch(url('/asana/app/-/oauth_token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${asana.clientId}:${asana.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: await authorize(), redirect_uri: REDIRECT, code_verifier: PKCE_VERIFIER }),
    });
    expect(basicOnly.status).toBe(400);
    const answer = await exchange(await authorize());
    expect(answer.status).toBe(200);
    const token = (await answer.json()) as { access_token: string; refresh_token: string; expires_in: number; token_type: string; data: { gid: string; email: string } };
    expect(token).toMatchObject({ expires_in: 3600, token_type: 'bearer', data: { email: 'admin@sandbox-asana.test' } });
    accessToken = token.access_token;
    refreshToken = token.refresh_token;
  });

  it('refreshes without rotating: no refresh token in the answer, and the old one still works', async () => {
    const refresh = () => fetch(url('/asana/app/-/oauth_token'), form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: asana.clientId, client_secret: asana.clientSecret }));
    const first = (await (await refresh()).json()) as Record<string, unknown>;
    expect(first.refresh_token).toBeUndefined();
    expect(typeof first.access_token).toBe('string');
    expect((await refresh()).status).toBe(200);
  });

  it('the SDK reads the user, pages through tasks and creates one', async () => {
    const me = await new Asana.UsersApi(sdk()).getUser('me', {});
    expect(me.data.workspaces[0].gid).toBe('1200000000000001');
    const projects = await new Asana.ProjectsApi(sdk()).getProjectsForWorkspace('1200000000000001', {});
    const onboarding = projects.data.find((project: { name: string }) => project.name === 'Onboarding');
    const tasks = new Asana.TasksApi(sdk());
    const first = await tasks.getTasksForProject(onboarding.gid, { limit: 2 });
    expect(first.data).toHaveLength(2);
    const rest = await first.nextPage();
    expect(rest.data.map((task: { name: string }) => task.name)).toEqual(['Welcome lunch']);
    const created = await tasks.createTask({ data: { name: 'Order badge', projects: [onboarding.gid], due_on: '2027-01-15', assignee: 'me' } }, {});
    expect(created.data).toMatchObject({ name: 'Order badge', due_on: '2027-01-15', resource_type: 'task' });
  });

  it('events: the first call is a 412 with a sync token, then the changes since it; invalidated tokens are 412 again', async () => {
    const events = new Asana.EventsApi(sdk());
    const project = '1200000000000101';
    const first = await events.getEvents(project, {}).catch((error: { status: number; response: { body: { sync: string } } }) => error);
    expect(first.status).toBe(412);
    const sync = first.response.body.sync;
    const added = await control('asana/data', { op: 'add', type: 'task', name: 'New hire checklist', project });
    await control('asana/data', { op: 'delete', type: 'task', gid: added.gid });
    const next = await events.getEvents(project, { sync });
    expect(next.data.map((event: { action: string; resource: { gid: string } }) => [event.action, event.resource.gid])).toEqual([
      ['added', added.gid],
      ['deleted', added.gid],
    ]);
    await control('asana/invalidate-sync', {});
    const stale = await events.getEvents(project, { sync: next._response.sync }).catch((error: { status: number }) => error);
    expect(stale.status).toBe(412);
  });

  it('webhooks: the handshake during create, signed deliveries, and a target that does not echo the secret creates nothing', async () => {
    const webhooks = new Asana.WebhooksApi(sdk());
    echoHookSecret = false;
    const refused = await webhooks.createWebhook({ data: { resource: '1200000000000102', target: `${receiver.url}/asana` } }, {}).catch((error: { status: number }) => error);
    expect(refused.status).toBe(400);
    echoHookSecret = true;
    const created = await webhooks.createWebhook({ data: { resource: '1200000000000102', target: `${receiver.url}/asana` } }, {});
    expect(created.data.resource.gid).toBe('1200000000000102');
    const handshake = receiver.received.filter((request) => request.path === '/asana').at(-1);
    const secret = String(handshake?.headers['x-hook-secret']);
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    await control('asana/data', { op: 'update', type: 'task', gid: '1200000000000203', name: 'Screen candidates (round 2)' });
    await settle();
    const delivery = receiver.received.at(-1);
    expect(delivery?.headers['x-hook-signature']).toBe(createHmac('sha256', secret).update(delivery?.body ?? '').digest('hex'));
    expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({ events: [{ action: 'changed', resource: { gid: '1200000000000203' } }] });
  });

  it('revoke takes a refresh token only (200 even when unknown); the grant is then dead', async () => {
    const revoke = (token: string) => fetch(url('/asana/app/-/oauth_revoke'), form({ token, client_id: asana.clientId, client_secret: asana.clientSecret }));
    expect((await revoke(accessToken)).status).toBe(400);
    expect((await revoke('2/1/2:unknown')).status).toBe(200);
    expect((await revoke(refreshToken)).status).toBe(200);
    const after = await new Asana.UsersApi(sdk()).getUser('me', {}).catch((error: { status: number }) => error);
    expect(after.status).toBe(401);
  });

  it('a 429 carries Retry-After in Asana\'s error shape', async () => {
    await control('faults', { provider: 'asana', path: '/app/api/1.0/workspaces', status: 429, retryAfterSeconds: 7, times: 1 });
    const limited = await fetch(url('/asana/app/api/1.0/workspaces'), { headers: { authorization: `Bearer ${accessToken}` } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(((await limited.json()) as { errors: Array<{ message: string }> }).errors[0]?.message).toBeTruthy();
  });
});

describe('Notion fake', () => {
  const notion = SANDBOX_CLIENTS.notion;
  const basic = `Basic ${Buffer.from(`${notion.clientId}:${notion.clientSecret}`).toString('base64')}`;
  const tokenCall = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(url('/notion/api/v1/oauth/token'), { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic, 'notion-version': NOTION_VERSION, ...headers }, body: JSON.stringify(body) });
  const authorize = (owner = 'user') => consent('/notion/api/v1/oauth/authorize', { client_id: notion.clientId, redirect_uri: REDIRECT, response_type: 'code', owner, state: 's' });
  let accessToken = '';
  const sdk = () => new NotionClient({ auth: accessToken, baseUrl: url('/notion/api'), notionVersion: NOTION_VERSION, retry: false });

  it('consent needs owner=user; the token call needs Basic auth, a JSON body and Notion-Version', async () => {
    await expect(authorize('workspace')).rejects.toThrow(/400/);
    const code = await authorize();
    expect((await tokenCall({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, { 'notion-version': '' })).status).toBe(400);
    const inForm = await fetch(url('/notion/api/v1/oauth/token'), { ...form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: notion.clientId, client_secret: notion.clientSecret }), headers: { 'content-type': 'application/x-www-form-urlencoded', 'notion-version': NOTION_VERSION } });
    expect(inForm.status).toBe(401);
    const answer = await tokenCall({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(answer.status).toBe(200);
    const token = (await answer.json()) as { access_token: string; refresh_token: string | null; workspace_id: string; owner: { type: string } };
    expect(token.owner.type).toBe('user');
    expect(token.refresh_token).toMatch(/^nrt_/);
    accessToken = token.access_token;
    // Rotation: the new refresh token works once; the spent one is refused.
    const rotated = (await (await tokenCall({ grant_type: 'refresh_token', refresh_token: token.refresh_token })).json()) as { refresh_token: string; access_token: string };
    expect(rotated.refresh_token).not.toBe(token.refresh_token);
    expect((await tokenCall({ grant_type: 'refresh_token', refresh_token: token.refresh_token })).status).toBe(400);
    accessToken = rotated.access_token;
  });

  it('without refresh tokens (the other documented mode) the answer says null', async () => {
    await control('notion/config', { refreshTokens: 'none' });
    const answer = (await (await tokenCall({ grant_type: 'authorization_code', code: await authorize(), redirect_uri: REDIRECT })).json()) as { refresh_token: string | null };
    expect(answer.refresh_token).toBeNull();
    await control('notion/config', { refreshTokens: 'rotating' });
  });

  it('the SDK searches page by page, creates a page, and sees an invalidated cursor as a validation_error', async () => {
    const client = sdk();
    const first = await client.search({ page_size: 2, sort: { direction: 'descending', timestamp: 'last_edited_time' } });
    expect(first.results).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const rest = await client.search({ page_size: 2, start_cursor: first.next_cursor ?? undefined, sort: { direction: 'descending', timestamp: 'last_edited_time' } });
    expect(rest.results.length).toBeGreaterThan(0);
    const isTopPage = (result: unknown) => z.object({ object: z.literal('page'), parent: z.object({ type: z.literal('workspace') }) }).safeParse(result).success;
    const handbook = [...first.results, ...rest.results].find(isTopPage);
    const page = await client.pages.create({
      parent: { page_id: handbook?.id ?? '' },
      properties: { title: { title: [{ text: { content: 'Welcome, Jane' } }] } },
      children: [{ object: 'block', type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content: 'Start here.' } }] } }],
    });
    expect(page.object).toBe('page');
    await control('notion/invalidate-cursors', {});
    const stale = await client.search({ start_cursor: first.next_cursor ?? undefined }).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(APIResponseError);
    expect((stale as APIResponseError).code).toBe('validation_error');
  });

  it('a 429 reaches the SDK as rate_limited with its Retry-After', async () => {
    await control('faults', { provider: 'notion', path: '/api/v1/search', status: 429, retryAfterSeconds: 3, times: 1 });
    const limited = await sdk().search({}).catch((error: unknown) => error);
    expect((limited as APIResponseError).code).toBe('rate_limited');
    expect(getResponseHeader((limited as APIResponseError).headers, 'retry-after')).toBe('3');
  });

  it('trash reads as in_trash and archived, both booleans as the SDK declares them on pages and databases', async () => {
    type TrashFields = { in_trash: boolean; archived: boolean };
    expectTypeOf<Pick<PageObjectResponse, keyof TrashFields>>().toEqualTypeOf<TrashFields>();
    expectTypeOf<Pick<DatabaseObjectResponse, keyof TrashFields>>().toEqualTypeOf<TrashFields>();
    const added = await Promise.all([control('notion/data', { op: 'add', title: 'Old leave policy' }), control('notion/data', { op: 'add', object: 'database', title: 'Old roster' })]);
    const [page, database] = added.map((object) => object.id as string);
    await Promise.all([control('notion/data', { op: 'trash', id: page }), control('notion/data', { op: 'trash', id: database })]);
    const client = sdk();
    const results = await collectPaginatedAPI((args: { start_cursor?: string }) => client.search(args), {});
    const trashOf = (id: string | undefined) => z.object({ in_trash: z.boolean(), archived: z.boolean() }).parse(results.find((result) => result.id === id)) satisfies TrashFields;
    expect([trashOf(page), trashOf(database)]).toEqual([{ in_trash: true, archived: true }, { in_trash: true, archived: true }]);
    const live = results.find((result) => ![page, database].includes(result.id));
    expect(trashOf(live?.id)).toEqual({ in_trash: false, archived: false });
  });

  it('webhooks: the verification token is posted once, signed with itself; events flow only after the owner verifies it', async () => {
    const subscribed = await control('notion/webhook/subscribe', { url: `${receiver.url}/notion` });
    expect(subscribed.status).toBe(200);
    const verification = receiver.received.filter((request) => request.path === '/notion').at(-1);
    const token = (JSON.parse(verification?.body ?? '{}') as { verification_token: string }).verification_token;
    expect(token).toMatch(/^secret_/);
    const sign = (body: string) => `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;
    expect(verification?.headers['x-notion-signature']).toBe(sign(verification?.body ?? ''));
    const before = await control('notion/data', { op: 'add', title: 'Unverified change' });
    expect(before.delivered).toBeNull();
    expect((await control('notion/webhook/verify', { token: 'secret_wrong' })).verified).toBe(false);
    expect((await control('notion/webhook/verify', { token })).verified).toBe(true);
    const after = await control('notion/data', { op: 'trash', id: before.id });
    expect(after.delivered).toBe(200);
    const event = receiver.received.at(-1);
    expect(event?.headers['x-notion-signature']).toBe(sign(event?.body ?? ''));
    expect(JSON.parse(event?.body ?? '{}')).toMatchObject({ type: 'page.deleted', entity: { id: before.id, type: 'page' }, attempt_number: 1 });
  });
});
