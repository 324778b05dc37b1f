/**
 * The daily check of Asana webhooks (the renewal job) against the Asana fake
 * and the real table: projects made after the connection get a webhook whose
 * deliveries are accepted, archived and deleted projects lose theirs, and two
 * checks racing make one webhook per project. The table is this file's own,
 * so the renewal job sees no other file's subscriptions.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import Asana from 'asana';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as z from 'zod';
import { handler as asanaWebhook } from '../../functions/webhooks/asana';
import { ensureTable } from '../../infra/local/embedded-store';
import { functionUrlEvent, lambdaContext, toHttpResponse } from '../../infra/local/lambda-events';
import { SANDBOX_CLIENTS, startSandboxServer, type SandboxServer } from '../../infra/local/sandbox';
import { changeHealth } from '../../shared/domain/health';
import type { IntegrationRecord } from '../../shared/domain/integration';
import { oauthClient } from '../../shared/oauth/clients';
import { ASANA_CREDENTIAL, asanaOAuth } from '../../shared/providers/asana/oauth';
import { asanaSubscriptions, asanaTarget, projectOf } from '../../shared/providers/asana/subscriptions';
import { ASANA_CHANNEL } from '../../shared/providers/asana/webhook';
import { dynamo, tableName } from '../../shared/store/client';
import { keys } from '../../shared/store/keys';
import { createIntegration, getIntegration, updateLatestIntegration } from '../../shared/store/integrations';
import { deleteSubscription, getSubscription, recordRenewalFailure, saveSubscription, subscriptionsOf, type SubscriptionRecord } from '../../shared/store/subscriptions';
import { replaceCredentials } from '../../shared/store/tokens';
import { openSubscriptions, renewDueSubscriptions } from '../../shared/webhooks/subscriptions';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver';
import { submitConsent } from '../support/oauth-browser';
import { PKCE_CHALLENGE, PKCE_VERIFIER } from '../support/sandbox-oauth';

let sandbox: SandboxServer;
let receiver: HttpReceiver;
let events: Awaited<ReturnType<typeof startTestEventBus>>;
let integration: IntegrationRecord;
let accessToken = '';
/** Every subscription the renewal job runs on is due at this time: each run is a full daily check. */
const tomorrow = () => new Date(Date.now() + 36 * 60 * 60 * 1000);

const webhookSchema = z.object({ gid: z.string(), resource: z.object({ gid: z.string() }), deliveries: z.array(z.object({ status: z.number().nullable() })) });

