import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { IntegrationErasedError, VersionConflictError } from '../domain/errors';
import { integrationRecordSchema, type IntegrationRecord } from '../domain/integration';
import { dynamo, tableName } from './client';
import { keys } from './keys';
import { TABLE } from './table';
import { getLiveItem, isConditionalCheckFailure, queryLivePage, type Item, type Page } from './items';

/** Repository of integration items: one per connection, under the organisation's partition. */

export const newIntegrationId = (): string => `int_${ulid()}`;

const KEY_ATTRIBUTES = ['pk', 'sk', 'routeKey', 'routeSk', 'dueShard', 'dueAt', 'expiresAt'] as const;

function toRecord(item: Item): IntegrationRecord {
  const rest: Item = { ...item };
  for (const attribute of KEY_ATTRIBUTES) delete rest[attribute];
  return integrationRecordSchema.parse(rest);
}

/** Webhook routing: the integration is found by its provider account through the `routing` index. */
const routeAttributes = (record: IntegrationRecord) => ({
  routeKey: keys.accountRoute(record.providerId, record.externalAccountId),
  routeSk: keys.accountRouteSk(record.orgId, record.id),
});

export async function createIntegration(record: IntegrationRecord): Promise<void> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: { pk: keys.org(record.orgId), sk: keys.integration(record.id), ...routeAttributes(record), ...record },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (isConditionalCheckFailure(error)) throw new VersionConflictError(`Integration ${record.id} already exists`);
    throw error;
  }
}

export async function getIntegration(orgId: string, integrationId: string): Promise<IntegrationRecord | undefined> {
  const item = await getLiveItem(keys.org(orgId), keys.integration(integrationId));
  return item ? toRecord(item) : undefined;
}

/** The organisation's integration with this provider account, if any (routing index, eventually consistent). */
export async function findIntegrationByAccount(
  orgId: string,
  providerId: string,
  accountId: string,
): Promise<IntegrationRecord | undefined> {
  const page = await queryLivePage({
    IndexName: TABLE.indexes.routing.name,
    KeyConditionExpression: 'routeKey = :route AND begins_with(routeSk, :org)',
    ExpressionAttributeValues: { ':route': keys.accountRoute(providerId, accountId), ':org': `ORG#${orgId}#` },
  });
  const first = page.items[0];
  return first ? getIntegration(orgId, toRecord(first).id) : undefined;
}

export async function listIntegrations(orgId: string, cursor?: string, limit = 100): Promise<Page<IntegrationRecord>> {
  const page = await queryLivePage(
    {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': keys.integrationPrefix },
      Limit: limit,
    },
    cursor,
  );
  return { ...page, items: page.items.map(toRecord) };
}

/**
 * What a writer may change: the record's fields and item attributes outside
 * the record: `expiresAt` (TTL, epoch seconds), set in the same write that
 * erases, and the due index of scheduled syncs (`syncScheduleAttributes` in
 * ./sync.ts), set by a sync with its outcome.
 */
export type IntegrationChanges = Partial<Omit<IntegrationRecord, 'id' | 'orgId' | 'version' | 'createdAt'>> & {
  expiresAt?: number;
  dueShard?: string;
  dueAt?: string;
  nextSyncAt?: string;
};

/**
 * Optimistic update: succeeds only if the stored version is still the one in
 * `current`, and bumps it. A field set to undefined is removed. Returns the
 * record as stored afterwards. Erasure is a fence: an erased integration is
 * never written again (the version check makes the status read here the
 * stored one), so nothing can un-hide it or take it off its TTL.
 */
export async function updateIntegration(
  current: IntegrationRecord,
  changes: IntegrationChanges,
  now: Date = new Date(),
): Promise<IntegrationRecord> {
  if (current.status === 'erased') throw new IntegrationErasedError(current.id);
  const fields: Item = { ...changes, updatedAt: now.toISOString() };
  const names: Record<string, string> = { '#version': 'version' };
  const values: Record<string, unknown> = { ':expected': current.version, ':one': 1 };
  const sets: string[] = ['#version = #version + :one'];
  const removes: string[] = [];
  Object.entries(fields).forEach(([field, value], index) => {
    names[`#f${index}`] = field;
    if (value === undefined) {
      removes.push(`#f${index}`);
    } else {
      values[`:v${index}`] = value;
      sets.push(`#f${index} = :v${index}`);
    }
  });
  const updateExpression = `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`;
  try {
    const result = await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { pk: keys.org(current.orgId), sk: keys.integration(current.id) },
        UpdateExpression: updateExpression,
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRecord(result.Attributes ?? {});
  } catch (error) {
    if (isConditionalCheckFailure(error)) throw new VersionConflictError();
    throw error;
  }
}

/**
 * Applies `changes` to the latest version, re-reading and retrying when
 * another writer (a sync, a health change) got there first. Undefined when the
 * integration is gone or erased.
 */
export async function updateLatestIntegration(
  orgId: string,
  integrationId: string,
  changes: IntegrationChanges | ((current: IntegrationRecord) => IntegrationChanges),
  attempts = 5,
): Promise<IntegrationRecord | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    const current = await getIntegration(orgId, integrationId);
    if (!current || current.status === 'erased') return undefined;
    try {
      return await updateIntegration(current, typeof changes === 'function' ? changes(current) : changes);
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= attempts) throw error;
    }
  }
}
