import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../infra/local/sandbox';
import { completeConnection, revokeAbandonedGrants } from '../../shared/domain/completion';
import { eraseIntegration } from '../../shared/domain/erasure';
import { disconnectDeadGrant } from '../../shared/domain/lifecycle';
import { dynamo, tableName } from '../../shared/store/client';
import { createIntegration, getIntegration, newIntegrationId } from '../../shared/store/integrations';
import { accountClaimHolder, claimAccount } from '../../shared/store/lifecycle';
import { keys } from '../../shared/store/keys';
import { PENDING_GRANT_TTL_SECONDS, newPendingGrantId, savePendingGrant } from '../../shared/store/pending-grants';
import { listSyncLogs } from '../../shared/store/sync';
import { loadCredentials, replaceCredentials } from '../../shared/store/tokens';
import { runSync } from '../../shared/sync/engine';
import type { ProviderSync } from '../../shared/sync/types';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';
import { sandboxOAuth, str } from '../support/sandbox-oauth';

/**
 * The lifecycle's guarantees that only the table can show: erasure is a fence
 * that late writers cannot cross, a dead grant disconnects only itself, and a
 * grant nobody completed is revoked at the provider.
 */
let events: Awaited<ReturnType<typeof startTestEventBus>>;
let sandbox: SandboxServer;

beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
  sandbox = await startSandboxServer({ host: '127.0.0.1', port: 0 });
  process.env.SANDBOX_BASE_URL = sandbox.url;
});
afterAll(async () => {
  await events.close();
  await sandbox.close();
});

async function connectedIntegration() {
  const record = integrationRecord(uniqueOrg('fence'), { providerId: 'slack' });
  await createIntegration(record);
  const { grantId } = await replaceCredentials({ orgId: record.orgId, integrationId: record.id, providerId: 'slack' }, [
    { kind: 'slack-bot', accessToken: 'xoxb-fence', scopes: [] },
  ]);
  return { record, grantId };
}

/** Every item the integration owns in its organisation's partition. */
async function itemsOf(orgId: string, integrationId: string) {
  const { Items } = await dynamo().send(
    new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.org(orgId) } }),
  );
  return (Items ?? []).filter((item) => String(item.sk).includes(integrationId));
}

describe('erasure is a fence', () => {
  it('a sync that is mid-way when the integration is erased stops, and everything it wrote is on the purge clock', async () => {
    const { record } = await connectedIntegration();
    let erasedAt: string | undefined;
    const sync: ProviderSync = {
      credentialKind: 'slack-bot',
      resources: {
        items: {
          keepCursorAfterPass: false,
          async pull({ cursor }) {
            const page = Number(cursor ?? 0);
            // The erasure lands while the provider is answering the third page.
            if (page === 2) erasedAt = (await eraseIntegration({ orgId: record.orgId, userId: 'dpo' }, record.id)).purgeAt;
            const changes = Array.from({ length: 50 }, (_, n) => ({ externalId: `U${page}-${n}`, op: 'upsert' as const, data: { n } }));
            return { changes, cursor: String(page + 1), complete: page === 5 };
          },
        },
      },
    };
    expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual' }, () => sync)).toBe('skipped');
    expect(erasedAt).toBeDefined();

    const stored = await getIntegration(record.orgId, record.id);
    expect(stored?.status).toBe('erased');
    const items = await itemsOf(record.orgId, record.id);
    // Pages 0 to 2 were written (the third after the erasure's walk began); none escaped the TTL.
    expect(items.filter((item) => String(item.sk).startsWith('REC#'))).toHaveLength(150);
    const purgeEpoch = Math.floor(Date.parse(erasedAt ?? '') / 1000);
    const unexpiring = items.filter((item) => item.expiresAt !== purgeEpoch && !String(item.sk).startsWith('SYNCLEASE#') && !String(item.sk).startsWith('LIFECYCLE#'));
    expect(unexpiring.map((item) => item.sk)).toEqual([]);
    expect(items.some((item) => String(item.sk).startsWith('TOKENS#'))).toBe(false);
    // Nothing was written back onto the integration, and no log of the stopped run appeared.
    expect(stored?.healthReason).toBe('erased');
    expect((await listSyncLogs(record.orgId, record.id)).items).toEqual([]);
  });
});

