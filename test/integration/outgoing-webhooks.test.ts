import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordIssuedSecret } from '../../infra/local/sandbox/secrets-ledger';
import { runWithDeadline } from '../../shared/deadline';
import { listOpenAlerts } from '../../shared/domain/alerts';
import { FIRST_ATTEMPTS_TO_SWEEP_AFTER_MS, RETRY_WINDOW_MS, deliverEvent, retryDueDeliveries, retryDelayMs } from '../../shared/outgoing/delivery';
import { MAX_ENDPOINTS_PER_ORG, deliveriesOf, endpointsOf, registerEndpoint, removeEndpoint } from '../../shared/outgoing/endpoints';
import { createMessage, disableEndpoint, noteEndpointOutcome, type OutgoingEventType } from '../../shared/outgoing/store';
import { dueShardOf } from '../../shared/store/due';
import { DUE_SHARDS } from '../../shared/store/table';
import { uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '../support/http-receiver';
import { verifyStandardWebhook } from '../support/standard-webhooks';

/**
 * Outgoing webhooks over days, on the sweep's clock: the rule target and the
 * retry sweep take `now`, as the other sweeps' tests drive them
 * (revokeAbandonedGrants, dispatchDueSyncs), so a day of retries runs in
 * milliseconds. Deliveries go to a loopback receiver and are checked with an
 * independent implementation of the Standard Webhooks spec; the transport is
 * held to loopback targets.
 */
process.env.OUTGOING_WEBHOOKS_NETWORK = 'loopback-only';

let events: Awaited<ReturnType<typeof startTestEventBus>>;
let receiver: HttpReceiver;
/** What the receiver answers, by path: a status, a list consumed one per request (then 200), or a status per request. */
const answers = new Map<string, number | number[] | ((request: ReceivedRequest) => number)>();
/** Paths the receiver never answers (a hanging endpoint: each attempt runs into its timeout). */
const hanging = new Set<string>();

beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
  receiver = await startHttpReceiver((request, response) => {
    if (hanging.has(request.path)) return;
    const planned = answers.get(request.path) ?? 200;
    const status = Array.isArray(planned) ? (planned.shift() ?? 200) : typeof planned === 'function' ? planned(request) : planned;
    response.writeHead(status).end();
  });
});
afterAll(async () => {
  await receiver.close();
  await events.close();
});

const receivedAt = (path: string): ReceivedRequest[] => receiver.received.filter((request) => request.path === path);

function busEvent(type: string, orgId: string, detail: Record<string, unknown>, time = new Date()) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': type,
    source: 'hr.integrations',
    account: '000000000000',
    time: time.toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: { orgId, ...detail },
  };
}

const synced = (orgId: string, time?: Date) =>
  busEvent('integration.synced', orgId, { integrationId: 'int_01J00000000000000000000000', providerId: 'slack', syncId: 'sync_1', trigger: 'scheduled', counts: { users: { created: 1, updated: 0, deleted: 0 } } }, time);

/** Registers a receiver path; the run's log audit then searches every log line for its secret. */
async function endpoint(orgId: string, path: string, eventTypes: OutgoingEventType[] = ['synced', 'alert']) {
  const registered = await registerEndpoint(orgId, { url: `${receiver.url}${path}`, eventTypes });
  recordIssuedSecret(registered.secret);
  return registered;
}

const attemptsOf = async (orgId: string, endpointId: string) => (await deliveriesOf(orgId, endpointId, undefined, 100)).deliveries;

