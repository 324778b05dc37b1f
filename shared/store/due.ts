import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { dynamo, tableName } from './client';
import { isLive, type Item } from './items';
import { DUE_SHARDS, TABLE } from './table';

/** The due-index shard of a piece of work: a stable hash, so load spreads evenly. */
export const dueShardOf = (workId: string): string =>
  `DUE#${createHash('sha256').update(workId).digest().readUInt32BE(0) % DUE_SHARDS}`;

/**
 * Work found by time through the `due` index: every shard, page by page,
 * items whose `dueAt` lies between `<prefix>` and `<prefix><until>` (the
 * prefix names the kind of work: `REFRESH#`, `RENEW#`, `SYNC#`). Never a Scan.
 * Pages are handed over as they arrive, so nothing holds all of them at once.
 * Every shard is visited once, from `firstShard` round to the one before it:
 * a sweep that may run out of time before the last shard starts at a random
 * one, so the work in high shards is not always the work left for next time.
 */
export async function forEachDuePage(prefix: string, until: Date, onPage: (items: Item[]) => Promise<void>, firstShard = 0): Promise<void> {
  for (let visited = 0; visited < DUE_SHARDS; visited += 1) {
    const shard = (firstShard + visited) % DUE_SHARDS;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo().send(
        new QueryCommand({
          TableName: tableName(),
          IndexName: TABLE.indexes.due.name,
          KeyConditionExpression: 'dueShard = :shard AND dueAt BETWEEN :from AND :until',
          ExpressionAttributeValues: { ':shard': `DUE#${shard}`, ':from': prefix, ':until': `${prefix}${until.toISOString()}` },
          ExclusiveStartKey: startKey,
        }),
      );
      await onPage((page.Items ?? []).filter((item) => isLive(item)));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}

/** Every due item at once, for the small sets (token refreshes, renewals). */
export async function dueItems(prefix: string, until: Date): Promise<Item[]> {
  const found: Item[] = [];
  await forEachDuePage(prefix, until, async (items) => {
    found.push(...items);
  });
  return found;
}
