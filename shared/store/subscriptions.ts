import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { isConditionalCheckFailure, queryAllLive } from './items';
import { keys } from './keys';
import { dueItems, dueShardOf } from './due';
import { TABLE } from './table';
import { webhookOutcomes, type WebhookOutcome } from './webhook-logs';

/**
 * Push channels (Google), subscriptions (Microsoft Graph), watches (Gmail)
 * and webhooks (Asana, Notion), one item each under the integration. A secret
 * we choose and the provider presents back (Google channel token, Graph
 * clientState) is kept only as a SHA-256 hash, so webhook functions verify
 * without ever holding a secret or the vault. A key the provider chooses and
 * signs deliveries with (Asana's X-Hook-Secret) must be kept as it is: it is
 * `signingKey`, held in the table (encrypted at rest with the table's own
 * KMS key, readable only by the functions' roles), never exported or
 * returned. It is not sealed like tokens because it grants no access to
 * anyone's data: a forged delivery can only ask for a sync, which re-reads
 * the provider with our token; and sealing it would put the vault into the
 * webhook functions.
 */
export const RENEW_AHEAD_MS = 24 * 60 * 60 * 1000;

export const subscriptionSchema = z.object({
  orgId: z.string(),
  integrationId: z.string(),
  providerId: z.string(),
  /** Routing namespace: `google` (channels), `google-gmail` (by address), `microsoft`. */
  channel: z.string(),
  subscriptionId: z.string(),
  /** What it watches: calendar, drive, gmail, events, onedrive. */
  resource: z.string(),
  /** Provider-side handle needed to stop it (Google resourceId) or its resource path. */
  resourceId: z.string().optional(),
  secretHash: z.string().optional(),
  channelExpiresAt: z.iso.datetime(),
  /** Drive changes page token and similar per-channel cursors. */
  cursor: z.string().optional(),
  /** The provider's own cadence: renew no later than this, even when the channel lasts longer (Gmail daily, Asana's existence check). */
  renewBy: z.iso.datetime().optional(),
  /** The HMAC key the provider signs this channel's deliveries with (Asana X-Hook-Secret); see the top of this file. */
  signingKey: z.string().optional(),
  /** Set while the provider's handshake is pending (Asana). `verification` is no longer written (Notion's step is the operator's pin now); items saved before may still carry it. */
  awaiting: z.enum(['handshake', 'verification']).optional(),
  createdAt: z.iso.datetime(),
  /** Renewals that failed since the last success, and the last one's error code (README "Webhooks"; shown by GET …/webhooks). */
  renewalFailures: z.number().int().positive().optional(),
  lastRenewalError: z.string().optional(),
  /**
   * Delivery stats, kept here rather than derived from the newest logs, so forged traffic cannot push a
   * channel's real deliveries out of view: the last authenticated delivery and what became of it, and the
   * rejected deliveries since then (README "Webhook logs and test events").
   */
  lastDeliveryAt: z.iso.datetime().optional(),
  lastOutcome: z.enum(webhookOutcomes).optional(),
  rejectionsSinceDelivery: z.number().int().nonnegative().optional(),
});

export type SubscriptionRecord = z.infer<typeof subscriptionSchema>;

export { hashSecret } from './secret-hash';

/** Constant-time check of a presented secret against the stored hash. */
export function secretMatches(record: SubscriptionRecord, presented: string | undefined): boolean {
  if (!record.secretHash || presented === undefined) return false;
  const expected = Buffer.from(record.secretHash, 'hex');
  const actual = createHash('sha256').update(presented).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The delivery stats: written by deliveries only (recordChannelDelivery), so saving a channel never resets them. */
const DELIVERY_STATS = new Set<string>(['lastDeliveryAt', 'lastOutcome', 'rejectionsSinceDelivery']);

/**
 * Renewed a day before the channel expires, or at the provider's `renewBy` when that comes first.
 * Everything but the delivery stats is written as given (an absent optional field is removed): a
 * channel's first delivery (Google's `sync`) can arrive before the channel is saved a second time.
 */
export async function saveSubscription(record: SubscriptionRecord): Promise<void> {
  const beforeExpiry = Date.parse(record.channelExpiresAt) - RENEW_AHEAD_MS;
  const renewAt = new Date(record.renewBy === undefined ? beforeExpiry : Math.min(beforeExpiry, Date.parse(record.renewBy))).toISOString();
  const fields: Record<string, unknown> = {
    routeKey: keys.subscriptionRoute(record.channel, record.subscriptionId),
    routeSk: keys.accountRouteSk(record.orgId, record.integrationId),
    dueShard: dueShardOf(`${record.integrationId}#${record.subscriptionId}`),
    dueAt: keys.renewDue(renewAt),
    ...Object.fromEntries(Object.keys(subscriptionSchema.shape).filter((name) => !DELIVERY_STATS.has(name)).map((name) => [name, record[name as keyof SubscriptionRecord]])),
  };
  const set = Object.keys(fields).filter((name) => fields[name] !== undefined);
  const removed = Object.keys(fields).filter((name) => fields[name] === undefined);
  await dynamo().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { pk: keys.org(record.orgId), sk: keys.subscription(record.integrationId, record.subscriptionId) },
      UpdateExpression: `SET ${set.map((name) => `#${name} = :${name}`).join(', ')}${removed.length > 0 ? ` REMOVE ${removed.map((name) => `#${name}`).join(', ')}` : ''}`,
      ExpressionAttributeNames: Object.fromEntries([...set, ...removed].map((name) => [`#${name}`, name])),
      ExpressionAttributeValues: Object.fromEntries(set.map((name) => [`:${name}`, fields[name]])),
    }),
  );
}

