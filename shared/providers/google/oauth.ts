import * as z from 'zod';
import { MalformedProviderResponseError, ProviderError, grantError } from '../../oauth/errors';
import { expiresAtFrom, formBody, providerFetch } from '../../oauth/http';
import { oauthErrorResponse, oauthTokenResponse, splitSpaceScopes } from '../../oauth/token-response';
import type { OAuthClient, ProviderOAuth } from '../../oauth/types';

/**
 * Google OAuth 2.0: space-separated scopes, `access_type=offline` and
 * `prompt=consent` so a refresh token is always issued, PKCE S256; refresh
 * tokens do not rotate (the refresh response omits them); a dead grant is a
 * 400 `invalid_grant`.
 */
export const GOOGLE_CREDENTIAL = 'oauth';

const userInfo = z.object({ sub: z.string().min(1), email: z.string().min(3), name: z.string().optional(), hd: z.string().optional() });

async function tokenCall(client: OAuthClient, fields: Record<string, string | undefined>) {
  const response = await providerFetch('google', `${client.hosts.oauth2}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody({ ...fields, client_id: client.clientId, client_secret: client.clientSecret }),
  });
  if (response.status !== 200) {
    const error = oauthErrorResponse.safeParse(response.json);
    throw grantError('google', error.success ? error.data.error : `http_${response.status}`, response.status);
  }
  const parsed = oauthTokenResponse.safeParse(response.json);
  if (!parsed.success) throw new MalformedProviderResponseError('google', 'token response');
  return parsed.data;
}

export const googleOAuth: ProviderOAuth = {
  pkce: true,
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
      credentials: [
        {
          kind: GOOGLE_CREDENTIAL,
          accessToken: token.access_token,
          ...(token.refresh_token ? { refreshToken: token.refresh_token } : {}),
          // No expires_in: assume an hour rather than "never", so the token is refreshed in time.
          expiresAt: expiresAtFrom(token.expires_in ?? 3600),
          scopes,
        },
      ],
    };
  },

  async refresh({ client, credential }) {
    if (!credential.refreshToken) throw grantError('google', 'invalid_grant', 400);
    const token = await tokenCall(client, { grant_type: 'refresh_token', refresh_token: credential.refreshToken });
    return {
      kind: credential.kind,
      accessToken: token.access_token,
      ...(token.refresh_token ? { refreshToken: token.refresh_token } : {}),
      expiresAt: expiresAtFrom(token.expires_in ?? 3600),
      scopes: token.scope ? splitSpaceScopes(token.scope) : credential.scopes,
    };
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
