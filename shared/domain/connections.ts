import { apiConfig, appConfig } from '../config';
import { publishEvents } from '../events/publisher';
import { logger } from '../logging/logger';
import { oauthClient } from '../oauth/clients';
import { ProviderError } from '../oauth/errors';
import { createCodeVerifier, s256Challenge } from '../oauth/pkce';
import { consumePendingConnection, newStateValue, savePendingConnection, type PendingConnection } from '../oauth/state';
import type { GrantResult, OAuthClient, ProviderOAuth } from '../oauth/types';
import { findProvider } from '../providers/registry';
import type { ProviderDefinition } from '../providers/types';
import { recordConsent } from '../store/consents';
import { createIntegration, findIntegrationByAccount, getIntegration, newIntegrationId, updateLatestIntegration } from '../store/integrations';
import { SYNC_INTERVAL_MS, scheduleSync } from '../store/sync';
import { deleteCredentials, loadCredentials, replaceCredentials } from '../store/tokens';
import { closeSubscriptions, openSubscriptions } from '../webhooks/subscriptions';
import { AppError, badRequest, notFound, validationFailed } from './errors';
import { publishHealthChanged } from './health';
import type { IntegrationRecord } from './integration';

/**
 * The OAuth lifecycle of an integration: start (connect or reconnect),
 * complete (the public callback), disconnect. Handlers stay thin; this is
 * where the rules live.
 */
export const CONSENT_VERSION = '2026-11-01';

export interface Caller {
  orgId: string;
  userId: string;
}

export function callbackUrl(providerId: string): string {
  return `${apiConfig().apiBaseUrl}/api/integrations/callback/${providerId}`;
}

export function defaultReturnUrl(): string {
  return new URL('/settings/integrations', appConfig().appBaseUrl).toString();
}

/** Where the browser may be sent back to: the HR app's origin only (no open redirect). */
export function checkReturnUrl(redirectTo: string | undefined): string {
  if (redirectTo === undefined) return defaultReturnUrl();
  let url: URL;
  try {
    url = new URL(redirectTo);
  } catch {
    throw validationFailed('redirectTo must be an absolute URL');
  }
  if (url.origin !== appConfig().appBaseUrl.origin) {
    throw validationFailed(`redirectTo must be on ${appConfig().appBaseUrl.origin}`);
  }
  return url.toString();
}

interface Connectable {
  provider: ProviderDefinition;
  oauth: ProviderOAuth;
  client: OAuthClient;
}

export function connectableProvider(providerId: string): Connectable {
  const provider = findProvider(providerId);
  if (!provider) throw validationFailed(`Unknown provider '${providerId.slice(0, 40)}'`);
  if (provider.catalog.status !== 'active' || !provider.oauth) {
    throw badRequest(`${provider.catalog.name} is coming soon and cannot be connected yet`);
  }
  const client = oauthClient(providerId, provider.oauth);
  if (!client) {
    const env = provider.oauth.credentialEnv;
    throw new AppError(503, 'provider_unavailable', `${provider.catalog.name} is not configured: set ${env.clientId} and ${env.clientSecret}`);
  }
  return { provider, oauth: provider.oauth, client };
}

/** Required scopes, plus the requested ones (or the defaults); unknown scopes are refused by name. */
export function resolveScopes(provider: ProviderDefinition, requested: string[] | undefined): string[] {
  const known = new Set(provider.catalog.scopes.map((scope) => scope.scope));
  const unknown = (requested ?? []).filter((scope) => !known.has(scope));
  if (unknown.length > 0) throw validationFailed(`Unknown scope(s) for ${provider.catalog.id}: ${unknown.join(', ')}`);
  const chosen = requested ?? provider.catalog.scopes.filter((scope) => scope.default).map((scope) => scope.scope);
  const required = provider.catalog.scopes.filter((scope) => scope.required).map((scope) => scope.scope);
  return [...new Set([...required, ...chosen])];
}

export async function startConnection(input: {
  caller: Caller;
  providerId: string;
  scopes?: string[];
  redirectTo?: string;
  integrationId?: string;
}): Promise<{ url: string; state: string }> {
  const { provider, oauth, client } = connectableProvider(input.providerId);
  const scopes = resolveScopes(provider, input.scopes);
  const redirectTo = checkReturnUrl(input.redirectTo);
  const state = newStateValue();
  const codeVerifier = oauth.pkce ? createCodeVerifier() : undefined;
  await savePendingConnection(state, {
    orgId: input.caller.orgId,
    userId: input.caller.userId,
    providerId: input.providerId,
    scopes,
    redirectTo,
    ...(codeVerifier ? { codeVerifier } : {}),
    ...(input.integrationId ? { integrationId: input.integrationId } : {}),
    createdAt: new Date().toISOString(),
  });
  const url = oauth.authorizeUrl({
    client,
    redirectUri: callbackUrl(input.providerId),
    state,
    scopes,
    ...(codeVerifier ? { codeChallenge: s256Challenge(codeVerifier) } : {}),
  });
  return { url, state };
}

export async function startReconnection(caller: Caller, integrationId: string, redirectTo?: string) {
  const integration = await getIntegration(caller.orgId, integrationId);
  if (!integration) throw notFound('Integration');
  if (integration.status === 'erased') throw badRequest('This integration was erased; connect a new one');
  const known = new Set(findProvider(integration.providerId)?.catalog.scopes.map((scope) => scope.scope));
  return startConnection({
    caller,
    providerId: integration.providerId,
    scopes: integration.scopesGranted.filter((scope) => known.has(scope)),
    ...(redirectTo ? { redirectTo } : {}),
    integrationId: integration.id,
  });
}

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

/**
 * Disconnect: revoke at the provider (best effort: a provider outage must not
 * keep a user connected against their will), drop the tokens, mark the
 * integration disconnected and keep its history. Repeating it is harmless.
 */
export async function disconnectIntegration(caller: Caller, integrationId: string): Promise<void> {
  const integration = await getIntegration(caller.orgId, integrationId);
  if (!integration) throw notFound('Integration');
  const ref = { orgId: integration.orgId, integrationId: integration.id, providerId: integration.providerId };
  const stored = await loadCredentials(ref);
  const client = (() => {
    try {
      return connectableProvider(integration.providerId).client;
    } catch {
      return undefined;
    }
  })();
  // Webhooks stop first, while the access token still works.
  await closeSubscriptions(integration, client, stored?.credentials[0]?.accessToken);
  if (stored && stored.credentials.length > 0) {
    try {
      const { oauth, client } = connectableProvider(integration.providerId);
      await oauth.revoke({ client, credentials: stored.credentials });
    } catch (error) {
      logger.warn('Revocation at the provider failed; tokens are dropped anyway', {
        integrationId,
        errorCode: error instanceof ProviderError ? error.code : error instanceof Error ? error.name : 'unknown',
      });
    }
  }
  await deleteCredentials(ref);
  await scheduleSync(integration.orgId, integration.id, undefined);
  if (integration.status !== 'active') return;

  const now = new Date();
  const record = await updateLatestIntegration(integration.orgId, integration.id, {
    status: 'disconnected',
    healthStatus: 'disconnected',
    healthReason: 'user_disconnected',
    healthChangedAt: now.toISOString(),
    disconnectedAt: now.toISOString(),
  });
  if (record) await publishHealthChanged(integration, record, now);
  await publishEvents([
    {
      type: 'integration.disconnected',
      orgId: integration.orgId,
      integrationId,
      detail: { providerId: integration.providerId, reason: 'user_disconnected', disconnectedBy: caller.userId },
    },
  ]);
}