describe('delivery', () => {
  it('signs per Standard Webhooks, sends { type, timestamp, data } with named fields only, once however often EventBridge retries', async () => {
    const orgId = uniqueOrg('outgoing');
    const registered = await endpoint(orgId, '/ok');
    const event = busEvent('integration.synced', orgId, {
      integrationId: 'int_01J00000000000000000000000',
      providerId: 'slack',
      syncId: 'sync_1',
      trigger: 'manual',
      counts: { users: { created: 2, updated: 0, deleted: 0 } },
      accessToken: 'xoxb-must-not-travel',
    });
    const now = new Date();
    expect(await deliverEvent(event, now)).toEqual({ endpoints: 1 });
    expect(await deliverEvent(event, now)).toEqual({ endpoints: 1 });
    const [request, ...more] = receivedAt('/ok');
    expect(more).toEqual([]);
    if (!request) throw new Error('nothing delivered');
    const verified = verifyStandardWebhook(registered.secret, request.headers, request.body, now);
    expect(verified.id).toMatch(/^msg_[A-Za-z0-9]+$/);
    expect(JSON.parse(request.body)).toEqual({
      type: 'synced',
      timestamp: event.time,
      data: { orgId, integrationId: 'int_01J00000000000000000000000', providerId: 'slack', syncId: 'sync_1', trigger: 'manual', counts: { users: { created: 2, updated: 0, deleted: 0 } } },
    });
    expect(() => verifyStandardWebhook(registered.secret, request.headers, request.body.replace('manual', 'MANUAL'), now)).toThrow(/no v1 signature/);
    expect(await attemptsOf(orgId, registered.id)).toEqual([
      expect.objectContaining({ messageId: verified.id, eventType: 'synced', attempt: 1, outcome: 'succeeded', statusCode: 200, errorClass: null, nextAttemptAt: null, deadLettered: false }),
    ]);
  });

  it('only to endpoints of the organisation that subscribed to the type', async () => {
    const orgId = uniqueOrg('outgoing');
    await endpoint(orgId, '/alerts-only', ['alert']);
    await endpoint(uniqueOrg('outgoing'), '/other-org', ['synced']);
    expect(await deliverEvent(synced(orgId))).toEqual({ endpoints: 0 });
    expect(await deliverEvent(busEvent('SyncRequested', orgId, { integrationId: 'int_x' }))).toEqual({ endpoints: 0 });
    expect(receivedAt('/alerts-only')).toEqual([]);
    expect(receivedAt('/other-org')).toEqual([]);
  });
});

describe('registration', () => {
  it(`an organisation may register ${MAX_ENDPOINTS_PER_ORG} endpoints; one more is a 409 and stores nothing`, async () => {
    const orgId = uniqueOrg('outgoing');
    await Promise.all(Array.from({ length: MAX_ENDPOINTS_PER_ORG }, (_, index) => endpoint(orgId, `/cap-${index}`, ['alert'])));
    await expect(endpoint(orgId, '/cap-extra', ['alert'])).rejects.toMatchObject({ status: 409, code: 'conflict' });
    expect((await endpointsOf(orgId)).endpoints).toHaveLength(MAX_ENDPOINTS_PER_ORG);
    // Another organisation's count is its own.
    await expect(endpoint(uniqueOrg('outgoing'), '/cap-other', ['alert'])).resolves.toMatchObject({ status: 'enabled' });
  });
});

describe('retries', () => {
  it('a failed attempt is retried with backoff by the sweep, same webhook-id, freshly signed', async () => {
    const orgId = uniqueOrg('outgoing');
    answers.set('/flaky', [500, 503]);
    const registered = await endpoint(orgId, '/flaky');
    const t0 = new Date();
    await deliverEvent(synced(orgId, t0), t0);
    const [first] = await attemptsOf(orgId, registered.id);
    expect(first).toMatchObject({ attempt: 1, outcome: 'failed', statusCode: 500, deadLettered: false });
    const due = Date.parse(first?.nextAttemptAt ?? '');
    expect(due - t0.getTime()).toBeGreaterThanOrEqual(24_000);
    expect(due - t0.getTime()).toBeLessThanOrEqual(37_000);

    // Not due yet: nothing is sent.
    await retryDueDeliveries(new Date(due - 1_000));
    expect(receivedAt('/flaky')).toHaveLength(1);
    await retryDueDeliveries(new Date(due));
    const [second] = await attemptsOf(orgId, registered.id);
    expect(second).toMatchObject({ attempt: 2, outcome: 'failed', statusCode: 503 });
    const third = Date.parse(second?.nextAttemptAt ?? '');
    expect(third - due).toBeGreaterThanOrEqual(96_000);
    await retryDueDeliveries(new Date(third));
    expect((await attemptsOf(orgId, registered.id))[0]).toMatchObject({ attempt: 3, outcome: 'succeeded', statusCode: 200, nextAttemptAt: null });
    await retryDueDeliveries(new Date(third + 3_600_000));
    const requests = receivedAt('/flaky');
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    for (const [index, request] of requests.entries()) {
      verifyStandardWebhook(registered.secret, request.headers, request.body, new Date([t0.getTime(), due, third][index] ?? 0));
    }
    expect((await endpointsOf(orgId)).endpoints[0]).toMatchObject({ status: 'enabled', failingSince: null });
  });

  it('the backoff grows fourfold per attempt, capped at six hours, with ±20% jitter', () => {
    expect([1, 2, 3, 4, 5, 6, 9].map((attempt) => retryDelayMs(attempt, () => 0.5))).toEqual([30_000, 120_000, 480_000, 1_920_000, 7_680_000, 21_600_000, 21_600_000]);
    expect(retryDelayMs(1, () => 0)).toBe(24_000);
    expect(retryDelayMs(1, () => 1)).toBe(36_000);
  });

  it('a network failure is logged by class: a closed port is connection_refused', async () => {
    const orgId = uniqueOrg('outgoing');
    const registered = await registerEndpoint(orgId, { url: 'http://127.0.0.1:9/closed', eventTypes: ['synced'] });
    await deliverEvent(synced(orgId));
    expect((await attemptsOf(orgId, registered.id))[0]).toMatchObject({ outcome: 'failed', statusCode: null, errorClass: 'connection_refused', nextAttemptAt: expect.any(String) });
  });
});

