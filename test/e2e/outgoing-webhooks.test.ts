import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../infra/local/jwt';
import { recordIssuedSecret } from '../../infra/local/sandbox/secrets-ledger';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '../support/http-receiver';
import { startLocalProcess, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';
import { verifyStandardWebhook } from '../support/standard-webhooks';

/**
 * Outgoing webhooks through the local runtime: an admin registers a loopback
 * receiver, connecting Slack fans `connected` and `synced` out over the
 * local bus to the delivery function, and the receiver checks each delivery
 * with its own implementation of the Standard Webhooks spec. The runtime's
 * transport is held to loopback targets (`OUTGOING_WEBHOOKS_NETWORK`), and
 * every refused URL here is an IP literal or a name never looked up.
 * (Retries over hours, dead letters and disabling run on the sweep's clock
 * in test/integration/outgoing-webhooks.test.ts.)
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-outgoing-'));
let server: LocalProcess;
let client: ReturnType<typeof runtimeClient>;
let receiver: HttpReceiver;
let jwtSecret = '';
let admin = '';
/** The receiver's answers by path: a list consumed one per request, then 200. */
const answers = new Map<string, number[]>();

const token = (role: string, orgId = 'globex') => mintLocalToken(jwtSecret, { orgId, role, sub: `${role}@${orgId}`, ttlSeconds: 3600 });

interface EndpointView {
  id: string;
  url: string;
  eventTypes: string[];
  status: string;
  secret?: string;
}
interface AttemptView {
  messageId: string;
  eventType: string;
  attempt: number;
  at: string;
  outcome: string;
  statusCode: number | null;
  errorClass: string | null;
  durationMs: number;
  nextAttemptAt: string | null;
  deadLettered: boolean;
}

beforeAll(async () => {
  receiver = await startHttpReceiver((request, response) => {
    response.writeHead(answers.get(request.path)?.shift() ?? 200).end();
  });
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test', OUTGOING_WEBHOOKS_NETWORK: 'loopback-only' });
  client = runtimeClient(server.url);
  jwtSecret = (JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string }).jwtSecret;
  admin = await token('admin');
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const api = <T>(method: string, path: string, body?: unknown, bearer = admin) => client.api<T>(method, path, bearer, body);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const bodyOf = (request: ReceivedRequest) => JSON.parse(request.body) as { type: string; timestamp: string; data: Record<string, unknown> };

describe('outgoing webhooks', () => {
  let endpoint: EndpointView & { secret: string };

  it('an admin registers an endpoint and sees its whsec_ secret once; the list never shows it', async () => {
    const created = await api<EndpointView>('POST', '/api/integrations/event-endpoints', { url: `${receiver.url}/hr-hooks`, eventTypes: ['connected', 'synced'], description: 'HR platform' });
    expect(created.status, created.raw).toBe(201);
    expect(created.data).toMatchObject({ id: expect.stringMatching(/^ep_/), url: `${receiver.url}/hr-hooks`, eventTypes: ['connected', 'synced'], status: 'enabled' });
    expect(created.data.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    endpoint = { ...created.data, secret: created.data.secret ?? '' };
    // The run's log audit searches every captured log line for it.
    recordIssuedSecret(endpoint.secret);

    const listed = await api<{ endpoints: EndpointView[] }>('GET', '/api/integrations/event-endpoints');
    expect(listed.data.endpoints.map((item) => item.id)).toEqual([endpoint.id]);
    expect(listed.raw).not.toContain(endpoint.secret);
    expect(listed.raw).not.toContain('secret');
  });

  it('connecting Slack delivers connected, then synced, signed per the spec; the first answer fails and is logged with its next attempt', async () => {
    answers.set('/hr-hooks', [500]);
    const integrationId = await client.connect('slack', admin);
    const requests = await waitFor('connected and synced deliveries', async () => {
      const got = receiver.received.filter((request) => request.path === '/hr-hooks');
      return got.length >= 2 ? got : undefined;
    });
    const types = requests.map((request) => bodyOf(request).type);
    expect(types.sort()).toEqual(['connected', 'synced']);
    for (const request of requests) {
      verifyStandardWebhook(endpoint.secret, request.headers, request.body, new Date());
      const payload = bodyOf(request);
      expect(payload.data).toMatchObject({ orgId: 'globex', integrationId, providerId: 'slack' });
      expect(Date.parse(payload.timestamp)).not.toBeNaN();
      expect(request.body).not.toMatch(/xox[bpe]-/);
    }

    const log = await waitFor('two attempts in the log', async () => {
      const page = await api<{ deliveries: AttemptView[]; nextCursor: string | null }>('GET', `/api/integrations/event-endpoints/${endpoint.id}/deliveries`);
      return page.data.deliveries.length >= 2 ? page.data.deliveries : undefined;
    });
    const failed = log.find((attempt) => attempt.outcome === 'failed');
    expect(failed).toMatchObject({ attempt: 1, statusCode: 500, errorClass: null, deadLettered: false, nextAttemptAt: expect.any(String) });
    expect(Date.parse(failed?.nextAttemptAt ?? '') - Date.parse(failed?.at ?? '')).toBeGreaterThanOrEqual(24_000);
    expect(log.find((attempt) => attempt.outcome === 'succeeded')).toMatchObject({ attempt: 1, statusCode: 200, nextAttemptAt: null });

    // The retry sweep runs; the failed message is not due for another ~30 s, so nothing is sent twice now.
    const swept = await fetch(`${server.url}/_local/jobs/retry-event-webhooks`, { method: 'POST' });
    expect(swept.status).toBe(200);
    expect(receiver.received.filter((request) => request.path === '/hr-hooks')).toHaveLength(2);

    // Paging: one attempt per page, then the next, then none.
    const first = await api<{ deliveries: AttemptView[]; nextCursor: string | null }>('GET', `/api/integrations/event-endpoints/${endpoint.id}/deliveries?limit=1`);
    expect(first.data.deliveries).toHaveLength(1);
    const second = await api<{ deliveries: AttemptView[] }>('GET', `/api/integrations/event-endpoints/${endpoint.id}/deliveries?limit=1&cursor=${first.data.nextCursor}`);
    expect(second.data.deliveries[0]?.messageId).not.toBe(first.data.deliveries[0]?.messageId);
  });

  it('refuses private-network, metadata and non-loopback URLs at registration with a 400, storing nothing', async () => {
    const refused = [
      'http://10.0.0.1/hooks',
      'http://192.168.1.20/hooks',
      'http://172.16.5.4/hooks',
      'http://100.64.0.1/hooks',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/hooks',
      'http://[::ffff:10.0.0.1]/hooks',
      'http://0.0.0.0/hooks',
      'http://224.0.0.1/hooks',
      'https://internal.example/hooks',
      `http://user:pass@127.0.0.1:${new URL(receiver.url).port}/hooks`,
      'ftp://127.0.0.1/hooks',
    ];
    const answers = await Promise.all(refused.map((url) => api('POST', '/api/integrations/event-endpoints', { url, eventTypes: ['alert'] })));
    for (const [index, answer] of answers.entries()) {
      expect(answer, refused[index]).toMatchObject({ status: 400, success: false, error: { code: 'validation_failed', message: expect.stringMatching(/^url: /) } });
    }
    expect((await api<{ endpoints: EndpointView[] }>('GET', '/api/integrations/event-endpoints')).data.endpoints).toHaveLength(1);
  });

  it('bad input is a 400 envelope; HR may not register, list or delete; another organisation sees a 404', async () => {
    for (const body of [
      {},
      { url: `${receiver.url}/x` },
      { url: `${receiver.url}/x`, eventTypes: [] },
      { url: `${receiver.url}/x`, eventTypes: ['integration.connected'] },
      { url: `${receiver.url}/x`, eventTypes: ['alert', 'alert'] },
      { url: `${receiver.url}/x`, eventTypes: ['alert'], secret: 'whsec_mine' },
      { url: 42, eventTypes: ['alert'] },
      { url: 'not a url', eventTypes: ['alert'] },
    ]) {
      expect(await api('POST', '/api/integrations/event-endpoints', body), JSON.stringify(body)).toMatchObject({ status: 400, success: false, error: { code: 'validation_failed' } });
    }
    expect((await api('DELETE', '/api/integrations/event-endpoints/not-an-id')).status).toBe(400);
    expect((await api('GET', `/api/integrations/event-endpoints/${endpoint.id}/deliveries?limit=0`)).status).toBe(400);
    expect((await api('GET', `/api/integrations/event-endpoints/${endpoint.id}/deliveries?cursor=forged`)).status).toBe(400);

    const hr = await token('hr');
    expect((await api('POST', '/api/integrations/event-endpoints', { url: `${receiver.url}/x`, eventTypes: ['alert'] }, hr)).status).toBe(403);
    expect((await api('GET', '/api/integrations/event-endpoints', undefined, hr)).status).toBe(403);
    expect((await api('DELETE', `/api/integrations/event-endpoints/${endpoint.id}`, undefined, hr)).status).toBe(403);

    const stranger = await token('admin', 'intruder');
    expect((await api('DELETE', `/api/integrations/event-endpoints/${endpoint.id}`, undefined, stranger)).status).toBe(404);
    expect((await api('GET', `/api/integrations/event-endpoints/${endpoint.id}/deliveries`, undefined, stranger)).status).toBe(404);
    expect((await api<{ endpoints: unknown[] }>('GET', '/api/integrations/event-endpoints', undefined, stranger)).data.endpoints).toEqual([]);
  });

  it('the cap of 10 endpoints holds against 30 parallel registrations, every time, and a deletion frees one place', async () => {
    for (const orgId of ['cap-race-1', 'cap-race-2', 'cap-race-3']) {
      const bearer = await token('admin', orgId);
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, index) => api<EndpointView>('POST', '/api/integrations/event-endpoints', { url: `http://127.0.0.1:9/race-${index}`, eventTypes: ['alert'] }, bearer)),
      );
      for (const answer of answers) if (answer.data?.secret) recordIssuedSecret(answer.data.secret);
      expect(answers.map((answer) => answer.status).sort(), orgId).toEqual([...Array<number>(10).fill(201), ...Array<number>(20).fill(409)]);
      const listed = (await api<{ endpoints: EndpointView[] }>('GET', '/api/integrations/event-endpoints', undefined, bearer)).data.endpoints;
      expect(listed).toHaveLength(10);
      expect((await api('DELETE', `/api/integrations/event-endpoints/${listed[0]?.id}`, undefined, bearer)).status).toBe(200);
      const again = await Promise.all(Array.from({ length: 3 }, () => api<EndpointView>('POST', '/api/integrations/event-endpoints', { url: 'http://127.0.0.1:9/again', eventTypes: ['alert'] }, bearer)));
      for (const answer of again) if (answer.data?.secret) recordIssuedSecret(answer.data.secret);
      expect(again.map((answer) => answer.status).sort()).toEqual([201, 409, 409]);
    }
  });

  it('deleting stops deliveries; deleting again is a 404; the secret never reached a log line', async () => {
    expect(await api('DELETE', `/api/integrations/event-endpoints/${endpoint.id}`)).toMatchObject({ status: 200, success: true, data: null });
    expect((await api('DELETE', `/api/integrations/event-endpoints/${endpoint.id}`)).status).toBe(404);
    expect((await api('GET', `/api/integrations/event-endpoints/${endpoint.id}/deliveries`)).status).toBe(404);
    expect(server.output()).not.toContain(endpoint.secret);
    expect(server.output()).not.toContain(endpoint.secret.slice('whsec_'.length));
  });
});
