import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, tableName } from './client';
import { inBatches } from '../concurrency';
import { getLiveItem, isConditionalCheckFailure, nowEpochSeconds } from './items';
import { keys } from './keys';

/**
 * Retention through the TTL attribute (README "Retention"): erased
 * integrations' data goes 30 days after erasure, disconnected integrations'
 * sync logs 90 days after the disconnect. Reads already ignore expired items;
 * DynamoDB deletes them later (the local runtime's sweeper does it locally).
 */
export const ERASURE_GRACE_DAYS = 30;
export const DISCONNECTED_LOG_RETENTION_DAYS = 90;
const DAY_MS = 86_400_000;

/** Every kind of item an integration owns in its organisation's partition, as sort-key prefixes; the first eight are the exported kinds. */
export const integrationItemPrefixes = (integrationId: string): string[] => [
  `INT#${integrationId}`,
  `CONSENT#${integrationId}#`,
  `LOG#${integrationId}#`,
  `REC#${integrationId}#`,
  `SUB#${integrationId}#`,
  `ACTION#${integrationId}#`,
  keys.webhookLogPrefix(integrationId),
  keys.integrationAlertPrefix(integrationId),
  `CURSOR#${integrationId}#`,
  `SYNCLEASE#${integrationId}`,
  `TOKENS#${integrationId}`,
  `LIFECYCLE#${integrationId}`,
  `IDEMPOTENCY#${integrationId}#`,
];

/** Applies one update to every item under a sort-key prefix of the organisation's partition; returns how many. */
async function updateEachItem(
  orgId: string,
  prefix: string,
  update: { UpdateExpression: string; ExpressionAttributeValues?: Record<string, unknown> },
): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': prefix },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey: startKey,
      }),
    );
    const items = page.Items ?? [];
    count += items.length;
    await inBatches(items, (item) => dynamo().send(new UpdateCommand({ TableName: tableName(), Key: { pk: item.pk, sk: item.sk }, ...update })));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** Sets the TTL on the integration's items (all kinds, or those under `prefixes`); returns how many of each kind. */
export async function expireIntegrationItems(
  orgId: string,
  integrationId: string,
  at: Date,
  prefixes: string[] = integrationItemPrefixes(integrationId),
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const prefix of prefixes) {
    const kind = prefix.split('#')[0] ?? 'OTHER';
    counts[kind] = await updateEachItem(orgId, prefix, {
      // Off every index too: an erased integration is never routed to or scheduled again.
      UpdateExpression: 'SET expiresAt = :at REMOVE routeKey, routeSk, dueShard, dueAt',
      ExpressionAttributeValues: { ':at': nowEpochSeconds(at) },
    });
  }
  return counts;
}

/** A reconnected integration keeps its history: the disconnect's log expiry is lifted. */
export async function retainLogs(orgId: string, integrationId: string): Promise<void> {
  await updateEachItem(orgId, `LOG#${integrationId}#`, { UpdateExpression: 'REMOVE expiresAt' });
}

/** A disconnected integration's sync logs expire 90 days after the disconnect. */
export async function expireDisconnectedLogs(orgId: string, integrationId: string, disconnectedAt: Date): Promise<void> {
  await expireIntegrationItems(orgId, integrationId, new Date(disconnectedAt.getTime() + DISCONNECTED_LOG_RETENTION_DAYS * DAY_MS), [`LOG#${integrationId}#`]);
}

/**
 * The fence for items an integration owns beside its own item (records,
 * cursors, sync logs, subscriptions): without transactions they cannot be
 * written on the condition that the integration is not erased, so a writer
 * checks after writing. Erasure marks the integration before it stamps its
 * items, so whatever a late writer put down is either seen by erasure's walk
 * or seen here, and gets the same purge time. True when erased: stop.
 */
export async function expireIfErased(orgId: string, integrationId: string, sortKeys: string[]): Promise<boolean> {
  const integration = await getLiveItem(keys.org(orgId), keys.integration(integrationId));
  if (integration?.status !== 'erased') return false;
  const purgeAt = typeof integration.purgeAt === 'string' ? new Date(integration.purgeAt) : new Date();
  await inBatches(sortKeys, (sk) =>
    dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { pk: keys.org(orgId), sk },
        UpdateExpression: 'SET expiresAt = :at REMOVE routeKey, routeSk, dueShard, dueAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': nowEpochSeconds(purgeAt) },
      }),
    ).catch((error: unknown) => {
      if (!isConditionalCheckFailure(error)) throw error;
    }),
  );
  return true;
}
