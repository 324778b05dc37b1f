import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { logger } from '../logging/logger';
import { dynamo, tableName } from '../store/client';
import { getIntegration } from '../store/integrations';
import { keys } from '../store/keys';
import { DUE_SHARDS, TABLE } from '../store/table';
import { refreshExpiringCredentials } from './token-manager';
import { ProviderError } from './errors';

/**
 * Keeps idle integrations alive: every run refreshes the tokens that will
 * expire before the next run, found shard by shard through the `due` index
 * (never a Scan). Each refresh goes through the token manager, so its lease
 * keeps the sweep and live callers from refreshing twice.
 */
const dueItemSchema = z.object({ orgId: z.string(), integrationId: z.string() });
const CONCURRENCY = 8;

export interface SweepResult {
  due: number;
  refreshed: number;
  skipped: number;
  failed: number;
}

async function dueIntegrations(until: Date): Promise<Array<z.infer<typeof dueItemSchema>>> {
  const found: Array<z.infer<typeof dueItemSchema>> = [];
  for (let shard = 0; shard < DUE_SHARDS; shard += 1) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo().send(
        new QueryCommand({
          TableName: tableName(),
          IndexName: TABLE.indexes.due.name,
          KeyConditionExpression: 'dueShard = :shard AND dueAt BETWEEN :from AND :until',
          ExpressionAttributeValues: {
            ':shard': `DUE#${shard}`,
            ':from': keys.refreshDuePrefix,
            ':until': keys.refreshDue(until.toISOString()),
          },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const parsed = dueItemSchema.safeParse(item);
        if (parsed.success) found.push(parsed.data);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return found;
}

export async function sweepExpiringTokens(horizonMs: number, now: Date = new Date()): Promise<SweepResult> {
  const due = await dueIntegrations(new Date(now.getTime() + horizonMs));
  const result: SweepResult = { due: due.length, refreshed: 0, skipped: 0, failed: 0 };
  const queue = [...due];
  async function worker() {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const integration = await getIntegration(next.orgId, next.integrationId);
      if (!integration || integration.status !== 'active') {
        result.skipped += 1;
        continue;
      }
      try {
        await refreshExpiringCredentials(integration, horizonMs);
        result.refreshed += 1;
      } catch (error) {
        result.failed += 1;
        logger.warn('Sweep could not refresh an integration', {
          integrationId: integration.id,
          errorCode: error instanceof ProviderError ? error.code : error instanceof Error ? error.name : 'unknown',
        });
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return result;
}
