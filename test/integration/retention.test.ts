import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { LocalTtlSweeper } from '../../infra/local/ttl-sweeper';
import { dynamo, tableName } from '../../shared/store/client';
import { nowEpochSeconds } from '../../shared/store/items';
import { keys } from '../../shared/store/keys';
import { expireDisconnectedLogs, retainLogs } from '../../shared/store/retention';
import { syncKeys, writeSyncLog } from '../../shared/store/sync';
import { uniqueOrg } from '../support/api';

const raw = async (pk: string, sk: string) => (await dynamo().send(new GetCommand({ TableName: tableName(), Key: { pk, sk } }))).Item;

describe('retention', () => {
  it('the local TTL sweeper deletes expired items, as DynamoDB TTL does, and only those', async () => {
    const pk = keys.org(uniqueOrg('ttl'));
    await dynamo().send(new PutCommand({ TableName: tableName(), Item: { pk, sk: 'OLD', expiresAt: nowEpochSeconds() - 5 } }));
    await dynamo().send(new PutCommand({ TableName: tableName(), Item: { pk, sk: 'NEW', expiresAt: nowEpochSeconds() + 3600 } }));
    await dynamo().send(new PutCommand({ TableName: tableName(), Item: { pk, sk: 'FOREVER' } }));
    const sweeper = new LocalTtlSweeper(inject('dynamoEndpoint'), tableName());
    expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1);
    await sweeper.stop();
    expect(await raw(pk, 'OLD')).toBeUndefined();
    expect(await raw(pk, 'NEW')).toBeDefined();
    expect(await raw(pk, 'FOREVER')).toBeDefined();
  });

  it("a disconnected integration's sync logs expire 90 days after the disconnect; a reconnect keeps them again", async () => {
    const orgId = uniqueOrg('logs');
    const integrationId = 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F';
    const log = { syncId: 's1', trigger: 'manual', startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), durationMs: 1, outcome: 'succeeded' as const, counts: {} };
    await writeSyncLog(orgId, integrationId, log);
    const disconnectedAt = new Date();
    await expireDisconnectedLogs(orgId, integrationId, disconnectedAt);
    const item = await raw(keys.org(orgId), syncKeys.log(integrationId, log.startedAt, 's1'));
    const days = ((item?.expiresAt as number) * 1000 - disconnectedAt.getTime()) / 86_400_000;
    expect(days).toBeGreaterThan(89.99);
    expect(days).toBeLessThan(90.01);
    await retainLogs(orgId, integrationId);
    expect((await raw(keys.org(orgId), syncKeys.log(integrationId, log.startedAt, 's1')))?.expiresAt).toBeUndefined();
  });
});
