import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { dueShardOf } from './due';
import { isConditionalCheckFailure, nowEpochSeconds, queryLivePage, type Page } from './items';
import { keys } from './keys';

/**
 * Sync state: the per-integration lease, per-resource cursors, synced
 * records (tombstones for deletions) and sync logs.
 */
export const syncKeys = {
  lease: (integrationId: string) => `SYNCLEASE#${integrationId}`,
  cursor: (integrationId: string, resource: string) => `CURSOR#${integrationId}#${resource}`,
  record: (integrationId: string, resource: string, externalId: string) => `REC#${integrationId}#${resource}#${externalId}`,
  recordPrefix: (integrationId: string, resource: string) => `REC#${integrationId}#${resource}#`,
  log: (integrationId: string, startedAt: string, syncId: string) => `LOG#${integrationId}#${startedAt}#${syncId}`,
  logPrefix: (integrationId: string) => `LOG#${integrationId}#`,
  syncDue: (at: string) => `SYNC#${at}`,
  syncDuePrefix: 'SYNC#',
};

// --- lease ---------------------------------------------------------------

/** Takes the integration's sync lease; false (and the request noted as pending) when another sync holds it. */
export async function acquireSyncLease(orgId: string, integrationId: string, owner: string, durationMs: number, now = Date.now()): Promise<boolean> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: { pk: keys.org(orgId), sk: syncKeys.lease(integrationId), owner, until: now + durationMs, acquiredAt: now },
        ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
    // Coalesce: the running sync sees this and makes one more pass.
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { pk: keys.org(orgId), sk: syncKeys.lease(integrationId) },
        UpdateExpression: 'SET pendingAt = :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    return false;
  }
}

/** Releases the lease; returns whether a request arrived after `since` (coalesced into one more pass). */
export async function releaseSyncLease(orgId: string, integrationId: string, owner: string, since: number): Promise<boolean> {
  try {
    const { Attributes } = await dynamo().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: { pk: keys.org(orgId), sk: syncKeys.lease(integrationId) },
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return typeof Attributes?.pendingAt === 'number' && Attributes.pendingAt >= since;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

// --- cursors -------------------------------------------------------------

export async function loadCursor(orgId: string, integrationId: string, resource: string): Promise<string | undefined> {
  const { Item } = await dynamo().send(
    new GetCommand({ TableName: tableName(), Key: { pk: keys.org(orgId), sk: syncKeys.cursor(integrationId, resource) }, ConsistentRead: true }),
  );
  return typeof Item?.cursor === 'string' ? Item.cursor : undefined;
}

export async function saveCursor(orgId: string, integrationId: string, resource: string, cursor: string | undefined): Promise<void> {
  const key = { pk: keys.org(orgId), sk: syncKeys.cursor(integrationId, resource) };
  if (cursor === undefined) {
    await dynamo().send(new DeleteCommand({ TableName: tableName(), Key: key }));
    return;
  }
  await dynamo().send(new PutCommand({ TableName: tableName(), Item: { ...key, cursor, updatedAt: new Date().toISOString() } }));
}

// --- records -------------------------------------------------------------

export const syncedRecordSchema = z.object({
  resource: z.string(),
  externalId: z.string(),
  deleted: z.boolean(),
  data: z.record(z.string(), z.unknown()).optional(),
  syncedAt: z.iso.datetime(),
});
export type SyncedRecord = z.infer<typeof syncedRecordSchema>;

/** Writes one record; returns whether it was new (for the created/updated counts). */
export async function writeRecord(
  orgId: string,
  integrationId: string,
  resource: string,
  externalId: string,
  change: { deleted: boolean; data?: Record<string, unknown> },
  now: Date,
): Promise<'created' | 'updated' | 'deleted'> {
  const { Attributes } = await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        pk: keys.org(orgId),
        sk: syncKeys.record(integrationId, resource, externalId),
        resource,
        externalId,
        deleted: change.deleted,
        ...(change.data ? { data: change.data } : {}),
        syncedAt: now.toISOString(),
      },
      ReturnValues: 'ALL_OLD',
    }),
  );
  if (change.deleted) return 'deleted';
  return Attributes ? 'updated' : 'created';
}

export async function listRecords(orgId: string, integrationId: string, resource: string, cursor?: string, limit = 100): Promise<Page<SyncedRecord>> {
  const page = await queryLivePage(
    {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': syncKeys.recordPrefix(integrationId, resource) },
      Limit: limit,
    },
    cursor,
  );
  return { ...page, items: page.items.map((item) => syncedRecordSchema.parse(item)) };
}

// --- logs ----------------------------------------------------------------

export const syncLogSchema = z.object({
  syncId: z.string(),
  trigger: z.string(),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  durationMs: z.number(),
  outcome: z.enum(['succeeded', 'failed', 'skipped']),
  counts: z.record(z.string(), z.object({ created: z.number(), updated: z.number(), deleted: z.number() })),
  errorCode: z.string().optional(),
});
export type SyncLog = z.infer<typeof syncLogSchema>;

export async function writeSyncLog(orgId: string, integrationId: string, log: SyncLog, expiresAt?: Date): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        pk: keys.org(orgId),
        sk: syncKeys.log(integrationId, log.startedAt, log.syncId),
        ...log,
        ...(expiresAt ? { expiresAt: nowEpochSeconds(expiresAt) } : {}),
      },
    }),
  );
}

export async function listSyncLogs(orgId: string, integrationId: string, cursor?: string, limit = 50): Promise<Page<SyncLog>> {
  const page = await queryLivePage(
    {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': syncKeys.logPrefix(integrationId) },
      ScanIndexForward: false,
      Limit: limit,
    },
    cursor,
  );
  return { ...page, items: page.items.map((item) => syncLogSchema.parse(item)) };
}

// --- schedule ------------------------------------------------------------

/** Scheduled syncs run every 15 minutes (the guide's promise). */
export const SYNC_INTERVAL_MS = 15 * 60 * 1000;

/**
 * Puts the integration on the due index at `at` (or takes it off), without
 * touching its version. Only an active integration is scheduled: a sync or a
 * settings change racing a disconnect or an erasure cannot put it back.
 */
export async function scheduleSync(orgId: string, integrationId: string, at: Date | undefined): Promise<void> {
  await dynamo().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { pk: keys.org(orgId), sk: keys.integration(integrationId) },
      ...(at
        ? {
            ConditionExpression: 'attribute_exists(pk) AND #status = :active',
            UpdateExpression: 'SET dueShard = :shard, dueAt = :dueAt, nextSyncAt = :next',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':active': 'active',
              ':shard': dueShardOf(integrationId),
              ':dueAt': syncKeys.syncDue(at.toISOString()),
              ':next': at.toISOString(),
            },
          }
        : { ConditionExpression: 'attribute_exists(pk)', UpdateExpression: 'REMOVE dueShard, dueAt, nextSyncAt' }),
    }),
  ).catch((error: unknown) => {
    if (!isConditionalCheckFailure(error)) throw error;
  });
}
