import * as z from 'zod';
import { ProviderError, grantError } from '../../oauth/errors';
import { formBody, providerFetch } from '../../oauth/http';
import { credentialFrom, splitSpaceScopes, tokenEndpointCall } from '../../oauth/token-response';
import type { OAuthClient, ProviderOAuth } from '../../oauth/types';

/**
 * Asana OAuth: PKCE S256, space-separated `<resource>:<action>` scopes, the
 * client id and secret in the token request's body, access tokens for an
 * hour and refresh tokens that are never rotated (a refresh answer has none;
 * the stored one is kept). The token answer names the user but not the
 * scopes, so `/-/token_info` is asked for them and `/users/me` for the
 * workspaces. Revocation takes the refresh token only (one per grant): it
 * ends the grant and its access tokens.
 */
export const ASANA_CREDENTIAL = 'oauth';

const tokenInfo = z.object({ active: z.boolean(), scope: z.string().optional() });
const me = z.object({ data: z.object({ gid: z.string().min(1), name: z.string().optional(), email: z.string().optional(), workspaces: z.array(z.object({ gid: z.string() })).default([]) }) });

const tokenUrl = (client: OAuthClient) => `${client.hosts.app}/-/oauth_token`;

export const asanaOAuth: ProviderOAuth = {
  pkce: true,
  hosts: { app: 'https://app.asana.com' },
  credentialEnv: { clientId: 'ASANA_CLIENT_ID', clientSecret: 'ASANA_CLIENT_SECRET' },

  authorizeUrl({ client, redirectUri, state, scopes, codeChallenge }) {
    const url = new URL(`${client.hosts.app}/-/oauth_authorize`);
    url.search = formBody({
      client_id: client.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      state,
      scope: scopes.join(' '),
      code_challenge: codeChallenge,
      code_challenge_method: codeChallenge ? 'S256' : undefined,
    }).toString();
    return url.toString();
  },

  async exchangeCode({ client, code, redirectUri, codeVerifier }) {
    const token = await tokenEndpointCall('asana', tokenUrl(client), client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier });
    const [info, profile] = await Promise.all([
      providerFetch('asana', `${client.hosts.app}/-/token_info`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody({ token: token.access_token, client_id: client.clientId, client_secret: client.clientSecret }),
      }),
      providerFetch('asana', `${client.hosts.app}/api/1.0/users/me`, { headers: { authorization: `Bearer ${token.access_token}`, accept: 'application/json' } }),
    ]);
    const scopes = tokenInfo.safeParse(info.json);
    const user = me.safeParse(profile.json);
    if (profile.status !== 200 || !user.success || !scopes.success) throw new ProviderError('asana', 'profile_failed', profile.status, 'rejected');
    const granted = splitSpaceScopes(scopes.data.scope);
    return {
      account: {
        id: user.data.data.gid,
        ...(user.data.data.email ? { name: user.data.data.email } : {}),
        attributes: {
          userGid: user.data.data.gid,
          ...(user.data.data.email ? { email: user.data.data.email } : {}),
          workspaces: user.data.data.workspaces.map((workspace) => workspace.gid).join(','),
        },
      },
      scopesGranted: granted,
      credentials: [credentialFrom(ASANA_CREDENTIAL, token, granted)],
    };
  },

  async refresh({ client, credential }) {
    if (!credential.refreshToken) throw grantError('asana', 'invalid_grant', 400);
    const token = await tokenEndpointCall('asana', tokenUrl(client), client, { grant_type: 'refresh_token', refresh_token: credential.refreshToken });
    return credentialFrom(credential.kind, token, credential.scopes);
  },

  async revoke({ client, credentials }) {
    for (const credential of credentials) {
      // Asana revokes by refresh token only; a grant without one has nothing to revoke (its access token lapses within the hour).
      if (!credential.refreshToken) continue;
      const response = await providerFetch('asana', `${client.hosts.app}/-/oauth_revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody({ token: credential.refreshToken, client_id: client.clientId, client_secret: client.clientSecret }),
      });
      if (response.status !== 200) throw new ProviderError('asana', `revoke_${response.status}`, response.status, 'rejected');
    }
  },
};
