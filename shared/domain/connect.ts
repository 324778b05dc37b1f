import * as z from 'zod';
import { apiConfig, appConfig } from '../config';
import { oauthClient } from '../oauth/clients';
import { createCodeVerifier, s256Challenge } from '../oauth/pkce';
import { newStateValue, savePendingConnection } from '../oauth/state';
import type { OAuthClient, ProviderOAuth } from '../oauth/types';
import { findProvider } from '../providers/registry';
import type { ProviderDefinition } from '../providers/types';
import { AppError, badRequest, validationFailed } from './errors';
import { requireVisibleIntegration } from './lifecycle';

/**
 * Starting OAuth (connect and reconnect): which provider and scopes, where
 * the browser may return, the state and PKCE verifier. No token is handled
 * here, so these functions bundle no vault.
 */
export interface Caller {
  orgId: string;
  userId: string;
}

/** What connect and reconnect answer: the provider's consent page to send the browser to, and the state bound to it. */
export const authorizationStartSchema = z.object({ url: z.url(), state: z.string() });

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

export interface Connectable {
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
  const integration = await requireVisibleIntegration(caller.orgId, integrationId);
  const known = new Set(findProvider(integration.providerId)?.catalog.scopes.map((scope) => scope.scope));
  return startConnection({
    caller,
    providerId: integration.providerId,
    scopes: integration.scopesGranted.filter((scope) => known.has(scope)),
    ...(redirectTo ? { redirectTo } : {}),
    integrationId: integration.id,
  });
}