export async function deleteSubscription(record: Pick<SubscriptionRecord, 'orgId' | 'integrationId' | 'subscriptionId'>): Promise<void> {
  await dynamo().send(
    new DeleteCommand({ TableName: tableName(), Key: { pk: keys.org(record.orgId), sk: keys.subscription(record.integrationId, record.subscriptionId) } }),
  );
}

/** Read consistently: a check deciding which webhooks to make must see every subscription saved before it. */
export async function subscriptionsOf(orgId: string, integrationId: string): Promise<SubscriptionRecord[]> {
  const items = await queryAllLive({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': keys.subscriptionPrefix(integrationId) },
    ConsistentRead: true,
  });
  return items.map((item) => subscriptionSchema.parse(item));
}

/** The integration's subscriptions with when each is next renewed (the `due` index's time). */
export async function subscriptionsWithRenewalOf(orgId: string, integrationId: string): Promise<Array<{ record: SubscriptionRecord; renewAt?: string }>> {
  const items = await queryAllLive({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': keys.subscriptionPrefix(integrationId) },
  });
  return items.map((item) => {
    const renewAt = typeof item.dueAt === 'string' ? item.dueAt.slice(keys.renewDuePrefix.length) : undefined;
    return renewAt ? { record: subscriptionSchema.parse(item), renewAt } : { record: subscriptionSchema.parse(item) };
  });
}

type SubscriptionRef = Pick<SubscriptionRecord, 'orgId' | 'integrationId' | 'subscriptionId'>;

/**
 * One conditional update of a subscription's item; false when the condition
 * does not hold (by default: the subscription is gone, and is left alone).
 */
async function updateSubscription(
  ref: SubscriptionRef,
  update: { set: string; condition?: string; values: Record<string, unknown> },
): Promise<boolean> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { pk: keys.org(ref.orgId), sk: keys.subscription(ref.integrationId, ref.subscriptionId) },
        UpdateExpression: update.set,
        ConditionExpression: update.condition ?? 'attribute_exists(pk)',
        ExpressionAttributeValues: update.values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/** Counts a failed renewal on the subscription, leaving its renewal time as it is (it stays due). */
export async function recordRenewalFailure(record: SubscriptionRecord, errorCode: string): Promise<void> {
  await updateSubscription(record, {
    set: 'SET renewalFailures = if_not_exists(renewalFailures, :zero) + :one, lastRenewalError = :code',
    values: { ':zero': 0, ':one': 1, ':code': errorCode },
  });
}

/**
 * Counts a delivery on its channel: an authenticated one becomes the last delivery (and ends the run of
 * rejections), a rejected one adds to that run. One write; a channel that is gone is left alone.
 */
export async function recordChannelDelivery(ref: SubscriptionRef, outcome: WebhookOutcome, at: Date): Promise<void> {
  await updateSubscription(
    ref,
    outcome === 'rejected'
      ? { set: 'SET rejectionsSinceDelivery = if_not_exists(rejectionsSinceDelivery, :zero) + :one', values: { ':zero': 0, ':one': 1 } }
      : { set: 'SET lastDeliveryAt = :at, lastOutcome = :outcome, rejectionsSinceDelivery = :zero', values: { ':zero': 0, ':at': at.toISOString(), ':outcome': outcome } },
  );
}

/**
 * Keeps the key a provider chose for a subscription during its handshake
 * (Asana's X-Hook-Secret), once: only while the subscription still awaits
 * it. False when it no longer does (a second handshake for it is refused).
 */
export function completeHandshake(record: SubscriptionRef, signingKey: string): Promise<boolean> {
  return updateSubscription(record, {
    set: 'SET signingKey = :key REMOVE awaiting',
    condition: 'awaiting = :handshake',
    values: { ':key': signingKey, ':handshake': 'handshake' },
  });
}

/** The subscription a notification names, through the routing index. */
export async function findSubscription(channel: string, subscriptionId: string): Promise<SubscriptionRecord | undefined> {
  const items = await queryAllLive({
    IndexName: TABLE.indexes.routing.name,
    KeyConditionExpression: 'routeKey = :route',
    ExpressionAttributeValues: { ':route': keys.subscriptionRoute(channel, subscriptionId) },
  });
  const parsed = items[0] ? subscriptionSchema.safeParse(items[0]) : undefined;
  return parsed?.success ? parsed.data : undefined;
}

/**
 * A subscription read by its owner, consistently: right after it was written, when the routing
 * index (eventually consistent in DynamoDB) may not have it yet (Asana's handshake arrives while
 * the call that made the webhook is still in flight).
 */
export async function getSubscription(ref: SubscriptionRef): Promise<SubscriptionRecord | undefined> {
  const found = await dynamo().send(
    new GetCommand({ TableName: tableName(), Key: { pk: keys.org(ref.orgId), sk: keys.subscription(ref.integrationId, ref.subscriptionId) }, ConsistentRead: true }),
  );
  const parsed = found.Item ? subscriptionSchema.safeParse(found.Item) : undefined;
  return parsed?.success ? parsed.data : undefined;
}

/** Subscriptions whose renewal time has come. */
export async function subscriptionsDueForRenewal(until: Date): Promise<SubscriptionRecord[]> {
  return (await dueItems(keys.renewDuePrefix, until)).flatMap((item) => {
    const parsed = subscriptionSchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}
