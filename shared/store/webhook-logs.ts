/**
 * Webhook delivery logs: what each delivery attributed to an integration was
 * and what became of it, newest first, for 30 days (TTL). They say what
 * happened, never what was delivered (no message text, no payload).
 */
import { BatchWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { nowEpochSeconds, queryLivePage, type Page } from './items';
import { keys } from './keys';

export const WEBHOOK_LOG_TTL_DAYS = 30;

export const webhookOutcomes = ['accepted', 'duplicate', 'rejected', 'dropped', 'test'] as const;
export type WebhookOutcome = (typeof webhookOutcomes)[number];

export const webhookLogSchema = z.object({
  deliveryId: z.string(),
  integrationId: z.string(),
  providerId: z.string(),
  receivedAt: z.iso.datetime(),
  /** The provider's event type (`message`, `channel_created`), Google's resource state, Graph's change type or lifecycle event. */
  eventType: z.string(),
  outcome: z.enum(webhookOutcomes),
  /** Why a delivery was rejected or dropped (`invalid_channel_token`, `integration_disconnected`…). */
  reason: z.string().optional(),
  /** The push channel or subscription it came through (Google, Microsoft). */
  subscriptionId: z.string().optional(),
  resource: z.string().optional(),
  /** Notifications in the delivery for this integration (Graph batches several). */
  count: z.number().int().positive(),
  /** A test delivery sent through POST …/webhooks/test. */
  test: z.boolean(),
});
export type WebhookLog = z.infer<typeof webhookLogSchema>;
export type WebhookLogEntry = Omit<WebhookLog, 'deliveryId' | 'receivedAt' | 'count' | 'test'> & { orgId: string; count?: number; test?: boolean };

/** BatchWriteItem takes at most 25 items. */
const MAX_BATCH = 25;

/** Writes the delivery's logs in one request (one item per integration it reached; more than 25 only for large Graph batches). */
export async function putWebhookLogs(entries: readonly WebhookLogEntry[], now: Date = new Date()): Promise<void> {
  const receivedAt = now.toISOString();
  const expiresAt = nowEpochSeconds(now) + WEBHOOK_LOG_TTL_DAYS * 86_400;
  const items = entries.map(({ orgId, count, test, ...entry }) => {
    const deliveryId = `dlv_${ulid(now.getTime())}`;
    return {
      pk: keys.org(orgId),
      sk: keys.webhookLog(entry.integrationId, receivedAt, deliveryId),
      ...entry,
      deliveryId,
      receivedAt,
      count: count ?? 1,
      test: test ?? false,
      expiresAt,
    };
  });
  const batches: (typeof items)[] = [];
  for (let start = 0; start < items.length; start += MAX_BATCH) batches.push(items.slice(start, start + MAX_BATCH));
  await Promise.all(
    batches.map(async (batch) => {
      const result = await dynamo().send(
        new BatchWriteCommand({ RequestItems: { [tableName()]: batch.map((Item) => ({ PutRequest: { Item } })) } }),
      );
      const unprocessed = Object.values(result.UnprocessedItems ?? {}).flat().length;
      if (unprocessed > 0) throw new Error(`${unprocessed} webhook log item(s) were not written (throttled)`);
    }),
  );
}

const MINUTE_MS = 60_000;

/**
 * A rejected delivery on a channel (unauthenticated: anyone can send one) is counted into one item per
 * channel and minute rather than written as its own, so forged traffic cannot multiply items or push real
 * deliveries off the first page. The item sorts at the end of its minute and shows the latest rejection.
 */
export async function countRejectedDelivery(entry: WebhookLogEntry & { subscriptionId: string }, now: Date = new Date()): Promise<void> {
  const { orgId, count, test, ...fields } = entry;
  const minuteEnd = new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS - 1);
  const bucket = createHash('sha256').update(`${entry.subscriptionId}#${minuteEnd.getTime()}`).digest('hex').slice(0, 26);
  const deliveryId = `dlv_rejected_${bucket}`;
  const values = { ...fields, deliveryId, receivedAt: now.toISOString(), test: test ?? false, expiresAt: nowEpochSeconds(now) + WEBHOOK_LOG_TTL_DAYS * 86_400 };
  const names = Object.keys(values);
  await dynamo().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { pk: keys.org(orgId), sk: keys.webhookLog(entry.integrationId, minuteEnd.toISOString(), deliveryId) },
      UpdateExpression: `SET ${names.map((_name, index) => `#f${index} = :v${index}`).join(', ')} ADD #count :count`,
      ExpressionAttributeNames: { ...Object.fromEntries(names.map((name, index) => [`#f${index}`, name])), '#count': 'count' },
      ExpressionAttributeValues: { ...Object.fromEntries(Object.values(values).map((value, index) => [`:v${index}`, value])), ':count': count ?? 1 },
    }),
  );
}

/** Newest first; the cursor is sealed to this integration's log query. */
export async function listWebhookLogs(orgId: string, integrationId: string, cursor?: string, limit = 50): Promise<Page<WebhookLog>> {
  const page = await queryLivePage(
    {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': keys.webhookLogPrefix(integrationId) },
      ScanIndexForward: false,
      Limit: limit,
    },
    cursor,
  );
  return { ...page, items: page.items.map((item) => webhookLogSchema.parse(item)) };
}
