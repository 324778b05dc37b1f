/**
 * What an adversarial review found in Notion's token pinning, Asana's daily
 * webhook check and owner-naming target URL, and the sync's single outcome
 * write, against the real local runtime, its sandbox providers and its own
 * table. Each test failed on the code it was written against and keeps the
 * fix; each says the behaviour expected.
 *
 * The in-process parts (a webhook function run directly, the sync engine and
 * a disconnect interleaved) use the runtime's own store: this process's store
 * client is pointed at the dynalite the runtime announces in DATA_DIR.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { InitializeHandler, InitializeHandlerArguments, MetadataBearer } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as asanaWebhook } from '../../functions/webhooks/asana';
import { mintLocalToken } from '../../infra/local/jwt';
import { functionUrlEvent, lambdaContext } from '../../infra/local/lambda-events';
import { disconnectIntegration } from '../../shared/domain/disconnect';
import { dynamo, tableName } from '../../shared/store/client';
import { createIntegration } from '../../shared/store/integrations';
import { keys } from '../../shared/store/keys';
import { subscriptionsOf } from '../../shared/store/subscriptions';
import { scheduleSync } from '../../shared/store/sync';
import { replaceCredentials } from '../../shared/store/tokens';
import { recordTokenCandidate } from '../../shared/store/webhook-verification-tokens';
import { runSync } from '../../shared/sync/engine';
import type { ProviderSync } from '../../shared/sync/types';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';
import { startLocalProcess, userEnvironment, type LocalProcess } from '../support/local-process';
import { follow, submitConsent } from '../support/oauth-browser';
import { runtimeClient } from '../support/runtime-client';
import { waitForSyncLog, type SyncLogView } from '../support/sync-logs';

const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-adversarial-s4-'));
let server: LocalProcess;
let client: ReturnType<typeof runtimeClient>;
let events: Awaited<ReturnType<typeof startTestEventBus>>;
let admin = '';

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test' });
  client = runtimeClient(server.url);
  const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
  admin = await mintLocalToken(jwtSecret, { orgId: 'adversarial-s4', role: 'admin', sub: 'alice', ttlSeconds: 3600 });
  // Before this process's first store call: its store client and table are the runtime's.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = readFileSync(join(dataDir, 'store-endpoint'), 'utf8').trim();
  process.env.TABLE_NAME = 'hr-integrations';
  process.env.SANDBOX_BASE_URL = 'http://127.0.0.1:9/sandbox';
  events = await startTestEventBus('hr-integrations-test');
});
afterAll(async () => {
  await events?.close();
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const api = <T = unknown>(method: string, path: string, body?: unknown) => client.api<T>(method, path, admin, body);
const control = (path: string, body?: unknown) => client.sandbox(path, body);
const webhook = (provider: string, body: string) => fetch(`${server.url}/api/webhooks/${provider}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

async function connectAs(providerId: string, account: string, path = '/api/integrations/connect'): Promise<string> {
  const started = await api<{ url: string }>('POST', path, path.endsWith('/connect') ? { providerId } : {});
  const landing = await follow(await submitConsent(started.data.url, 'allow', account));
  const completed = await api<{ integrationId: string }>('POST', '/api/integrations/connect/complete', { pending: landing.location.searchParams.get('pending') });
  expect(completed.status, completed.raw).toBe(200);
  return completed.data.integrationId;
}
const waitLog = (id: string, match: (log: SyncLogView) => boolean) => waitForSyncLog((path) => api<{ logs: SyncLogView[] }>('GET', path), id, match, 20_000);
async function syncNow(id: string): Promise<SyncLogView> {
  const queued = await api<{ syncId: string }>('POST', `/api/integrations/${id}/sync`);
  return waitLog(id, (log) => log.syncId === queued.data.syncId || (log.covers ?? []).includes(queued.data.syncId));
}

/** The operator's `npm run notion-webhook -- …` on the runtime's DATA_DIR, beside the running runtime. */
async function notionWebhookCommand(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const options = { cwd: join(import.meta.dirname, '..', '..'), env: userEnvironment({ DATA_DIR: dataDir }) };
  try {
    const running = promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/ops/notion-webhook.ts', ...args], options);
    running.child.stdin?.end();
    return { code: 0, ...(await running) };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
const listedTokens = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => line.slice(line.indexOf(' ') + 1));

describe("Notion: the operator's list of verification tokens", () => {
  it('a posted token cannot write control characters or extra lines into `pending` (the operator’s terminal)', async () => {
    // Anyone can post a token. One carrying ESC [8m (conceal) hides every line printed after it — the older,
    // real token — and a newline forges a line of its own. Expected: refused at the webhook (a 4xx), or
    // printed inert; either way every line of `pending` is "<receivedAt> <printable token>".
    expect((await webhook('notion', JSON.stringify({ verification_token: 'secret_spam\u001b[8m\n2026-01-01T00:00:00.000Z secret_forged' }))).status).toBeLessThan(500);
    const pending = await notionWebhookCommand(['pending']);
    expect(pending.code).toBe(0);
    expect(pending.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    for (const line of pending.stdout.split('\n').filter(Boolean)) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [\u0021-\u007e]+$/);
  });

  it('`--since <time to the second>` lists a token received within that second', async () => {
    // The README's flow: `pending --since <the time the subscription was created>`. Notion posts the token within
    // moments, so it is received in the very second given; today it is left out ("No verification token
    // received"), since `…:27Z` sorts after `…:27.083Z` as text.
    const token = `secret_sincewholesecond${Date.now()}`;
    expect((await webhook('notion', JSON.stringify({ verification_token: token }))).status).toBe(200);
    const receivedAt = (await notionWebhookCommand(['pending'])).stdout.split('\n').find((line) => line.endsWith(` ${token}`))?.split(' ')[0] ?? '';
    expect(receivedAt).toMatch(/\.\d{3}Z$/);
    const since = await notionWebhookCommand(['pending', '--since', receivedAt.replace(/\.\d{3}Z$/, 'Z')]);
    expect(listedTokens(since.stdout)).toContain(token);
  });

  it('paging with the `--before` it suggests skips no token received in the same millisecond as the last one listed', async () => {
    // Posts answered by parallel functions share a millisecond (a flood makes it likely). The hint
    // `--before <receivedAt of the last line>` excludes every other token of that millisecond: the real one can
    // fall between two pages and never be listed.
    const shared = new Date(Date.now() - 24 * 60 * 60 * 1000);
    const tokens = ['secret_samemillisecond_a', 'secret_samemillisecond_b'];
    await Promise.all(tokens.map((token) => recordTokenCandidate('notion', token, shared)));
    const window = ['--before', new Date(shared.getTime() + 1).toISOString()];
    const first = await notionWebhookCommand(['pending', '--limit', '1', ...window]);
    const hint = /--before (\S+)/.exec(first.stderr)?.[1];
    expect(hint).toBeDefined();
    const second = await notionWebhookCommand(['pending', '--limit', '1', '--before', hint ?? '']);
    expect([...listedTokens(first.stdout), ...listedTokens(second.stdout)].sort()).toEqual(tokens);
  });
});

describe('Asana webhook: crafted target URL', () => {
  /**
   * DynamoDB refuses a key whose sort key exceeds 1024 bytes of UTF-8 (a ValidationException); dynalite
   * measures UTF-16 code units instead, so locally it never does. This middleware applies DynamoDB's rule.
   */
  const keyLimits = (next: InitializeHandler<object, MetadataBearer>) => async (args: InitializeHandlerArguments<object>) => {
    const key = (args.input as { Key?: Record<string, unknown> }).Key ?? {};
    const text = (value: unknown) => (typeof value === 'string' ? value : ((value as { S?: string } | undefined)?.S ?? ''));
    if (Buffer.byteLength(text(key.sk)) > 1024 || Buffer.byteLength(text(key.pk)) > 2048) {
      throw Object.assign(new Error('One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes'), {
        name: 'ValidationException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return next(args);
  };

  it('multi-byte `org`, `integration` and `subscription` within their 200-character limits are a 401, not a 500', async () => {
    // Each value passes the webhook's length check (200 characters), but `SUB#<integration>#<subscription>`
    // is 1205 bytes: in AWS the item read fails and the delivery is a 500 with an ERROR log. Expected: a 401.
    const long = encodeURIComponent('€'.repeat(200));
    const query = `subscription=${long}&org=${long}&integration=${long}`;
    dynamo().middlewareStack.add(keyLimits, { step: 'initialize', name: 'adversarialS4DynamoKeyLimits' });
    try {
      const request = { method: 'POST', rawPath: '/api/webhooks/asana', rawQueryString: query, body: Buffer.from('{"events":[]}'), sourceIp: '3.4.5.6' };
      const results = await Promise.all(
        ([{ 'x-hook-secret': 'attacker-chosen' }, { 'x-hook-signature': 'a'.repeat(64) }] as Array<Record<string, string>>).map((headers) =>
          asanaWebhook(functionUrlEvent({ ...request, headers: { 'content-type': 'application/json', ...headers } }), lambdaContext('asana-webhook', 10)),
        ),
      );
      expect(results.map((result) => result.statusCode)).toEqual([401, 401]);
    } finally {
      dynamo().middlewareStack.remove('adversarialS4DynamoKeyLimits');
    }
  });
});

describe("Asana's daily webhook check", () => {
  /** The renewal job runs on what is due: the integration's first subscription (by id), which also adds missing webhooks. */
  async function makeFirstDue(integrationId: string) {
    const [first] = (await subscriptionsOf('adversarial-s4', integrationId)).sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId));
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { pk: keys.org('adversarial-s4'), sk: keys.subscription(integrationId, first?.subscriptionId ?? '') },
        UpdateExpression: 'SET dueAt = :due',
        ExpressionAttributeValues: { ':due': keys.renewDue(new Date(Date.now() - 60_000).toISOString()) },
      }),
    );
    return first?.subscriptionId ?? '';
  }
  const renewNow = () => fetch(`${server.url}/_local/jobs/renew-subscriptions`, { method: 'POST' }).then(async (answer) => answer.json() as Promise<{ data: Record<string, number> }>);

  it("a new project whose webhook cannot be made leaves the first project's working channel renewed, not failing", async () => {
    // Creating the new project's webhook fails (three 503s, the client's attempts); the first project's own
    // webhook and project are fine. Today its renewal counts the failure: the channel shows renewal_failing, health
    // degrades to subscription_renewal_failed, and, were the refusal lasting, the channel would lapse and raise a
    // webhook_lapsed alert while its webhook still delivers. Expected: that channel is renewed and stays active.
    const id = await connectAs('asana', 'newproject-refused@sandbox-asana.test');
    const first = await makeFirstDue(id);
    await control('asana/data', { op: 'add', type: 'project', name: 'Refuses a webhook' });
    await control('faults', { provider: 'asana', path: '/app/api/1.0/webhooks', status: 503, times: 3 });
    await renewNow();
    const channels = (await api<{ channels: Array<{ subscriptionId: string; status: string; renewalFailures: number }> }>('GET', `/api/integrations/${id}/webhooks`)).data.channels;
    // Disconnected first, so no later check of this integration runs on the next test's projects.
    expect((await api('DELETE', `/api/integrations/${id}`)).status).toBe(200);
    expect(channels.find((channel) => channel.subscriptionId === first)).toMatchObject({ status: 'active', renewalFailures: 0 });
  }, 30_000);

  it("a user's disconnect is not refused while a check makes webhooks for new projects", async () => {
    // The check holds the integration's lifecycle lease across Asana calls (up to 50 webhook creations, each
    // with its handshake), and a disconnect waits 8 s for that lease before answering 409 "changed at the same
    // time". One slow creation is enough here. Expected: the disconnect goes through (200).
    const id = await connectAs('asana', 'slowcheck@sandbox-asana.test');
    await makeFirstDue(id);
    await control('asana/data', { op: 'add', type: 'project', name: 'Made after the connection' });
    await control('faults', { provider: 'asana', path: '/app/api/1.0/webhooks', delayMs: 10_000, times: 1 });
    const check = renewNow();
    // The disconnect goes once the check is inside the slow creation (holding the lease).
    const creating = async () =>
      ((await control('requests?provider=asana')).requests as Array<{ method: string; path: string; status?: number }>).some(
        (request) => request.method === 'POST' && request.path === '/app/api/1.0/webhooks' && request.status === undefined,
      );
    while (!(await creating())) await new Promise((resolve) => setTimeout(resolve, 50));
    const disconnected = await api('DELETE', `/api/integrations/${id}`);
    await check;
    if (disconnected.status !== 200) await api('DELETE', `/api/integrations/${id}`);
    expect(disconnected.status, disconnected.raw).toBe(200);
  }, 30_000);
});

