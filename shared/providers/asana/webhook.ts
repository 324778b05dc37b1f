import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { publishEvents } from '../../events/publisher';
import type { ProviderWebhookTest } from '../types';
import { completeHandshake, findSubscription, getSubscription, type SubscriptionRecord } from '../../store/subscriptions';
import { claimDelivery, releaseDelivery } from '../../webhooks/dedupe';
import { recordDeliveries } from '../../webhooks/delivery-log';
import { changeEvents, deliversTo } from '../../webhooks/sync-request';

/**
 * Asana deliveries to `/api/webhooks/asana?subscription=<id>&org=<org>&integration=<id>`.
 *
 * - The owner in the URL lets the webhook read the subscription's own item,
 *   consistently: the handshake arrives while the create call is in flight,
 *   right after the item was written, when the routing index may not have it
 *   yet. (Webhooks made before the owner was in the URL name only the
 *   subscription and are found through the index.)
 * - The handshake (`X-Hook-Secret`, during the create call): kept on the
 *   named subscription if it is still awaiting one, and echoed; otherwise
 *   refused, so nobody can replace a subscription's key later.
 * - Events: `X-Hook-Signature` must be the hex HMAC-SHA256 of the raw body
 *   under that key (constant time), or 401. An empty `events` array is a
 *   heartbeat: 200, nothing else. Otherwise one sync request for the
 *   project's tasks, once per delivery (Asana resends the same body for up
 *   to a day until it gets a 2xx: the body's hash is the dedupe key).
 * - Test events (POST …/webhooks/test): one event of our own action, signed
 *   with the subscription's key like Asana's; verified the same way, then
 *   only logged (no sync).
 */
export const ASANA_CHANNEL = 'asana';
/**
 * Each value of the target query, in bytes of UTF-8: DynamoDB measures keys that way (1024 for the sort key
 * `SUB#<integration>#<subscription>`), so a longer value, ours never, is refused before any read.
 */
const MAX_ID_BYTES = 200;

export const asanaEventsBody = z.object({
  events: z.array(z.looseObject({ action: z.string().max(64), resource: z.looseObject({ gid: z.string().max(64), resource_type: z.string().max(64) }) })).max(1000),
});

export interface AsanaOutcome {
  status: number;
  outcome: string;
  /** The X-Hook-Secret to echo (handshake only). */
  echo?: string;
}

/** Hex HMAC-SHA256 of `rawBody` under `key`, compared in constant time with `signature`. */
export function asanaSignatureMatches(rawBody: Buffer, key: string, signature: string | undefined): boolean {
  if (!signature || !/^[0-9a-f]{64}$/i.test(signature)) return false;
  const expected = createHmac('sha256', key).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/** What the target URL's query names: the subscription, and its owner (absent from older webhooks' URLs). */
export interface AsanaTargetQuery {
  subscription?: string | undefined;
  org?: string | undefined;
  integration?: string | undefined;
}

export const asanaTargetQuery = (record: Pick<SubscriptionRecord, 'orgId' | 'integrationId' | 'subscriptionId'>) => ({
  subscription: record.subscriptionId,
  org: record.orgId,
  integration: record.integrationId,
});

async function subscriptionNamed({ subscription, org, integration }: AsanaTargetQuery): Promise<SubscriptionRecord | undefined> {
  if (!subscription || [subscription, org ?? '', integration ?? ''].some((value) => Buffer.byteLength(value) > MAX_ID_BYTES)) return undefined;
  if (org === undefined || integration === undefined) return findSubscription(ASANA_CHANNEL, subscription);
  const found = await getSubscription({ orgId: org, integrationId: integration, subscriptionId: subscription });
  return found?.channel === ASANA_CHANNEL ? found : undefined;
}

export async function handleAsanaHandshake(target: AsanaTargetQuery, secret: string): Promise<AsanaOutcome> {
  const subscription = await subscriptionNamed(target);
  if (!subscription || secret.length > 256 || !(await completeHandshake(subscription, secret))) return { status: 401, outcome: 'unauthorized' };
  return { status: 200, outcome: 'handshake', echo: secret };
}

export async function handleAsanaEvents(target: AsanaTargetQuery, signature: string | undefined, rawBody: Buffer): Promise<AsanaOutcome> {
  const subscription = await subscriptionNamed(target);
  if (!subscription?.signingKey || !asanaSignatureMatches(rawBody, subscription.signingKey, signature)) {
    if (subscription) await recordDeliveries([{ ...logBase(subscription), eventType: 'events', outcome: 'rejected', reason: 'invalid_signature' }]);
    return { status: 401, outcome: 'unauthorized' };
  }
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { status: 400, outcome: 'bad_request' };
  }
  const body = asanaEventsBody.safeParse(json);
  if (!body.success) return { status: 400, outcome: 'validation_failed' };
  if (body.data.events.length === 0) return { status: 200, outcome: 'heartbeat' };
  if (body.data.events.every((event) => event.action === ASANA_TEST_ACTION)) {
    await recordDeliveries([{ ...logBase(subscription), eventType: ASANA_TEST_ACTION, outcome: 'test', test: true }]);
    return { status: 200, outcome: 'test' };
  }
  const log = { ...logBase(subscription), eventType: body.data.events[0]?.action ?? 'events', count: body.data.events.length };
  if (!(await deliversTo(subscription))) {
    await recordDeliveries([{ ...log, outcome: 'dropped', reason: 'integration_not_connected' }]);
    return { status: 200, outcome: 'dropped' };
  }
  const deliveryId = createHash('sha256').update(rawBody).digest('hex');
  if (!(await claimDelivery('asana', deliveryId))) {
    await recordDeliveries([{ ...log, outcome: 'duplicate' }]);
    return { status: 200, outcome: 'duplicate' };
  }
  try {
    await publishEvents(changeEvents(subscription, { events: body.data.events.length, actions: [...new Set(body.data.events.map((event) => event.action))] }));
  } catch (error) {
    await releaseDelivery('asana', deliveryId);
    throw error;
  }
  await recordDeliveries([{ ...log, outcome: 'accepted' }]);
  return { status: 200, outcome: 'processed' };
}

const logBase = (subscription: SubscriptionRecord) => ({
  orgId: subscription.orgId,
  integrationId: subscription.integrationId,
  providerId: 'asana',
  subscriptionId: subscription.subscriptionId,
  resource: subscription.resource,
});

/** The action of test events; Asana itself never sends it. */
export const ASANA_TEST_ACTION = 'hr_integrations_webhook_test';

/** The test event for POST …/webhooks/test: through the integration's first webhook whose handshake completed. */
export const asanaWebhookTest: ProviderWebhookTest = {
  async build({ subscriptions, testId }) {
    const subscription = subscriptions.find((candidate) => candidate.channel === ASANA_CHANNEL && candidate.signingKey !== undefined);
    if (!subscription?.signingKey) return undefined;
    const body = JSON.stringify({ events: [{ action: ASANA_TEST_ACTION, resource: { gid: testId, resource_type: 'webhook_test' } }] });
    return {
      query: asanaTargetQuery(subscription),
      headers: { 'content-type': 'application/json', 'x-hook-signature': createHmac('sha256', subscription.signingKey).update(body).digest('hex') },
      body,
      subscriptionId: subscription.subscriptionId,
    };
  },
};