describe('dead letters and disabling', () => {
  it('after 24 hours of failures the message is dead-lettered, the endpoint disabled and the organisation alerted once', async () => {
    const orgId = uniqueOrg('outgoing');
    answers.set('/down', 503);
    const down = await endpoint(orgId, '/down');
    const t0 = new Date();
    await deliverEvent(synced(orgId, t0), t0);
    let now = t0;
    for (let sweep = 0; sweep < 40; sweep += 1) {
      const [latest] = await attemptsOf(orgId, down.id);
      if (!latest?.nextAttemptAt) break;
      now = new Date(latest.nextAttemptAt);
      await retryDueDeliveries(now);
    }
    const log = await attemptsOf(orgId, down.id);
    const last = log[0];
    expect(last).toMatchObject({ outcome: 'failed', statusCode: 503, deadLettered: true, nextAttemptAt: null });
    expect(now.getTime() - t0.getTime()).toBeGreaterThanOrEqual(RETRY_WINDOW_MS);
    expect(log.filter((attempt) => attempt.deadLettered)).toHaveLength(1);
    expect(log.map((attempt) => attempt.attempt)).toEqual(Array.from({ length: log.length }, (_, index) => log.length - index));
    expect(receivedAt('/down')).toHaveLength(log.length);

    const [view] = (await endpointsOf(orgId)).endpoints;
    // Failing since its first attempt: no delivery got through since.
    expect(view).toMatchObject({ id: down.id, status: 'disabled', disabledReason: 'failing', failingSince: log.at(-1)?.at });
    const alerts = (await listOpenAlerts(orgId)).alerts;
    expect(alerts).toEqual([expect.objectContaining({ integrationId: null, kind: `event_endpoint_disabled:${down.id}`, reason: 'event_endpoint_disabled', message: expect.stringContaining(down.id) })]);
    // Alerts are read by hr and managers, endpoints by admins only: the alert names the endpoint by id, never its host.
    expect(JSON.stringify(alerts)).not.toContain(new URL(receiver.url).host);
    const published = events.eventsOfType('integration.alert').filter((event) => (event.detail as { orgId?: string }).orgId === orgId);
    expect(published).toHaveLength(1);

    // A disabled endpoint gets nothing more, and the sweep has nothing left for it.
    await deliverEvent(synced(orgId));
    await retryDueDeliveries(new Date(now.getTime() + 7 * 24 * 3600 * 1000));
    expect(receivedAt('/down')).toHaveLength(log.length);

    // Deleting it resolves its alert; its log goes with it.
    await removeEndpoint(orgId, down.id);
    expect((await listOpenAlerts(orgId)).alerts).toEqual([]);
    await expect(deliveriesOf(orgId, down.id, undefined, 10)).rejects.toMatchObject({ status: 404 });
  });

  it('a dead letter does not disable an endpoint that accepted another delivery within the day', async () => {
    const orgId = uniqueOrg('outgoing');
    const registered = await endpoint(orgId, '/mostly-down');
    answers.set('/mostly-down', 503);
    const t0 = new Date();
    await deliverEvent(synced(orgId, t0), t0);
    // Another event gets through 20 hours later (the endpoint is failing, so through the sweep, which
    // may take the first message first: that one fails and ends the endpoint's turn until the next
    // minute's sweep); the first message still dies at 24 hours.
    const later = new Date(t0.getTime() + 20 * 3600 * 1000);
    answers.set('/mostly-down', (request) => (request.body.includes(later.toISOString()) ? 200 : 503));
    await deliverEvent(synced(orgId, later), later);
    await retryDueDeliveries(later);
    await retryDueDeliveries(new Date(later.getTime() + 60_000));
    expect((await attemptsOf(orgId, registered.id)).filter((attempt) => attempt.outcome === 'succeeded')).toHaveLength(1);
    await retryDueDeliveries(new Date(t0.getTime() + 30 * 3600 * 1000));
    const log = await attemptsOf(orgId, registered.id);
    expect(log.some((attempt) => attempt.deadLettered)).toBe(true);
    expect((await endpointsOf(orgId)).endpoints[0]).toMatchObject({ status: 'enabled' });
    expect((await listOpenAlerts(orgId)).alerts).toEqual([]);
  });

  it('a message still queued when its endpoint is disabled is dropped, never sent', async () => {
    const orgId = uniqueOrg('outgoing');
    answers.set('/disabled-later', [500]);
    const registered = await endpoint(orgId, '/disabled-later');
    const t0 = new Date();
    await deliverEvent(synced(orgId, t0), t0);
    expect(await disableEndpoint(orgId, registered.id, 'failing', t0)).toBe(true);
    await retryDueDeliveries(new Date(t0.getTime() + 3600 * 1000));
    expect(receivedAt('/disabled-later')).toHaveLength(1);
    expect(await attemptsOf(orgId, registered.id)).toHaveLength(1);
  });

  it('a message for an endpoint deleted meanwhile is dropped, never sent', async () => {
    const orgId = uniqueOrg('outgoing');
    answers.set('/deleted', [500]);
    const registered = await endpoint(orgId, '/deleted');
    const t0 = new Date();
    await deliverEvent(synced(orgId, t0), t0);
    await removeEndpoint(orgId, registered.id);
    await retryDueDeliveries(new Date(t0.getTime() + 3600 * 1000));
    expect(receivedAt('/deleted')).toHaveLength(1);
  });
});

