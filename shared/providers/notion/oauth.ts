import * as z from 'zod';
import { MalformedProviderResponseError, grantError } from '../../oauth/errors';
import { basicAuth, formBody, providerFetch } from '../../oauth/http';
import { oauthErrorResponse } from '../../oauth/token-response';
import type { Credential, GrantResult, OAuthClient, ProviderOAuth } from '../../oauth/types';

/**
 * Notion OAuth (a public integration): `owner=user` and no scopes (the user
 * picks the pages to share on Notion's screen), no PKCE (Notion does not
 * take it), the token endpoint with HTTP Basic client authentication and a
 * JSON body, and `Notion-Version` on every call. Access tokens carry no
 * expiry; a refresh token is stored when Notion issues one (and replaced by
 * the one each refresh returns). The account is the workspace: one
 * integration per organisation and Notion workspace. Disconnect revokes the
 * access token (`/v1/oauth/revoke`), which removes the integration's access
 * to the workspace.
 */
export const NOTION_CREDENTIAL = 'oauth';
/** The API version every call names; the payloads and search filters here are this version's. */
export const NOTION_VERSION = '2022-06-28';
export const notionHeaders = { 'notion-version': NOTION_VERSION } as const;

const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  refresh_token: z.string().min(1).nullish(),
  bot_id: z.string().min(1),
  workspace_id: z.string().min(1),
  workspace_name: z.string().nullish(),
  owner: z.looseObject({ type: z.string(), user: z.looseObject({ id: z.string(), person: z.object({ email: z.string() }).optional() }).optional() }),
});

async function call(client: OAuthClient, path: 'token' | 'revoke', body: Record<string, unknown>) {
  return providerFetch('notion', `${client.hosts.api}/v1/oauth/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth(client.clientId, client.clientSecret), ...notionHeaders },
    body: JSON.stringify(body),
  });
}

async function tokenCall(client: OAuthClient, body: Record<string, unknown>): Promise<z.infer<typeof tokenResponse>> {
  const response = await call(client, 'token', body);
  if (response.status !== 200) {
    const error = oauthErrorResponse.safeParse(response.json);
    throw grantError('notion', error.success ? error.data.error : `http_${response.status}`, response.status);
  }
  const parsed = tokenResponse.safeParse(response.json);
  if (!parsed.success) throw new MalformedProviderResponseError('notion', 'token response');
  return parsed.data;
}

const credentialOf = (kind: string, token: z.infer<typeof tokenResponse>): Credential => ({
  kind,
  accessToken: token.access_token,
  ...(token.refresh_token ? { refreshToken: token.refresh_token } : {}),
  scopes: [],
});

export const notionOAuth: ProviderOAuth = {
  pkce: false,
  hosts: { api: 'https://api.notion.com' },
  credentialEnv: { clientId: 'NOTION_CLIENT_ID', clientSecret: 'NOTION_CLIENT_SECRET' },

  authorizeUrl({ client, redirectUri, state }) {
    const url = new URL(`${client.hosts.api}/v1/oauth/authorize`);
    url.search = formBody({ client_id: client.clientId, response_type: 'code', owner: 'user', redirect_uri: redirectUri, state }).toString();
    return url.toString();
  },

  async exchangeCode({ client, code, redirectUri }): Promise<GrantResult> {
    const token = await tokenCall(client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri });
    const email = token.owner.user?.person?.email;
    return {
      account: {
        id: token.workspace_id,
        ...(token.workspace_name ? { name: token.workspace_name } : {}),
        attributes: { workspaceId: token.workspace_id, botId: token.bot_id, ...(token.owner.user ? { userId: token.owner.user.id } : {}), ...(email ? { email } : {}) },
      },
      scopesGranted: [],
      credentials: [credentialOf(NOTION_CREDENTIAL, token)],
    };
  },

  async refresh({ client, credential }) {
    // Without a refresh token a refused access token is a dead grant.
    if (!credential.refreshToken) throw grantError('notion', 'invalid_grant', 400);
    return credentialOf(credential.kind, await tokenCall(client, { grant_type: 'refresh_token', refresh_token: credential.refreshToken }));
  },

  async revoke({ client, credentials }) {
    for (const credential of credentials) {
      const response = await call(client, 'revoke', { token: credential.accessToken });
      // 400/401: already revoked or unknown, which is the goal.
      if (response.status !== 200 && response.status !== 400 && response.status !== 401) throw grantError('notion', `revoke_${response.status}`, response.status);
    }
  },
};
