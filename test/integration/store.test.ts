import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { InvalidCursorError, VersionConflictError } from '../../shared/domain/errors';
import { dynamo, tableName } from '../../shared/store/client';
import { createIntegration, getIntegration, listIntegrations, updateIntegration } from '../../shared/store/integrations';
import { nowEpochSeconds } from '../../shared/store/items';
import { keys } from '../../shared/store/keys';
import { integrationRecord, uniqueOrg } from '../support/api';

describe('integration repository (dynalite)', () => {
  it('creates once: a second create of the same id is refused', async () => {
    const record = integrationRecord(uniqueOrg('store'));
    await createIntegration(record);
    await expect(createIntegration(record)).rejects.toBeInstanceOf(VersionConflictError);
    expect(await getIntegration(record.orgId, record.id)).toEqual(record);
  });

  it('updates optimistically: a stale version loses and the stored item is untouched', async () => {
    const record = integrationRecord(uniqueOrg('store'));
    await createIntegration(record);
    const updated = await updateIntegration(record, { healthStatus: 'degraded', healthReason: 'token_refresh_failed' });
    expect(updated.version).toBe(record.version + 1);
    expect(updated.healthStatus).toBe('degraded');
    await expect(updateIntegration(record, { healthStatus: 'healthy' })).rejects.toBeInstanceOf(VersionConflictError);
    expect((await getIntegration(record.orgId, record.id))?.healthStatus).toBe('degraded');
  });

  it('removes a field set to undefined', async () => {
    const record = integrationRecord(uniqueOrg('store'), { lastSyncAt: new Date().toISOString() });
    await createIntegration(record);
    const updated = await updateIntegration(record, { lastSyncAt: undefined });
    expect(updated.lastSyncAt).toBeUndefined();
  });

  it('treats an item past its TTL as gone, on get and on list', async () => {
    const orgId = uniqueOrg('store');
    const live = integrationRecord(orgId);
    const expired = integrationRecord(orgId);
    await createIntegration(live);
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: { pk: keys.org(orgId), sk: keys.integration(expired.id), ...expired, expiresAt: nowEpochSeconds() - 1 },
      }),
    );
    expect(await getIntegration(orgId, expired.id)).toBeUndefined();
    expect((await listIntegrations(orgId)).items.map((item) => item.id)).toEqual([live.id]);
  });

  it('lists only the organisation, page by page, and never the token items', async () => {
    const orgId = uniqueOrg('store');
    const records = [integrationRecord(orgId), integrationRecord(orgId), integrationRecord(orgId)];
    for (const record of records) await createIntegration(record);
    await createIntegration(integrationRecord(uniqueOrg('other')));
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: { pk: keys.org(orgId), sk: keys.tokens(records[0]!.id), ciphertext: new Uint8Array([1, 2, 3]) },
      }),
    );
    const first = await listIntegrations(orgId, undefined, 2);
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toBeDefined();
    const second = await listIntegrations(orgId, first.nextCursor, 2);
    const ids = [...first.items, ...second.items].map((item) => item.id).sort();
    expect(ids).toEqual(records.map((record) => record.id).sort());
  });

  it('refuses a cursor it did not issue, or one from another organisation', async () => {
    await expect(listIntegrations(uniqueOrg('store'), 'not-a-cursor!')).rejects.toBeInstanceOf(InvalidCursorError);
    const victim = uniqueOrg('victim');
    await createIntegration(integrationRecord(victim));
    await createIntegration(integrationRecord(victim));
    const { nextCursor } = await listIntegrations(victim, undefined, 1);
    expect(nextCursor).toBeDefined();
    await expect(listIntegrations(uniqueOrg('attacker'), nextCursor)).rejects.toBeInstanceOf(InvalidCursorError);
  });
});
