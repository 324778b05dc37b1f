/**
 * Disconnecting with the tokens in hand: take them out of the table (what is
 * stored at that instant, so a refresh committed a moment earlier is included),
 * stop the push channels while the access token still works, revoke at the
 * provider (best effort: a provider outage must not keep a user connected
 * against their will), then the one lifecycle transition.
 */
import { logger } from '../logging/logger';
import { errorCodeOf } from '../oauth/errors';
import type { Credential } from '../oauth/types';
import { getIntegration } from '../store/integrations';
import { recordAuthorizationRevoked } from '../store/lifecycle';
import { takeCredentials } from '../store/tokens';
import { integrationsForAccount } from '../webhooks/routing';
import { closeSubscriptions } from '../webhooks/subscriptions';
import { connectableProvider, type Caller } from './connect';
import type { IntegrationRecord } from './integration';
import { recordDisconnect, requireVisibleIntegration, withLifecycleLease, type DisconnectCause } from './lifecycle';

/** Whose grant is revoked: the provider account, and the integration it belongs to (if it landed). */
export interface GrantOwner {
  providerId: string;
  accountId: string;
  integrationId?: string;
}

/**
 * Revokes a grant at its provider where it can; failures are logged, never
 * thrown. Where the provider keeps one authorization per user and client
 * (Google), revoking any token revokes every consent of that user: it is left
 * alone while another connected integration (of any organisation) holds the
 * account, and otherwise its revocation is noted, so a consent given just
 * before it is known to be dead.
 */
export async function revokeAtProvider(owner: GrantOwner, credentials: Credential[]): Promise<void> {
  if (credentials.length === 0) return;
  const { providerId, accountId, integrationId } = owner;
  try {
    const { oauth, client } = connectableProvider(providerId);
    if (oauth.reconnectJoinsGrant) {
      if (await anotherHolder(owner)) {
        logger.info('Tokens dropped without revoking: another integration holds the same provider authorization', { integrationId, providerId });
        return;
      }
      await recordAuthorizationRevoked(providerId, accountId);
    }
    await oauth.revoke({ client, credentials });
  } catch (error) {
    logger.warn('Revocation at the provider failed; the tokens are dropped anyway', { integrationId, errorCode: errorCodeOf(error) });
  }
}

async function anotherHolder(owner: GrantOwner): Promise<boolean> {
  for (const routed of await integrationsForAccount(owner.providerId, owner.accountId)) {
    if (routed.id === owner.integrationId) continue;
    // The index is eventually consistent: the integration item itself says whether it is still connected.
    if ((await getIntegration(routed.orgId, routed.id))?.status === 'active') return true;
  }
  return false;
}

/** Ends the connection of an integration the caller holds the lifecycle lease of. */
export async function tearDown(integration: IntegrationRecord, cause: DisconnectCause): Promise<void> {
  const ref = { orgId: integration.orgId, integrationId: integration.id, providerId: integration.providerId };
  const taken = await takeCredentials(ref);
  const credentials = taken?.credentials ?? [];
  const client = (() => {
    try {
      return connectableProvider(integration.providerId).client;
    } catch {
      return undefined;
    }
  })();
  await closeSubscriptions(integration, client, credentials[0]?.accessToken);
  await revokeAtProvider({ providerId: integration.providerId, accountId: integration.externalAccountId, integrationId: integration.id }, credentials);
  await recordDisconnect(integration, cause);
}

/** DELETE /api/integrations/{id}: repeating it is harmless; an erased integration is a 404. */
export async function disconnectIntegration(caller: Caller, integrationId: string): Promise<void> {
  await requireVisibleIntegration(caller.orgId, integrationId);
  await withLifecycleLease(caller.orgId, integrationId, async () => {
    const integration = await requireVisibleIntegration(caller.orgId, integrationId);
    await tearDown(integration, { reason: 'user_disconnected', by: caller.userId });
  });
}
