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

  it('rejected deliveries on a channel count into one item per minute, showing the latest', async () => {
    const orgId = uniqueOrg('whlog');
    const rejected = (reason: string) => ({ ...entry(orgId, 'unknown'), outcome: 'rejected' as const, reason, subscriptionId: 'chan-1', resource: 'drive' });
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
    const at = (offset: number) => new Date(minute + offset).toISOString();
    await recordDeliveries([rejected('invalid_channel_token')], new Date(minute + 1_000));
    await Promise.all([recordDeliveries([rejected('invalid_channel_token')], new Date(minute + 2_000)), recordDeliveries([rejected('invalid_channel_token')], new Date(minute + 3_000))]);
    await recordDeliveries([rejected('invalid_test_token')], new Date(minute + 59_000));
    await recordDeliveries([rejected('invalid_channel_token')], new Date(minute + 60_000));
    const page = await listWebhookLogs(orgId, 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F');
    expect(page.items.map((log) => [log.count, log.reason, log.receivedAt])).toEqual([
      [1, 'invalid_channel_token', at(60_000)],
      [4, 'invalid_test_token', at(59_000)],
    ]);
  });

  it('a refused write is swallowed (and would have thrown)', async () => {
    const orgId = uniqueOrg('whlog');
    const oversized = entry(orgId, 'x'.repeat(500_000));
    await expect(putWebhookLogs([oversized])).rejects.toThrow();
    await expect(recordDeliveries([oversized])).resolves.toBeUndefined();
    expect((await listWebhookLogs(orgId, oversized.integrationId)).items).toEqual([]);
  });
});
