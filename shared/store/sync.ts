import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { dueShardOf } from './due';
import type { IntegrationChanges } from './integrations';
import { isConditionalCheckFailure, newestFirstPage, nowEpochSeconds, queryLivePage, type Page } from './items';
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

/** A lease outlives its holder by at most this long after the holder stops renewing it (crash, timeout). */
const LEASE_ITEM_TTL_SECONDS = 24 * 60 * 60;
const MAX_COVERED_REQUESTS = 100;

/**
 * Takes the integration's sync lease, or a stale one whose holder stopped
 * renewing it; false when a live sync holds it, and then the request is noted
 * (with its sync id) for the running sync's next pass.
 */
export async function acquireSyncLease(
  orgId: string,
  integrationId: string,
  owner: string,
  durationMs: number,
  now = Date.now(),
  syncId?: string,
): Promise<boolean> {
  const key = { pk: keys.org(orgId), sk: syncKeys.lease(integrationId) };
  for (;;) {
    try {
      await dynamo().send(
        new PutCommand({
          TableName: tableName(),
          Item: { ...key, owner, until: now + durationMs, acquiredAt: now, expiresAt: nowEpochSeconds(new Date(now + durationMs)) + LEASE_ITEM_TTL_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
    try {
      // Coalesce: the running sync sees this and makes one more pass, which names the requests it covers.
      await dynamo().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: key,
          UpdateExpression: syncId ? 'SET pendingAt = :now, pendingSyncIds = list_append(if_not_exists(pendingSyncIds, :empty), :ids)' : 'SET pendingAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND #until >= :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now, ...(syncId ? { ':empty': [], ':ids': [syncId] } : {}) },
        }),
      );
      return false;
    } catch (error) {
      // Released (or gone stale) in between: try to take it again.
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }
}

/** The lease as it stands: who holds it, until when, and the requests noted in it. */
export async function readSyncLease(orgId: string, integrationId: string): Promise<{ until: number; pendingSyncIds: string[] } | undefined> {
  const { Item } = await dynamo().send(
    new GetCommand({ TableName: tableName(), Key: { pk: keys.org(orgId), sk: syncKeys.lease(integrationId) }, ConsistentRead: true }),
  );
  if (!Item || typeof Item.until !== 'number') return undefined;
  return { until: Item.until, pendingSyncIds: z.array(z.string()).catch([]).parse(Item.pendingSyncIds) };
}

/** Extends a live lease while its holder works; false when another holder took it over (this one was presumed dead). */
export async function renewSyncLease(orgId: string, integrationId: string, owner: string, durationMs: number, now = Date.now()): Promise<boolean> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { pk: keys.org(orgId), sk: syncKeys.lease(integrationId) },
        UpdateExpression: 'SET #until = :until, expiresAt = :expires',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until' },
        ExpressionAttributeValues: {
          ':owner': owner,
          ':until': now + durationMs,
          ':expires': nowEpochSeconds(new Date(now + durationMs)) + LEASE_ITEM_TTL_SECONDS,
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/** What arrived while a sync ran: whether another pass is wanted, and the sync ids it covers. */
export interface PendingRequests {
  pending: boolean;
  syncIds: string[];
}

/** Releases the lease; returns the requests that arrived after `since` (coalesced into one more pass). */
export async function releaseSyncLease(orgId: string, integrationId: string, owner: string, since: number): Promise<PendingRequests> {
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
    const pending = typeof Attributes?.pendingAt === 'number' && Attributes.pendingAt >= since;
    const syncIds = z.array(z.string()).catch([]).parse(Attributes?.pendingSyncIds).slice(0, MAX_COVERED_REQUESTS);
    return { pending, syncIds: pending ? syncIds : [] };
  } catch (error) {
    if (isConditionalCheckFailure(error)) return { pending: false, syncIds: [] };
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
  /** When the run was asked for; with the sync id it names the run, so a retry of the same run updates its log. */
  requestedAt: z.iso.datetime().optional(),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  durationMs: z.number(),
  outcome: z.enum(['succeeded', 'failed', 'skipped']),
  counts: z.record(z.string(), z.object({ created: z.number(), updated: z.number(), deleted: z.number() })),
  errorCode: z.string().optional(),
  /** How many times the run was attempted (the event's retries); the log shows the latest attempt. */
  attempts: z.number().int().positive().optional(),
  /** Sync ids of requests that arrived while another run held the lease, and that this run served. */
  covers: z.array(z.string()).optional(),
});
export type SyncLog = z.infer<typeof syncLogSchema>;

export const syncLogKey = (integrationId: string, log: Pick<SyncLog, 'syncId' | 'startedAt' | 'requestedAt'>) =>
  syncKeys.log(integrationId, log.requestedAt ?? log.startedAt, log.syncId);

/** Writes the run's log, counting the attempt: a retried run keeps one log. */
export async function writeSyncLog(orgId: string, integrationId: string, log: Omit<SyncLog, 'attempts'>, expiresAt?: Date): Promise<void> {
  const fields: Record<string, unknown> = { ...log, ...(expiresAt ? { expiresAt: nowEpochSeconds(expiresAt) } : {}) };
  const names: Record<string, string> = { '#attempts': 'attempts' };
  const values: Record<string, unknown> = { ':one': 1 };
  const sets = Object.entries(fields).map(([field, value], index) => {
    names[`#f${index}`] = field;
    values[`:v${index}`] = value;
    return `#f${index} = :v${index}`;
  });
  await dynamo().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { pk: keys.org(orgId), sk: syncLogKey(integrationId, log) },
      UpdateExpression: `SET ${sets.join(', ')} ADD #attempts :one`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
}

export async function listSyncLogs(orgId: string, integrationId: string, cursor?: string, limit = 50): Promise<Page<SyncLog>> {
  const page = await newestFirstPage(keys.org(orgId), syncKeys.logPrefix(integrationId), cursor, limit);
  return { ...page, items: page.items.map((item) => syncLogSchema.parse(item)) };
}

// --- schedule ------------------------------------------------------------

/** Scheduled syncs run every 15 minutes (the guide's promise). */
export const SYNC_INTERVAL_MS = 15 * 60 * 1000;

/** The integration item's attributes that put it on the due index at `at`, or (all undefined, so an update removes them) take it off. */
export function syncScheduleAttributes(integrationId: string, at: Date | undefined): Pick<IntegrationChanges, 'dueShard' | 'dueAt' | 'nextSyncAt'> {
  if (!at) return { dueShard: undefined, dueAt: undefined, nextSyncAt: undefined };
  return { dueShard: dueShardOf(integrationId), dueAt: syncKeys.syncDue(at.toISOString()), nextSyncAt: at.toISOString() };
}

/**
 * Puts the integration on the due index at `at` (or takes it off), without
 * touching its version. Only an active integration is scheduled: a sync or a
 * settings change racing a disconnect or an erasure cannot put it back, as the
 * disconnect records the status before it takes the integration off. (A sync
 * sets the same attributes with its outcome, in one versioned write.)
 */
export async function scheduleSync(orgId: string, integrationId: string, at: Date | undefined): Promise<void> {
  const { dueShard, dueAt, nextSyncAt } = syncScheduleAttributes(integrationId, at);
  await dynamo().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { pk: keys.org(orgId), sk: keys.integration(integrationId) },
      ...(dueShard
        ? {
            ConditionExpression: 'attribute_exists(pk) AND #status = :active',
            UpdateExpression: 'SET dueShard = :shard, dueAt = :dueAt, nextSyncAt = :next',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':active': 'active', ':shard': dueShard, ':dueAt': dueAt, ':next': nextSyncAt },
          }
        : { ConditionExpression: 'attribute_exists(pk)', UpdateExpression: 'REMOVE dueShard, dueAt, nextSyncAt' }),
    }),
  ).catch((error: unknown) => {
    if (!isConditionalCheckFailure(error)) throw error;
  });
}
