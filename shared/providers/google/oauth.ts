import * as z from 'zod';
import { ProviderError, grantError } from '../../oauth/errors';
import { formBody, providerFetch } from '../../oauth/http';
import { credentialFrom, splitSpaceScopes, tokenEndpointCall } from '../../oauth/token-response';
import type { OAuthClient, ProviderOAuth } from '../../oauth/types';

/**
 * Google OAuth 2.0: space-separated scopes, `access_type=offline` and
 * `prompt=consent` so a refresh token is always issued, PKCE S256; refresh
 * tokens do not rotate (the refresh response omits them); a dead grant is a
 * 400 `invalid_grant`.
 */
export const GOOGLE_CREDENTIAL = 'oauth';

const userInfo = z.object({ sub: z.string().min(1), email: z.string().min(3), name: z.string().optional(), hd: z.string().optional() });

const tokenCall = (client: OAuthClient, fields: Record<string, string | undefined>) =>
  tokenEndpointCall('google', `${client.hosts.oauth2}/token`, client, fields);

export const googleOAuth: ProviderOAuth = {
  pkce: true,
  reconnectJoinsGrant: true,
  hosts: {
    accounts: 'https://accounts.google.com',
    oauth2: 'https://oauth2.googleapis.com',
    openidconnect: 'https://openidconnect.googleapis.com',
    www: 'https://www.googleapis.com',
    gmail: 'https://gmail.googleapis.com',
  },
  credentialEnv: { clientId: 'GOOGLE_CLIENT_ID', clientSecret: 'GOOGLE_CLIENT_SECRET' },

  authorizeUrl({ client, redirectUri, state, scopes, codeChallenge }) {
    const url = new URL(`${client.hosts.accounts}/o/oauth2/v2/auth`);
    url.search = formBody({
      client_id: client.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: scopes.join(' '),
      state,
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
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
    const profileResponse = await providerFetch('google', `${client.hosts.openidconnect}/v1/userinfo`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    const profile = userInfo.safeParse(profileResponse.json);
    if (profileResponse.status !== 200 || !profile.success) {
      throw new ProviderError('google', 'userinfo_failed', profileResponse.status, 'rejected');
    }
    const scopes = splitSpaceScopes(token.scope);
    return {
      account: {
        id: profile.data.sub,
        name: profile.data.email,
        attributes: { userId: profile.data.sub, email: profile.data.email, ...(profile.data.hd ? { domain: profile.data.hd } : {}) },
      },
      scopesGranted: scopes,
      credentials: [credentialFrom(GOOGLE_CREDENTIAL, token, scopes)],
    };
  },

  async refresh({ client, credential }) {
    if (!credential.refreshToken) throw grantError('google', 'invalid_grant', 400);
    const token = await tokenCall(client, { grant_type: 'refresh_token', refresh_token: credential.refreshToken });
    return credentialFrom(credential.kind, token, credential.scopes);
  },

  async revoke({ client, credentials }) {
    // Revoking the refresh token ends the whole grant; fall back to the access token.
    for (const credential of credentials) {
      const token = credential.refreshToken ?? credential.accessToken;
      const response = await providerFetch('google', `${client.hosts.oauth2}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody({ token }),
      });
      // 400 invalid_token: already revoked or expired, which is the goal.
      if (response.status !== 200 && response.status !== 400) {
        throw new ProviderError('google', `revoke_${response.status}`, response.status, 'rejected');
      }
    }
  },
};
