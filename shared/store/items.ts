import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { InvalidCursorError } from '../domain/errors';
import { TABLE } from './table';
import { dynamo, tableName } from './client';

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

/** Cursors are opaque to callers: base64url JSON of the last evaluated key. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to the typed error below
  }
  throw new InvalidCursorError();
}

/** One page of a query, expired items dropped. */
export async function queryLivePage(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  cursor?: string,
): Promise<Page<Item>> {
  const startKey = decodeCursor(cursor);
  // A cursor only continues the query it came from: never another organisation's partition.
  const partition = input.ExpressionAttributeValues?.[':pk'];
  if (startKey && partition !== undefined && startKey.pk !== partition) throw new InvalidCursorError();
  const result = await dynamo().send(new QueryCommand({ TableName: tableName(), ...input, ExclusiveStartKey: startKey }));
  const items = (result.Items ?? []).filter((item) => isLive(item));
  const nextCursor = encodeCursor(result.LastEvaluatedKey);
  return nextCursor === undefined ? { items } : { items, nextCursor };
}

/** Every live item of a query, following pagination. */
export async function queryAllLive(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> {
  const all: Item[] = [];
  let cursor: string | undefined;
  do {
    const page = await queryLivePage(input, cursor);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all;
}

export const isConditionalCheckFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');
