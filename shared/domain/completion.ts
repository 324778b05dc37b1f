/**
 * `POST /api/integrations/connect/complete`: the initiator turns the pending
 * grant the callback kept into an integration. The steps, as the guide tells
 * them: take the pending grant (once, whoever asks); check it is the
 * initiator's and still fresh (anyone else's attempt revokes it); find the
 * integration it belongs to (the reconnect's, or the one that holds the
 * account, so one account is one integration under any race); land it there
 * under the lifecycle lease (store the tokens, mark it connected, record
 * consent, replace the push channels, revoke the superseded grant, queue the
 * first sync, announce it).
 */
import * as z from 'zod';
import { publishEvents } from '../events/publisher';
import { logger } from '../logging/logger';
import type { Credential } from '../oauth/types';
import { recordConsent } from '../store/consents';
import { createIntegration, getIntegration, newIntegrationId, updateLatestIntegration } from '../store/integrations';
import { accountClaimHolder, authorizationRevokedAt, claimAccount } from '../store/lifecycle';
import { abandonedGrantIds, takePendingGrant, type PendingGrant } from '../store/pending-grants';
import { retainLogs } from '../store/retention';
import { SYNC_INTERVAL_MS, scheduleSync } from '../store/sync';
import { replaceCredentials, type StoredCredentials } from '../store/tokens';
import { closeSubscriptions, openSubscriptions } from '../webhooks/subscriptions';
import { connectableProvider, type Caller } from './connect';
import { revokeAtProvider } from './disconnect';
import { accountMismatch, conflict, notFound } from './errors';
import { publishHealthChanged } from './health';
import { integrationIdSchema, type IntegrationRecord } from './integration';
import { withLifecycleLease } from './lifecycle';

export const CONSENT_VERSION = '2026-11-01';

export const completedConnectionSchema = z.object({
  integrationId: integrationIdSchema,
  providerId: z.string(),
  status: z.enum(['connected', 'reconnected']),
  /** Where the app meant the user to end up (the `redirectTo` given at connect). */
  redirectTo: z.url(),
});
export type CompletedConnection = z.infer<typeof completedConnectionSchema>;

export async function completeConnection(caller: Caller, pendingId: string): Promise<CompletedConnection> {
  const taken = await takePendingGrant(pendingId);
  if (!taken) throw notFound('Pending connection');
  const { grant, credentials } = taken;
  if (!isInitiatorInTime(grant, caller)) {
    logger.warn('A pending connection was presented by someone other than its initiator, or too late; revoking it', {
      providerId: grant.providerId,
      sameOrganisation: grant.orgId === caller.orgId,
    });
    await revokeAtProvider(ownerOf(grant), credentials);
    throw notFound('Pending connection');
  }
  const progress = { stored: false };
  try {
    const integrationId = grant.integrationId ?? (await integrationHoldingAccount(grant));
    return await withLifecycleLease(grant.orgId, integrationId, () => landGrant(grant, credentials, integrationId, progress));
  } catch (error) {
    // A grant refused before it was stored is not left live at the provider; once stored, it is the integration's.
    if (!progress.stored) await revokeAtProvider(ownerOf(grant), credentials);
    throw error;
  }
}

/** A grant that has not landed belongs to no integration yet: only its provider account. */
const ownerOf = (grant: PendingGrant) => ({ providerId: grant.providerId, accountId: grant.accountId });

function isInitiatorInTime(grant: PendingGrant, caller: Caller, now = Date.now()): boolean {
  return grant.orgId === caller.orgId && grant.userId === caller.userId && Date.parse(grant.completeBy) > now;
}

/**
 * The integration that holds the account's claim, claiming it for a new id
 * when nobody does (or only an erased integration did). The holder may not
 * exist yet (its creator is still landing, or crashed before it could):
 * landing creates it then, under its lease, so nothing stays half-made.
 */
async function integrationHoldingAccount(grant: PendingGrant): Promise<string> {
  const candidate = newIntegrationId();
  const holder = await claimAccount(grant.orgId, grant.providerId, grant.accountId, candidate);
  if (holder === candidate) return holder;
  const held = await getIntegration(grant.orgId, holder);
  return held?.status === 'erased' ? claimAccount(grant.orgId, grant.providerId, grant.accountId, candidate, holder) : holder;
}

/** A reconnect signed in to another account than the integration's: which one it was, and how to go on. */
function accountMismatchOf(grant: PendingGrant, existing: IntegrationRecord) {
  const provider = connectableProvider(grant.providerId).provider.catalog.name;
  const expected = existing.externalAccountName ?? existing.externalAccountId;
  const signedIn = grant.accountName ?? grant.accountId;
  return accountMismatch(
    `You signed in to the ${provider} account ${signedIn}, but this integration is connected to ${expected}. Nothing was changed. ` +
      `Reconnect and sign in as ${expected}, or use Connect to add ${signedIn} as a separate integration.`,
  );
}

