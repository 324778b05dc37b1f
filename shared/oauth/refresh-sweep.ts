import * as z from 'zod';
import { logger } from '../logging/logger';
import { dueItems } from '../store/due';
import { getIntegration } from '../store/integrations';
import { keys } from '../store/keys';
import { refreshExpiringCredentials } from './token-manager';
import { errorCodeOf } from './errors';

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
  return (await dueItems(keys.refreshDuePrefix, until)).flatMap((item) => {
    const parsed = dueItemSchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
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
          errorCode: errorCodeOf(error),
        });
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return result;
}
