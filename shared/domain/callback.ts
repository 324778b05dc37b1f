import { publishEvents } from '../events/publisher';
import { logger } from '../logging/logger';
import { ProviderError } from '../oauth/errors';
import { consumePendingConnection, type PendingConnection } from '../oauth/state';
import type { GrantResult } from '../oauth/types';
import { recordConsent } from '../store/consents';
import { createIntegration, findIntegrationByAccount, getIntegration, newIntegrationId, updateLatestIntegration } from '../store/integrations';
import { retainLogs } from '../store/retention';
import { SYNC_INTERVAL_MS, scheduleSync } from '../store/sync';
import { replaceCredentials } from '../store/tokens';
import { closeSubscriptions, openSubscriptions } from '../webhooks/subscriptions';
import { callbackUrl, connectableProvider, defaultReturnUrl, type Connectable } from './connect';
import { publishHealthChanged } from './health';
import type { IntegrationRecord } from './integration';

/**
 * Completing OAuth at the public callback: consume the state, exchange the
 * code, store the grant (a reconnect keeps the integration id), record
 * consent, open push subscriptions, queue the first sync, announce it.
 */
export const CONSENT_VERSION = '2026-11-01';

/** The outcome of a callback, as the redirect tells it to the HR app. */
export type CallbackOutcome =
  | { ok: true; integrationId: string; redirectTo: string; reconnected: boolean }
  | { ok: false; error: string; redirectTo: string };

export interface CallbackInput {
  providerId: string;
  state?: string;
  code?: string;
  error?: string;
  ipAddress: string;
  userAgent: string;
}

export async function completeConnection(input: CallbackInput): Promise<CallbackOutcome> {
  const pending = input.state ? await consumePendingConnection(input.state) : undefined;
  if (!pending || pending.providerId !== input.providerId) {
    return { ok: false, error: 'invalid_state', redirectTo: defaultReturnUrl() };
  }
  const fail = (error: string): CallbackOutcome => ({ ok: false, error, redirectTo: pending.redirectTo });
  if (input.error) return fail(input.error === 'access_denied' ? 'access_denied' : 'authorization_failed');
  if (!input.code) return fail('invalid_request');

  let connectable: Connectable;
  try {
    connectable = connectableProvider(input.providerId);
  } catch {
    return fail('provider_unavailable');
  }
  let grant: GrantResult;
  try {
    grant = await connectable.oauth.exchangeCode({
      client: connectable.client,
      code: input.code,
      redirectUri: callbackUrl(input.providerId),
      ...(pending.codeVerifier ? { codeVerifier: pending.codeVerifier } : {}),
    });
  } catch (error) {
    logger.warn('Code exchange failed', {
      providerId: input.providerId,
      errorCode: error instanceof ProviderError ? error.code : error instanceof Error ? error.name : 'unknown',
    });
    return fail('exchange_failed');
  }
  return storeGrant(pending, grant, input);
}

async function storeGrant(pending: PendingConnection, grant: GrantResult, input: CallbackInput): Promise<CallbackOutcome> {
  const now = new Date();
  const existing = pending.integrationId
    ? await getIntegration(pending.orgId, pending.integrationId)
    : await findIntegrationByAccount(pending.orgId, pending.providerId, grant.account.id);
  if (pending.integrationId && (!existing || existing.status === 'erased')) {
    return { ok: false, error: 'integration_not_found', redirectTo: pending.redirectTo };
  }
  if (existing && existing.externalAccountId !== grant.account.id) {
    return { ok: false, error: 'account_mismatch', redirectTo: pending.redirectTo };
  }
  const integrationId = existing?.id ?? newIntegrationId();
  await replaceCredentials({ orgId: pending.orgId, integrationId, providerId: pending.providerId }, grant.credentials);

  const connected = {
    status: 'active' as const,
    healthStatus: 'healthy' as const,
    healthReason: existing ? 'reconnected' : 'connected',
    healthChangedAt: now.toISOString(),
    externalAccountId: grant.account.id,
    ...(grant.account.name ? { externalAccountName: grant.account.name } : {}),
    scopesGranted: grant.scopesGranted,
    connectedAt: now.toISOString(),
    connectedBy: pending.userId,
    disconnectedAt: undefined,
  };
  let record: IntegrationRecord;
  if (existing) {
    const updated = await updateLatestIntegration(pending.orgId, existing.id, connected);
    if (!updated) return { ok: false, error: 'integration_not_found', redirectTo: pending.redirectTo };
    record = updated;
    await publishHealthChanged(existing, record, now);
    if (existing.status === 'disconnected') await retainLogs(pending.orgId, existing.id);
  } else {
    record = {
      id: integrationId,
      orgId: pending.orgId,
      providerId: pending.providerId,
      ...connected,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      version: 1,
    };
    await createIntegration(record);
  }

  // Real-time updates need no set-up from the user: push channels open now (reconnect replaces the old ones).
  const accessToken = grant.credentials[0]?.accessToken;
  const connectable = connectableProvider(pending.providerId);
  if (existing) await closeSubscriptions(record, connectable.client, accessToken);
  if (accessToken) await openSubscriptions(record, connectable.client, accessToken);

  await recordConsent({
    orgId: pending.orgId,
    integrationId,
    providerId: pending.providerId,
    userId: pending.userId,
    grantedAt: now.toISOString(),
    scopesRequested: pending.scopes,
    scopesGranted: grant.scopesGranted,
    ipAddress: input.ipAddress,
    userAgent: input.userAgent.slice(0, 512),
    consentVersion: CONSENT_VERSION,
  });
  // The first sync starts now; scheduled ones follow every 15 minutes.
  await scheduleSync(pending.orgId, integrationId, new Date(Date.now() + SYNC_INTERVAL_MS));
  await publishEvents([
    {
      type: 'SyncRequested',
      orgId: pending.orgId,
      integrationId,
      detail: { providerId: pending.providerId, trigger: existing ? 'reconnect' : 'initial' },
    },
    {
      type: 'integration.connected',
      orgId: pending.orgId,
      integrationId,
      detail: {
        providerId: pending.providerId,
        externalAccountId: grant.account.id,
        scopes: grant.scopesGranted,
        reconnected: existing !== undefined,
        connectedBy: pending.userId,
      },
    },
  ]);
  return { ok: true, integrationId, redirectTo: pending.redirectTo, reconnected: existing !== undefined };
}