async function landGrant(
  grant: PendingGrant,
  credentials: Credential[],
  integrationId: string,
  progress: { stored: boolean },
): Promise<CompletedConnection> {
  const existing = await getIntegration(grant.orgId, integrationId);
  if (existing?.status === 'erased' || (grant.integrationId && !existing)) throw notFound('Integration');
  if (existing && existing.externalAccountId !== grant.accountId) throw accountMismatchOf(grant, existing);
  // A provider that revokes a user's whole authorization at once (Google) may have revoked this consent
  // while the user was giving it (a disconnect of the same account): it must not be reported as connected.
  const revokedAt = connectableProvider(grant.providerId).oauth.reconnectJoinsGrant
    ? await authorizationRevokedAt(grant.providerId, grant.accountId)
    : undefined;
  if (revokedAt && revokedAt >= grant.exchangedAt) {
    throw conflict('The account was disconnected while this connection was being authorised; connect it again');
  }
  // A reconnect of an integration made before accounts were claimed claims its account now.
  if (existing && (await accountClaimHolder(grant.orgId, grant.providerId, grant.accountId)) === undefined) {
    await claimAccount(grant.orgId, grant.providerId, grant.accountId, integrationId);
  }
  const now = new Date();
  const { superseded } = await replaceCredentials({ orgId: grant.orgId, integrationId, providerId: grant.providerId }, credentials);
  progress.stored = true;
  const record = existing ? await markReconnected(existing, grant, now) : await createConnected(integrationId, grant, now);
  await recordConsent({
    orgId: grant.orgId,
    integrationId,
    providerId: grant.providerId,
    userId: grant.userId,
    grantedAt: now.toISOString(),
    scopesRequested: grant.scopesRequested,
    scopesGranted: grant.scopesGranted,
    ipAddress: grant.ipAddress,
    userAgent: grant.userAgent,
    consentVersion: CONSENT_VERSION,
  });
  await replacePushChannels(record, superseded, credentials, existing !== undefined);
  await revokeSuperseded(grant, superseded, credentials, integrationId);
  await announce(record, grant, existing !== undefined);
  return { integrationId, providerId: grant.providerId, status: existing ? 'reconnected' : 'connected', redirectTo: grant.redirectTo };
}

function connectedFields(grant: PendingGrant, now: Date, reconnected: boolean) {
  return {
    status: 'active' as const,
    healthStatus: 'healthy' as const,
    healthReason: reconnected ? 'reconnected' : 'connected',
    healthChangedAt: now.toISOString(),
    externalAccountId: grant.accountId,
    ...(grant.accountName ? { externalAccountName: grant.accountName } : {}),
    scopesGranted: grant.scopesGranted,
    connectedAt: now.toISOString(),
    connectedBy: grant.userId,
    disconnectedAt: undefined,
  };
}

async function markReconnected(existing: IntegrationRecord, grant: PendingGrant, now: Date): Promise<IntegrationRecord> {
  const record = await updateLatestIntegration(grant.orgId, existing.id, connectedFields(grant, now, true));
  if (!record) throw notFound('Integration');
  await publishHealthChanged(existing, record, now);
  if (existing.status === 'disconnected') await retainLogs(grant.orgId, existing.id);
  return record;
}

async function createConnected(integrationId: string, grant: PendingGrant, now: Date): Promise<IntegrationRecord> {
  const record: IntegrationRecord = {
    id: integrationId,
    orgId: grant.orgId,
    providerId: grant.providerId,
    ...connectedFields(grant, now, false),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    version: 1,
  };
  await createIntegration(record);
  return record;
}

/** Real-time updates need no set-up from the user: the old channels stop (with the old token), new ones open. */
async function replacePushChannels(record: IntegrationRecord, superseded: StoredCredentials | undefined, credentials: Credential[], reconnected: boolean) {
  const { client } = connectableProvider(record.providerId);
  if (reconnected) await closeSubscriptions(record, client, superseded?.credentials[0]?.accessToken ?? credentials[0]?.accessToken);
  const accessToken = credentials[0]?.accessToken;
  if (accessToken) await openSubscriptions(record, client, accessToken);
}

/**
 * Grants must not pile up: the one a reconnect replaces is revoked, unless the
 * provider keeps one authorization per user and client (then the old tokens
 * belong to the new grant) or the provider handed the same token back.
 */
async function revokeSuperseded(
  { providerId, accountId }: PendingGrant,
  superseded: StoredCredentials | undefined,
  fresh: Credential[],
  integrationId: string,
) {
  if (!superseded || connectableProvider(providerId).oauth.reconnectJoinsGrant) return;
  const freshTokens = new Set(fresh.flatMap((credential) => [credential.accessToken, credential.refreshToken]));
  const stale = superseded.credentials.filter((credential) => !freshTokens.has(credential.accessToken) && !freshTokens.has(credential.refreshToken));
  await revokeAtProvider({ providerId, accountId, integrationId }, stale);
}

async function announce(record: IntegrationRecord, grant: PendingGrant, reconnected: boolean) {
  // The first sync starts now; scheduled ones follow every 15 minutes.
  await scheduleSync(record.orgId, record.id, new Date(Date.now() + SYNC_INTERVAL_MS));
  await publishEvents([
    {
      type: 'SyncRequested',
      orgId: record.orgId,
      integrationId: record.id,
      detail: { providerId: record.providerId, trigger: reconnected ? 'reconnect' : 'initial' },
    },
    {
      type: 'integration.connected',
      orgId: record.orgId,
      integrationId: record.id,
      detail: {
        providerId: record.providerId,
        externalAccountId: grant.accountId,
        scopes: grant.scopesGranted,
        reconnected,
        connectedBy: grant.userId,
      },
    },
  ]);
}

/** Pending grants nobody completed in time are revoked at their provider, then forgotten. */
export async function revokeAbandonedGrants(now: Date = new Date()): Promise<{ abandoned: number; revoked: number }> {
  let revoked = 0;
  const ids = await abandonedGrantIds(now);
  for (const id of ids) {
    const taken = await takePendingGrant(id);
    if (!taken) continue;
    await revokeAtProvider(ownerOf(taken.grant), taken.credentials);
    revoked += 1;
  }
  return { abandoned: ids.length, revoked };
}
