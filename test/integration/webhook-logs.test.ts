import { describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, tableName } from '../../shared/store/client';
import { keys } from '../../shared/store/keys';
import { WEBHOOK_LOG_TTL_DAYS, listWebhookLogs, putWebhookLogs } from '../../shared/store/webhook-logs';
import { recordDeliveries } from '../../shared/webhooks/delivery-log';
import { uniqueOrg } from '../support/api';

/**
 * The webhook delivery log never fails a webhook: a write DynamoDB refuses
 * (here an item over the 400 KB limit, refused by the embedded store itself)
 * is logged and the delivery goes on.
 */
describe('recordDeliveries', () => {
  const entry = (orgId: string, eventType: string) => ({ orgId, integrationId: 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F', providerId: 'slack', eventType, outcome: 'accepted' as const });

  it('writes one item per entry, newest first, with the 30-day TTL', async () => {
    const orgId = uniqueOrg('whlog');
    const before = Math.floor(Date.now() / 1000);
    await recordDeliveries([entry(orgId, 'message')]);
    await recordDeliveries([entry(orgId, 'channel_created')]);
    const page = await listWebhookLogs(orgId, 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F');
    expect(page.items.map((log) => [log.eventType, log.count, log.test])).toEqual([
      ['channel_created', 1, false],
      ['message', 1, false],
    ]);
    const { Items: items = [] } = await dynamo().send(
      new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.org(orgId) } }),
    );
    for (const item of items) expect(Number(item.expiresAt) - before).toBeGreaterThanOrEqual(WEBHOOK_LOG_TTL_DAYS * 86_400);
    expect(items).toHaveLength(2);
  });

  it('a refused write is swallowed (and would have thrown)', async () => {
    const orgId = uniqueOrg('whlog');
    const oversized = entry(orgId, 'x'.repeat(500_000));
    await expect(putWebhookLogs([oversized])).rejects.toThrow();
    await expect(recordDeliveries([oversized])).resolves.toBeUndefined();
    expect((await listWebhookLogs(orgId, oversized.integrationId)).items).toEqual([]);
  });
});
