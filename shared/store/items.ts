import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { TABLE } from './table';
import { dynamo, tableName } from './client';
import { itemKeySchema, openCursor, sealCursor } from './cursor';

export type Item = Record<string, unknown>;

export const nowEpochSeconds = (now: Date = new Date()): number => Math.floor(now.getTime() / 1000);

/** DynamoDB TTL deletes up to days late and dynalite never does: an expired item is treated as gone. */
export function isLive(item: Item, now: Date = new Date()): boolean {
  const expiresAt = item[TABLE.ttlAttribute];
  return typeof expiresAt !== 'number' || expiresAt > nowEpochSeconds(now);
}

export async function getLiveItem(pk: string, sk: string, consistent = true): Promise<Item | undefined> {
  const { Item: item } = await dynamo().send(
    new GetCommand({ TableName: tableName(), Key: { pk, sk }, ConsistentRead: consistent }),
  );
  return item && isLive(item) ? item : undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;

/**
 * What a query's cursor is bound to: the table, index, key condition, filter,
 * names and values (the organisation's partition among them) and direction.
 * Not the page size: a caller may change `limit` between pages.
 */
const queryBinding = (input: QueryInput) => ({
  purpose: 'query',
  table: tableName(),
  index: input.IndexName,
  keyCondition: input.KeyConditionExpression,
  filter: input.FilterExpression,
  names: input.ExpressionAttributeNames,
  values: input.ExpressionAttributeValues,
  forward: input.ScanIndexForward ?? true,
});

/** One page of a query, from `startKey`, expired items dropped. */
async function queryPage(input: QueryInput, startKey: Item | undefined): Promise<{ items: Item[]; lastKey?: Item }> {
  const result = await dynamo().send(new QueryCommand({ TableName: tableName(), ...input, ExclusiveStartKey: startKey }));
  const items = (result.Items ?? []).filter((item) => isLive(item));
  return result.LastEvaluatedKey ? { items, lastKey: result.LastEvaluatedKey } : { items };
}

/** One page of a query for an API caller, expired items dropped; the cursor is sealed to this query (see cursor.ts). */
export async function queryLivePage(input: QueryInput, cursor?: string): Promise<Page<Item>> {
  const binding = queryBinding(input);
  const startKey = cursor === undefined ? undefined : await openCursor(binding, cursor, itemKeySchema);
  const { items, lastKey } = await queryPage(input, startKey);
  return lastKey ? { items, nextCursor: await sealCursor(binding, lastKey) } : { items };
}

/** One page of a partition's items under a key prefix, newest first (logs keyed by time), for an API caller. */
export function newestFirstPage(pk: string, prefix: string, cursor: string | undefined, limit: number): Promise<Page<Item>> {
  return queryLivePage(
    {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
      ScanIndexForward: false,
      Limit: limit,
    },
    cursor,
  );
}

/** Every live item of a query, following pagination (server-side: no cursor leaves the function). */
export async function queryAllLive(input: QueryInput): Promise<Item[]> {
  const all: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await queryPage(input, startKey);
    all.push(...page.items);
    startKey = page.lastKey;
  } while (startKey !== undefined);
  return all;
}

export const isConditionalCheckFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');
