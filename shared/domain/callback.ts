/**
 * The public OAuth callback: consume the state, exchange the code, and keep
 * the grant sealed as *pending* for its initiator to complete
 * (completion.ts). Nothing is connected here: the browser that arrives may not
 * be the initiator's (consent phishing), and only the initiator's own
 * authenticated request can turn the grant into an integration.
 */
import { logger } from '../logging/logger';
import { errorCodeOf } from '../oauth/errors';
import { consumePendingConnection, stateValueSchema } from '../oauth/state';
import type { GrantResult } from '../oauth/types';
import { PENDING_GRANT_TTL_SECONDS, newPendingGrantId, savePendingGrant } from '../store/pending-grants';
import { callbackUrl, connectableProvider, defaultReturnUrl, type Connectable } from './connect';

/** The outcome of a callback, as the redirect tells it to the HR app. */
export type CallbackOutcome =
  | { ok: true; pendingId: string; providerId: string; redirectTo: string }
  | { ok: false; error: string; redirectTo: string };

export interface CallbackInput {
  providerId: string;
  state?: string;
  code?: string;
  error?: string;
  ipAddress: string;
  userAgent: string;
}

export async function handleCallback(input: CallbackInput): Promise<CallbackOutcome> {
  // The format is checked before any lookup: a state we could not have issued is refused as such.
  const state = stateValueSchema.safeParse(input.state);
  const pending = state.success ? await consumePendingConnection(state.data, input.providerId) : undefined;
  if (!pending) {
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
    logger.warn('Code exchange failed', { providerId: input.providerId, errorCode: errorCodeOf(error) });
    return fail('exchange_failed');
  }

  const now = new Date();
  const pendingId = newPendingGrantId();
  await savePendingGrant(
    pendingId,
    {
      orgId: pending.orgId,
      userId: pending.userId,
      providerId: pending.providerId,
      scopesRequested: pending.scopes,
      redirectTo: pending.redirectTo,
      ...(pending.integrationId ? { integrationId: pending.integrationId } : {}),
      accountId: grant.account.id,
      ...(grant.account.name ? { accountName: grant.account.name } : {}),
      scopesGranted: grant.scopesGranted,
      ipAddress: input.ipAddress,
      userAgent: input.userAgent.slice(0, 512),
      exchangedAt: now.toISOString(),
      completeBy: new Date(now.getTime() + PENDING_GRANT_TTL_SECONDS * 1000).toISOString(),
    },
    grant.credentials,
  );
  return { ok: true, pendingId, providerId: pending.providerId, redirectTo: pending.redirectTo };
}