describe('fairness', () => {
  it("an endpoint failing for a while gets its first attempts from the sweep, so a hanging receiver never holds the delivery function", async () => {
    const orgId = uniqueOrg('outgoing');
    const registered = await endpoint(orgId, '/failing-first');
    const t0 = new Date();
    await noteEndpointOutcome(orgId, registered.id, false, new Date(t0.getTime() - FIRST_ATTEMPTS_TO_SWEEP_AFTER_MS));
    expect(await deliverEvent(synced(orgId, t0), t0)).toEqual({ endpoints: 1 });
    expect(receivedAt('/failing-first')).toEqual([]);
    await retryDueDeliveries(t0);
    expect(await attemptsOf(orgId, registered.id)).toEqual([expect.objectContaining({ attempt: 1, outcome: 'succeeded' })]);
  });

  it("one hanging endpoint's many due messages in the first shards cost one attempt per sweep; another organisation's message in the last shard is attempted in the same sweep", async () => {
    const noisyOrg = uniqueOrg('outgoing');
    const victimOrg = uniqueOrg('outgoing');
    hanging.add('/hang');
    const hang = await endpoint(noisyOrg, '/hang');
    const victim = await endpoint(victimOrg, '/victim');
    const t0 = new Date();
    /** A pending message of `endpointId` whose event id puts it in one of `shards`. */
    const messageIn = async (orgId: string, endpointId: string, shards: number[]) => {
      let eventId = randomUUID();
      while (!shards.map((shard) => `DUE#${shard}`).includes(dueShardOf(`${endpointId}#${eventId}`))) eventId = randomUUID();
      const body = JSON.stringify({ type: 'alert', timestamp: t0.toISOString(), data: { orgId } });
      await createMessage({ orgId, endpointId, eventId, messageId: `msg_${eventId.replace(/-/g, '')}`, eventType: 'alert', body, createdAt: t0.toISOString(), attempts: 0, status: 'pending' }, t0);
    };
    for (let index = 0; index < 12; index += 1) await messageIn(noisyOrg, hang.id, [0, 1, 2, 3]);
    await messageIn(victimOrg, victim.id, [DUE_SHARDS - 1]);
    // A sweep with time for one attempt's timeout, and not for two in a row.
    await runWithDeadline(16_000, () => retryDueDeliveries(t0));
    expect(receivedAt('/victim')).toHaveLength(1);
    expect(receivedAt('/hang')).toHaveLength(1);
    expect(await attemptsOf(noisyOrg, hang.id)).toEqual([expect.objectContaining({ attempt: 1, errorClass: 'timeout' })]);
    // Nothing more goes to it from later tests' sweeps.
    await removeEndpoint(noisyOrg, hang.id);
  }, 30_000);
});
