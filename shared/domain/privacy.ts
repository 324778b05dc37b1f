import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { providerName } from '../providers/registry';
import { dynamo, tableName } from '../store/client';
import { actionRunSchema } from '../store/actions';
import { storedAlertSchema } from '../store/alerts';
import { consentRecordSchema } from '../store/consents';
import { itemKeySchema, openCursor, sealCursor } from '../store/cursor';
import { isLive, type Item } from '../store/items';
import { integrationItemPrefixes } from '../store/retention';
import { keys } from '../store/keys';
import { listIntegrations } from '../store/integrations';
import { subscriptionSchema } from '../store/subscriptions';
import { syncLogSchema, syncedRecordSchema } from '../store/sync';
import { webhookLogSchema } from '../store/webhook-logs';
import { InvalidCursorError } from './errors';
import { requireVisibleIntegration } from './lifecycle';
import { integrationIdSchema, integrationRecordSchema, integrationViewSchema, toIntegrationView } from './integration';

/**
 * GDPR access and portability: everything held about an organisation's (or
 * one integration's) integrations, page by page, never a token, secret or
 * key. Erasure lives in `erasure.ts` (it needs the vault to revoke; this
 * does not).
 */
const EXPORT_PAGE_ITEMS = 200;
/** integration, consents, sync logs, records, subscriptions, action runs, webhook logs, open alerts: the first prefixes of `integrationItemPrefixes`. */
const EXPORTED_KINDS = 8;

const exportedItemSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('integration'), data: integrationViewSchema.extend({ settings: integrationRecordSchema.shape.settings.unwrap().nullable() }) }),
  z.object({ type: z.literal('consent'), data: consentRecordSchema }),
  z.object({ type: z.literal('syncLog'), integrationId: integrationIdSchema, data: syncLogSchema }),
  z.object({ type: z.literal('record'), integrationId: integrationIdSchema, data: syncedRecordSchema }),
  z.object({
    type: z.literal('subscription'),
    integrationId: integrationIdSchema,
    data: subscriptionSchema.pick({ providerId: true, resource: true, subscriptionId: true, createdAt: true }).extend({ expiresAt: subscriptionSchema.shape.channelExpiresAt }),
  }),
  z.object({ type: z.literal('action'), integrationId: integrationIdSchema, data: actionRunSchema }),
  z.object({ type: z.literal('webhookLog'), integrationId: integrationIdSchema, data: webhookLogSchema }),
  z.object({ type: z.literal('alert'), integrationId: integrationIdSchema.nullable(), data: storedAlertSchema }),
]);
export type ExportedItem = z.infer<typeof exportedItemSchema>;

/** One page of an export as the API answers it; `nextCursor` is null on the last page. */
export const exportPageSchema = z.object({ items: z.array(exportedItemSchema), nextCursor: z.string().nullable() });

/** What of an item is exported; internal state (tokens, leases, cursors, secret hashes) never is. */
function exported(item: Item, hiddenIntegrations: ReadonlySet<string>): ExportedItem | undefined {
  const sk = String(item.sk ?? '');
  // An organisation's own alerts (an outgoing endpoint disabled) belong to no integration.
  if (sk.startsWith(keys.alert(undefined, ''))) return { type: 'alert', integrationId: null, data: storedAlertSchema.parse(item) };
  const integrationId = /^[A-Z]+#(int_[0-9A-Z]{26})/.exec(sk)?.[1];
  if (!integrationId || hiddenIntegrations.has(integrationId)) return undefined;
  if (sk.startsWith('INT#')) {
    const record = integrationRecordSchema.parse(stripKeys(item));
    return { type: 'integration', data: { ...toIntegrationView(record, providerName(record.providerId)), settings: record.settings ?? null } };
  }
  if (sk.startsWith('CONSENT#')) return { type: 'consent', data: consentRecordSchema.parse(item) };
  if (sk.startsWith('LOG#')) return { type: 'syncLog', integrationId, data: syncLogSchema.parse(item) };
  if (sk.startsWith('REC#')) return { type: 'record', integrationId, data: syncedRecordSchema.parse(item) };
  if (sk.startsWith('ACTION#')) return { type: 'action', integrationId, data: actionRunSchema.parse(item) };
  if (sk.startsWith('WHLOG#')) return { type: 'webhookLog', integrationId, data: webhookLogSchema.parse(item) };
  if (sk.startsWith('ALERT#')) return { type: 'alert', integrationId, data: storedAlertSchema.parse(item) };
  if (sk.startsWith('SUB#')) {
    const sub = subscriptionSchema.parse(item);
    return {
      type: 'subscription',
      integrationId,
      data: { providerId: sub.providerId, resource: sub.resource, subscriptionId: sub.subscriptionId, expiresAt: sub.channelExpiresAt, createdAt: sub.createdAt },
    };
  }
  return undefined;
}

const KEY_ATTRIBUTES = ['pk', 'sk', 'routeKey', 'routeSk', 'dueShard', 'dueAt', 'expiresAt'];
function stripKeys(item: Item): Item {
  const rest: Item = { ...item };
  for (const attribute of KEY_ATTRIBUTES) delete rest[attribute];
  return rest;
}

async function erasedIntegrationIds(orgId: string): Promise<Set<string>> {
  const hidden = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await listIntegrations(orgId, cursor);
    for (const integration of page.items) if (integration.status === 'erased') hidden.add(integration.id);
    cursor = page.nextCursor;
  } while (cursor);
  return hidden;
}

const exportCursorSchema = z.object({ section: z.number().int().min(0), key: itemKeySchema.optional() }).strict();

/**
 * An export cursor is sealed to this organisation's export (or this
 * integration's); the section and the key within it are its sealed content,
 * and they determine the query it continues.
 */
const exportBinding = (orgId: string, integrationId: string | undefined) => ({
  purpose: 'export',
  table: tableName(),
  partition: keys.org(orgId),
  integrationId: integrationId ?? null,
});

/**
 * One page of the organisation's data, or of one integration's; `nextCursor`
 * continues it. An integration's items are read kind by kind (sort-key
 * prefixes), the organisation's in one pass over its partition.
 */
export async function exportPage(orgId: string, integrationId: string | undefined, cursor: string | undefined) {
  if (integrationId) {
    await requireVisibleIntegration(orgId, integrationId);
  }
  const binding = exportBinding(orgId, integrationId);
  const { section, key } = cursor === undefined ? { section: 0, key: undefined } : await openCursor(binding, cursor, exportCursorSchema);
  // The integration's exportable kinds; the organisation's whole partition is one section.
  const prefixes = integrationId ? integrationItemPrefixes(integrationId).slice(0, EXPORTED_KINDS) : [''];
  const prefix = prefixes[section];
  if (prefix === undefined) throw new InvalidCursorError();

  const hidden = integrationId ? new Set<string>() : await erasedIntegrationIds(orgId);
  const result = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.org(orgId), ...(prefix ? { ':prefix': prefix } : {}) },
      ExclusiveStartKey: key,
      Limit: EXPORT_PAGE_ITEMS,
    }),
  );
  const items = (result.Items ?? []).filter((item) => isLive(item)).flatMap((item) => {
    const entry = exported(item, hidden);
    return entry ? [entry] : [];
  });
  const next = result.LastEvaluatedKey
    ? { section, key: result.LastEvaluatedKey }
    : section + 1 < prefixes.length
      ? { section: section + 1 }
      : undefined;
  return { items, nextCursor: next ? await sealCursor(binding, next) : null };
}
