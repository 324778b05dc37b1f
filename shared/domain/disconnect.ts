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
import { takeCredentials } from '../store/tokens';
import { closeSubscriptions } from '../webhooks/subscriptions';
import { connectableProvider, type Caller } from './connect';
import type { IntegrationRecord } from './integration';
import { recordDisconnect, requireVisibleIntegration, withLifecycleLease, type DisconnectCause } from './lifecycle';

/** Revokes credentials at their provider where it can; failures are logged, never thrown. */
export async function revokeAtProvider(providerId: string, credentials: Credential[], integrationId?: string): Promise<void> {
  if (credentials.length === 0) return;
  try {
    const { oauth, client } = connectableProvider(providerId);
    await oauth.revoke({ client, credentials });
  } catch (error) {
    logger.warn('Revocation at the provider failed; the tokens are dropped anyway', { integrationId, errorCode: errorCodeOf(error) });
  }
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
  await revokeAtProvider(integration.providerId, credentials, integration.id);
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