describe('a dead grant disconnects only itself', () => {
  it('a refresh that fails for the grant a reconnect already replaced leaves the integration connected', async () => {
    const { record, grantId: oldGrant } = await connectedIntegration();
    const ref = { orgId: record.orgId, integrationId: record.id, providerId: 'slack' };
    await replaceCredentials(ref, [{ kind: 'slack-bot', accessToken: 'xoxb-reconnected', scopes: [] }]);
    await disconnectDeadGrant(record, 'invalid_grant', oldGrant);
    expect((await getIntegration(record.orgId, record.id))?.status).toBe('active');
    expect((await loadCredentials(ref))?.credentials[0]?.accessToken).toBe('xoxb-reconnected');

    const current = (await loadCredentials(ref))?.grantId;
    await disconnectDeadGrant(record, 'invalid_grant', current);
    expect(await getIntegration(record.orgId, record.id)).toMatchObject({ status: 'disconnected', healthReason: 'invalid_grant' });
    expect(await loadCredentials(ref)).toBeUndefined();
    expect(events.eventsOfType('integration.disconnected').some((event) => (event.detail as { integrationId?: string }).integrationId === record.id)).toBe(true);
  });
});

const oauth = sandboxOAuth({ base: () => sandbox.url, scopes: { slack: 'chat:write,users:read' } });

/** A real sandbox grant kept pending for `orgId`'s alice, as the callback keeps it. */
async function pendingSandboxGrant(orgId: string, accountId = 'T0SANDBOX1') {
  const tokens = await oauth.connect('slack', {}, accountId);
  const accessToken = str((tokens as { access_token?: unknown }).access_token);
  const exchangedAt = new Date();
  const completeBy = new Date(exchangedAt.getTime() + PENDING_GRANT_TTL_SECONDS * 1000);
  const pendingId = newPendingGrantId();
  await savePendingGrant(
    pendingId,
    {
      orgId,
      userId: 'alice',
      providerId: 'slack',
      scopesRequested: ['chat:write'],
      redirectTo: 'http://app.test/settings/integrations',
      accountId,
      scopesGranted: ['chat:write'],
      ipAddress: '203.0.113.9',
      userAgent: 'test',
      exchangedAt: exchangedAt.toISOString(),
      completeBy: completeBy.toISOString(),
    },
    [{ kind: 'slack-bot', accessToken, scopes: ['chat:write'] }],
  );
  return { pendingId, accessToken, completeBy };
}

describe('one integration per account survives a crash between its steps', () => {
  it('a claim whose integration was never created (the claimant crashed) is completed by the next connection, under the same id', async () => {
    const orgId = uniqueOrg('crashed-claim');
    const orphan = newIntegrationId();
    expect(await claimAccount(orgId, 'slack', 'T0SANDBOX1', orphan)).toBe(orphan);
    const { pendingId } = await pendingSandboxGrant(orgId);
    const landed = await completeConnection({ orgId, userId: 'alice' }, pendingId);
    expect(landed).toMatchObject({ integrationId: orphan, status: 'connected' });
    expect(await getIntegration(orgId, orphan)).toMatchObject({ status: 'active', externalAccountId: 'T0SANDBOX1' });
    expect(await accountClaimHolder(orgId, 'slack', 'T0SANDBOX1')).toBe(orphan);
  });
});

describe('abandoned pending grants', () => {

  it('a grant its initiator did not complete within 10 minutes is revoked at the provider and forgotten', async () => {
    const { accessToken, completeBy } = await pendingSandboxGrant(uniqueOrg('abandoned'));
    const authTest = async () =>
      (await (await fetch(`${sandbox.url}/slack/slack/api/auth.test`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } })).json()) as { ok: boolean; error?: string };
    // Still in time: nothing is revoked.
    expect((await revokeAbandonedGrants(new Date(completeBy.getTime() - 1000))).revoked).toBe(0);
    expect((await authTest()).ok).toBe(true);
    // Past its deadline: revoked once, then gone.
    expect((await revokeAbandonedGrants(new Date(completeBy.getTime() + 1000))).revoked).toBeGreaterThanOrEqual(1);
    expect(await authTest()).toMatchObject({ ok: false, error: 'token_revoked' });
    expect((await revokeAbandonedGrants(new Date(completeBy.getTime() + 60_000))).revoked).toBe(0);
  });
});