describe('sync outcome and the alerts and schedule it leaves', () => {
  it('a sync that succeeds after a reconnect resolves the sync_failing alert', async () => {
    // Three failed syncs raise sync_failing; a reconnect makes the integration healthy ("reconnected") without
    // resolving it; the next sync succeeds but resolves nothing, since it started from healthy. The banner then
    // says syncing fails while every sync succeeds, until a disconnect. Expected: no open sync_failing alert.
    const id = await connectAs('slack', 'T0ADVS4ALERT');
    await waitLog(id, (log) => log.trigger === 'initial');
    await control('faults', { provider: 'slack', path: '/slack/api/users.list', status: 503, times: 1_000 });
    const failing = await api<{ syncId: string }>('POST', `/api/integrations/${id}/sync`);
    const alerts = async () => (await api<{ alerts: Array<{ integrationId?: string; kind: string }> }>('GET', '/api/integrations/alerts')).data.alerts.filter((alert) => alert.integrationId === id);
    // Every attempt the bus makes fails (then the event is dead-lettered), so no retry succeeds after the faults go.
    for (let dead = false; !dead; await new Promise((resolve) => setTimeout(resolve, 200))) {
      const { deadLetters } = (await (await fetch(`${server.url}/_local/dead-letters`)).json()) as { deadLetters: Array<{ event: { detail: { syncId?: string } } }> };
      dead = deadLetters.some((letter) => letter.event.detail.syncId === failing.data.syncId);
    }
    await fetch(`${server.url}/sandbox/_control/faults`, { method: 'DELETE' });
    expect((await alerts()).map((alert) => alert.kind)).toContain('sync_failing');
    await connectAs('slack', 'T0ADVS4ALERT', `/api/integrations/${id}/reconnect`);
    expect((await syncNow(id)).outcome).toBe('succeeded');
    expect((await api<{ healthStatus: string }>('GET', `/api/integrations/${id}`)).data.healthStatus).toBe('healthy');
    expect((await alerts()).map((alert) => alert.kind)).not.toContain('sync_failing');
  }, 40_000);

  it('a sync finishing while a disconnect is under way leaves the disconnected integration off the schedule', async () => {
    // recordDisconnect takes the integration off the due index, then records `disconnected`. A sync whose last
    // page lands in between still reads it active and writes its outcome with the next run, so the
    // disconnected integration stays due and the dispatcher requests a sync of it every 15 minutes for good
    // (each skipped). Over HTTP this happened in 5 of 24 timed rounds; here the sync is let through exactly
    // there. Expected: disconnected, with no dueAt.
    const record = integrationRecord(uniqueOrg('adversarial-s4-race'), { providerId: 'slack' });
    await createIntegration(record);
    await replaceCredentials({ orgId: record.orgId, integrationId: record.id, providerId: 'slack' }, [{ kind: 'slack-bot', accessToken: 'xoxb-adversarial', scopes: [] }]);
    await scheduleSync(record.orgId, record.id, new Date(Date.now() + 60_000));
    let pageAsked = () => undefined as void;
    let answerPage = () => undefined as void;
    const asked = new Promise<void>((resolve) => (pageAsked = resolve));
    const answered = new Promise<void>((resolve) => (answerPage = resolve));
    const lastPage: ProviderSync = {
      credentialKind: 'slack-bot',
      resources: {
        users: {
          keepCursorAfterPass: false,
          async pull() {
            pageAsked();
            await answered;
            return { changes: [], cursor: undefined, complete: true };
          },
        },
      },
    };
    const sync = runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual' }, () => lastPage);
    await asked;
    const integrationSk = keys.integration(record.id);
    const between = (next: InitializeHandler<object, MetadataBearer>) => async (args: InitializeHandlerArguments<object>) => {
      const result = await next(args);
      const input = args.input as { UpdateExpression?: string; Key?: { sk?: unknown } };
      const sk = typeof input.Key?.sk === 'string' ? input.Key.sk : (input.Key?.sk as { S?: string } | undefined)?.S;
      if (sk === integrationSk && input.UpdateExpression?.startsWith('REMOVE dueShard')) {
        answerPage();
        await sync;
      }
      return result;
    };
    dynamo().middlewareStack.add(between, { step: 'initialize', name: 'adversarialS4SyncBetweenDisconnectSteps' });
    try {
      await disconnectIntegration({ orgId: record.orgId, userId: 'alice' }, record.id);
    } finally {
      dynamo().middlewareStack.remove('adversarialS4SyncBetweenDisconnectSteps');
    }
    const stored = (await dynamo().send(new GetCommand({ TableName: tableName(), Key: { pk: keys.org(record.orgId), sk: integrationSk }, ConsistentRead: true }))).Item;
    expect(stored?.status).toBe('disconnected');
    expect(stored?.dueAt).toBeUndefined();
  });
});