const control = async (path: string, body?: unknown) =>
  (await fetch(`${sandbox.url}/_control/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, unknown>>;
const settle = () => fetch(`${sandbox.url}/_control/deliveries/settle`, { method: 'POST' });
const liveWebhooks = async () => z.array(webhookSchema).parse((await control('asana/webhooks')).webhooks);
const addProject = async (name: string) => z.string().parse((await control('asana/data', { op: 'add', type: 'project', name })).gid);
/** Projects watched, each as often as it has a live webhook at Asana, sorted. */
const watchedAtAsana = async () => (await liveWebhooks()).map((webhook) => webhook.resource.gid).sort();
/** Projects our records watch, each as often as a record names it, sorted; every record carries its handshake key. */
async function watchedByUs() {
  const records = await subscriptionsOf(integration.orgId, integration.id);
  for (const record of records) expect(record).toMatchObject({ signingKey: expect.any(String), resourceId: expect.any(String) });
  return records.map(projectOf).sort();
}

async function sandboxAsanaToken(): Promise<{ access_token: string; refresh_token: string; expires_in: number }> {
  const asana = SANDBOX_CLIENTS.asana;
  const redirect = 'https://app.test/callback';
  const authorize = `${sandbox.url}/asana/app/-/oauth_authorize?${new URLSearchParams({
    client_id: asana.clientId,
    redirect_uri: redirect,
    response_type: 'code',
    state: 's',
    code_challenge: PKCE_CHALLENGE,
    code_challenge_method: 'S256',
    scope: 'users:read workspaces:read projects:read tasks:read webhooks:write',
  })}`;
  const code = new URL(await submitConsent(authorize, 'allow')).searchParams.get('code') ?? '';
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: PKCE_VERIFIER, client_id: asana.clientId, client_secret: asana.clientSecret });
  const answer = await fetch(`${sandbox.url}/asana/app/-/oauth_token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return z.object({ access_token: z.string(), refresh_token: z.string(), expires_in: z.number() }).parse(await answer.json());
}

beforeAll(async () => {
  process.env.TABLE_NAME = `asana-check-${randomUUID().slice(0, 8)}`;
  [sandbox, events] = await Promise.all([startSandboxServer({ host: '127.0.0.1', port: 0 }), startTestEventBus('hr-integrations-test'), ensureTable(inject('dynamoEndpoint'), process.env.TABLE_NAME)]);
  // The Asana webhook function behind HTTP, as its Function URL serves it.
  receiver = await startHttpReceiver((request, response) => {
    const headers = Object.fromEntries(Object.entries(request.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    void asanaWebhook(functionUrlEvent({ method: request.method, rawPath: request.path, rawQueryString: request.query.toString(), headers, body: Buffer.from(request.body), sourceIp: '3.4.5.6' }), lambdaContext('asana-webhook', 10)).then((result) => {
      const answer = toHttpResponse(result);
      response.writeHead(answer.statusCode, answer.headers).end(answer.body);
    });
  });
  process.env.SANDBOX_BASE_URL = sandbox.url;
  process.env.WEBHOOK_URL_ASANA = `${receiver.url}/api/webhooks/asana`;

  const token = await sandboxAsanaToken();
  accessToken = token.access_token;
  integration = integrationRecord(uniqueOrg('asana-check'), { providerId: 'asana' });
  await createIntegration(integration);
  const credential = { kind: ASANA_CREDENTIAL, accessToken, refreshToken: token.refresh_token, expiresAt: new Date(Date.now() + token.expires_in * 1000).toISOString(), scopes: [] };
  await replaceCredentials({ orgId: integration.orgId, integrationId: integration.id, providerId: 'asana' }, [credential]);
  const client = oauthClient('asana', asanaOAuth);
  if (!client) throw new Error('the Asana sandbox client is not configured');
  await openSubscriptions(integration, client, accessToken);
});

afterAll(async () => {
  await Promise.all([sandbox?.close(), receiver?.close(), events?.close()]);
});

describe('the daily check of Asana webhooks', () => {
  const seeded = ['1200000000000101', '1200000000000102'];
  let hires = '';

  it('a project made after the connection gets a webhook; a signed delivery for a task in it is accepted and requests a sync', async () => {
    expect(await watchedByUs()).toEqual(seeded);
    hires = await addProject('Spring hires');
    expect(await renewDueSubscriptions(tomorrow())).toMatchObject({ failed: 0, dropped: 0 });
    expect(await watchedAtAsana()).toEqual([...seeded, hires].sort());
    expect(await watchedByUs()).toEqual([...seeded, hires].sort());

    await control('asana/data', { op: 'add', type: 'task', name: 'Order laptops', project: hires });
    await settle();
    const webhook = (await liveWebhooks()).find((candidate) => candidate.resource.gid === hires);
    expect(webhook?.deliveries.map((delivery) => delivery.status)).toEqual([200]);
    const requested = events.eventsOfType('SyncRequested').map((event) => event.detail as { integrationId?: string; trigger?: string; resource?: string });
    expect(requested).toContainEqual(expect.objectContaining({ integrationId: integration.id, trigger: 'webhook', resource: 'tasks' }));
  });

  it('two checks racing make one webhook per project: for a new project, and for one whose webhook Asana dropped', async () => {
    const payroll = await addProject('Payroll');
    const dropped = (await liveWebhooks()).find((webhook) => webhook.resource.gid === hires);
    const deleted = await fetch(`${sandbox.url}/asana/app/api/1.0/webhooks/${dropped?.gid ?? ''}`, { method: 'DELETE', headers: { authorization: `Bearer ${accessToken}` } });
    expect(deleted.status).toBe(200);
    const runs = await Promise.all([renewDueSubscriptions(tomorrow()), renewDueSubscriptions(tomorrow())]);
    expect(runs.map((run) => run.failed)).toEqual([0, 0]);
    const expected = [...seeded, hires, payroll].sort();
    expect(await watchedAtAsana()).toEqual(expected);
    expect(await watchedByUs()).toEqual(expected);
  });

  it("an archived project's webhook and record go, and a deleted project's; the next check makes none again", async () => {
    const payroll = (await watchedByUs()).find((project) => ![...seeded, hires].includes(project)) ?? '';
    await control('asana/data', { op: 'update', type: 'project', gid: hires, archived: true });
    await control('asana/data', { op: 'delete', type: 'project', gid: payroll });
    // The official SDK reads the archived flag the check relies on.
    const sdk = new Asana.ApiClient();
    sdk.basePath = `${sandbox.url}/asana/app/api/1.0`;
    sdk.authentications.token = { type: 'personalAccessToken', accessToken };
    expect((await new Asana.ProjectsApi(sdk).getProject(hires, {})).data).toMatchObject({ gid: hires, archived: true });

    // The archived project's webhook had been failing to renew: once it is dropped, nothing fails any more.
    const failing = (await subscriptionsOf(integration.orgId, integration.id)).find((record) => projectOf(record) === hires);
    if (!failing) throw new Error('no subscription for the archived project');
    await recordRenewalFailure(failing, 'http_500');
    await changeHealth(integration.orgId, integration.id, { healthStatus: 'degraded', reason: 'subscription_renewal_failed' });

    expect(await renewDueSubscriptions(tomorrow())).toMatchObject({ dropped: 2, failed: 0 });
    expect(await watchedAtAsana()).toEqual(seeded);
    expect(await watchedByUs()).toEqual(seeded);
    expect(await getIntegration(integration.orgId, integration.id)).toMatchObject({ healthStatus: 'healthy', healthReason: 'channel_dropped' });
    expect(await renewDueSubscriptions(tomorrow())).toMatchObject({ renewed: 2, dropped: 0, failed: 0 });
    expect(await watchedAtAsana()).toEqual(seeded);
  });
});

describe('a disconnect while webhooks are being made (the check holds no lifecycle lease)', () => {
  it('the webhooks made meanwhile are deleted at Asana, and their records with them', async () => {
    const before = await watchedAtAsana();
    const disconnecting = integrationRecord(uniqueOrg('asana-check-disconnect'), { providerId: 'asana' });
    await createIntegration(disconnecting);
    // The disconnect lands right after the first subscription is saved, while its webhook is being asked for.
    let disconnected = false;
    const store = {
      save: async (record: SubscriptionRecord) => {
        await saveSubscription(record);
        if (!disconnected) await updateLatestIntegration(disconnecting.orgId, disconnecting.id, { status: 'disconnected' });
        disconnected = true;
      },
      remove: deleteSubscription,
    };
    const client = oauthClient('asana', asanaOAuth);
    if (!client) throw new Error('the Asana sandbox client is not configured');
    const opened = await asanaSubscriptions.open({ client, accessToken, integration: disconnecting, webhookUrl: z.string().parse(process.env.WEBHOOK_URL_ASANA), store });
    expect(opened).toEqual([]);
    expect(await watchedAtAsana()).toEqual(before);
    expect(await subscriptionsOf(disconnecting.orgId, disconnecting.id)).toEqual([]);
  });
});

describe('the handshake, while the routing index lags', () => {
  /** A subscription awaiting its handshake, written as DynamoDB's eventually consistent index may not show it yet: without its routing attributes. */
  async function awaitingOutsideTheIndex(): Promise<SubscriptionRecord> {
    const record: SubscriptionRecord = {
      orgId: integration.orgId,
      integrationId: integration.id,
      providerId: 'asana',
      channel: ASANA_CHANNEL,
      subscriptionId: `1200000000000101-${randomUUID()}`,
      resource: 'tasks',
      awaiting: 'handshake',
      channelExpiresAt: tomorrow().toISOString(),
      createdAt: new Date().toISOString(),
    };
    await dynamo().send(new PutCommand({ TableName: tableName(), Item: { pk: keys.org(record.orgId), sk: keys.subscription(record.integrationId, record.subscriptionId), ...record } }));
    return record;
  }
  const handshake = (url: string) => fetch(url, { method: 'POST', headers: { 'x-hook-secret': 'hook-secret-of-the-test' } });

  it('is kept and echoed: the target URL names the owner, so the webhook reads the item itself, consistently', async () => {
    const record = await awaitingOutsideTheIndex();
    const answer = await handshake(asanaTarget(z.string().parse(process.env.WEBHOOK_URL_ASANA), record));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-hook-secret')).toBe('hook-secret-of-the-test');
    expect(await getSubscription(record)).toMatchObject({ signingKey: 'hook-secret-of-the-test' });
    expect((await getSubscription(record))?.awaiting).toBeUndefined();
  });

  it('names a subscription of another owner, or of another channel: refused', async () => {
    const record = await awaitingOutsideTheIndex();
    const url = new URL(asanaTarget(z.string().parse(process.env.WEBHOOK_URL_ASANA), record));
    url.searchParams.set('integration', 'int_someone_else');
    expect((await handshake(url.toString())).status).toBe(401);
    expect(await getSubscription(record)).toMatchObject({ awaiting: 'handshake' });
  });
});
