import * as z from 'zod';
import { ProviderError, grantError } from '../../oauth/errors';
import { formBody, providerFetch } from '../../oauth/http';
import { credentialFrom, idTokenClaims, splitSpaceScopes, tokenEndpointCall } from '../../oauth/token-response';
import type { OAuthClient, ProviderOAuth } from '../../oauth/types';

/**
 * Microsoft identity platform v2: space-separated scopes (`offline_access`
 * for a refresh token), PKCE S256, a new refresh token on every refresh while
 * the old one keeps working, and no revocation endpoint for delegated tokens:
 * disconnect drops the tokens (and, in the webhooks issue, the subscriptions).
 */
export const MICROSOFT_CREDENTIAL = 'oauth';
const TENANT_ENV = 'MICROSOFT_TENANT';

const me = z.object({
  id: z.string().min(1),
  displayName: z.string().nullish(),
  mail: z.string().nullish(),
  userPrincipalName: z.string().min(1),
});

const tenant = () => process.env[TENANT_ENV] || 'common';

const tokenCall = (client: OAuthClient, fields: Record<string, string | undefined>) =>
  tokenEndpointCall('microsoft', `${client.hosts.login}/${tenant()}/oauth2/v2.0/token`, client, fields);

export const microsoftOAuth: ProviderOAuth = {
  pkce: true,
  hosts: { login: 'https://login.microsoftonline.com', graph: 'https://graph.microsoft.com' },
  credentialEnv: { clientId: 'MICROSOFT_CLIENT_ID', clientSecret: 'MICROSOFT_CLIENT_SECRET' },

  authorizeUrl({ client, redirectUri, state, scopes, codeChallenge }) {
    const url = new URL(`${client.hosts.login}/${tenant()}/oauth2/v2.0/authorize`);
    url.search = formBody({
      client_id: client.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      response_mode: 'query',
      scope: scopes.join(' '),
      state,
      prompt: 'select_account',
      code_challenge: codeChallenge,
      code_challenge_method: codeChallenge ? 'S256' : undefined,
    }).toString();
    return url.toString();
  },

  async exchangeCode({ client, code, redirectUri, codeVerifier }) {
    const token = await tokenCall(client, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: codeVerifier,
    });
    const claims = idTokenClaims(token.id_token);
    const tenantId = typeof claims.tid === 'string' ? claims.tid : undefined;
    const profileResponse = await providerFetch('microsoft', `${client.hosts.graph}/v1.0/me`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    const profile = me.safeParse(profileResponse.json);
    if (profileResponse.status !== 200 || !profile.success || !tenantId) {
      throw new ProviderError('microsoft', 'profile_failed', profileResponse.status, 'rejected');
    }
    const scopes = splitSpaceScopes(token.scope);
    return {
      account: {
        id: `${tenantId}:${profile.data.id}`,
        name: profile.data.mail ?? profile.data.userPrincipalName,
        attributes: { tenantId, userId: profile.data.id, userPrincipalName: profile.data.userPrincipalName },
      },
      scopesGranted: scopes,
      credentials: [credentialFrom(MICROSOFT_CREDENTIAL, token, scopes)],
    };
  },

  async refresh({ client, credential }) {
    if (!credential.refreshToken) throw grantError('microsoft', 'invalid_grant', 400);
    // Ask for the resource scopes granted; `offline_access`/`openid` are implied by the refresh token.
    const token = await tokenCall(client, {
      grant_type: 'refresh_token',
      refresh_token: credential.refreshToken,
      scope: credential.scopes.join(' '),
    });
    return credentialFrom(credential.kind, token, credential.scopes);
  },

  async revoke() {
    // Microsoft has no endpoint to revoke one app's delegated tokens; dropping them is what remains.
  },
};
