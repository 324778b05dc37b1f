import * as z from 'zod';
import { MalformedProviderResponseError, grantError } from '../../oauth/errors';
import { basicAuth, expiresAtFrom, formBody, providerFetch } from '../../oauth/http';
import type { Credential, OAuthClient, ProviderOAuth } from '../../oauth/types';

/**
 * Slack OAuth v2: comma-joined scopes, bot scopes in `scope` and user scopes
 * in `user_scope`; errors are HTTP 200 `ok:false`; with token rotation each
 * of the bot and user tokens has its own expiry and a single-use refresh token.
 */
export const USER_SCOPE_PREFIX = 'user:';
export const SLACK_BOT = 'slack-bot';
export const SLACK_USER = 'slack-user';

const failure = z.object({ ok: z.literal(false), error: z.string() });

const tokenFields = {
  access_token: z.string().min(1),
  scope: z.string().default(''),
  expires_in: z.number().int().positive().optional(),
  refresh_token: z.string().min(1).optional(),
};

const accessResponse = z.object({
  ok: z.literal(true),
  ...tokenFields,
  token_type: z.literal('bot'),
  bot_user_id: z.string().optional(),
  team: z.object({ id: z.string().min(1), name: z.string().optional() }),
  enterprise: z.object({ id: z.string() }).nullish(),
  authed_user: z.object({
    id: z.string().min(1),
    scope: z.string().optional(),
    access_token: z.string().min(1).optional(),
    expires_in: z.number().int().positive().optional(),
    refresh_token: z.string().min(1).optional(),
  }),
});

const refreshResponse = z.object({ ok: z.literal(true), ...tokenFields, token_type: z.enum(['bot', 'user']).optional() });

const splitScopes = (scopes: string) => scopes.split(',').map((scope) => scope.trim()).filter(Boolean);

async function callAccess(client: OAuthClient, fields: Record<string, string | undefined>): Promise<unknown> {
  const response = await providerFetch('slack', `${client.hosts.slack}/api/oauth.v2.access`, {
    method: 'POST',
    headers: { authorization: basicAuth(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody(fields),
  });
  const error = failure.safeParse(response.json);
  if (error.success) throw grantError('slack', error.data.error, response.status);
  return response.json;
}

export const slackOAuth: ProviderOAuth = {
  pkce: true,
  hosts: { slack: 'https://slack.com' },
  credentialEnv: { clientId: 'SLACK_CLIENT_ID', clientSecret: 'SLACK_CLIENT_SECRET' },

  authorizeUrl({ client, redirectUri, state, scopes, codeChallenge }) {
    const url = new URL(`${client.hosts.slack}/oauth/v2/authorize`);
    const botScopes = scopes.filter((scope) => !scope.startsWith(USER_SCOPE_PREFIX));
    const userScopes = scopes.filter((scope) => scope.startsWith(USER_SCOPE_PREFIX)).map((scope) => scope.slice(USER_SCOPE_PREFIX.length));
    url.search = formBody({
      client_id: client.clientId,
      scope: botScopes.join(','),
      user_scope: userScopes.length > 0 ? userScopes.join(',') : undefined,
      redirect_uri: redirectUri,
      state,
      code_challenge: codeChallenge,
      code_challenge_method: codeChallenge ? 'S256' : undefined,
    }).toString();
    return url.toString();
  },

  async exchangeCode({ client, code, redirectUri, codeVerifier }) {
    const parsed = accessResponse.safeParse(
      await callAccess(client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier }),
    );
    if (!parsed.success) throw new MalformedProviderResponseError('slack', 'oauth.v2.access response');
    const body = parsed.data;
    const now = new Date();
    const bot: Credential = {
      kind: SLACK_BOT,
      accessToken: body.access_token,
      ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}),
      ...(body.expires_in ? { expiresAt: expiresAtFrom(body.expires_in, now) } : {}),
      scopes: splitScopes(body.scope),
    };
    const user = body.authed_user;
    const userScopes = splitScopes(user.scope ?? '');
    const credentials: Credential[] = [bot];
    if (user.access_token) {
      credentials.push({
        kind: SLACK_USER,
        accessToken: user.access_token,
        ...(user.refresh_token ? { refreshToken: user.refresh_token } : {}),
        ...(user.expires_in ? { expiresAt: expiresAtFrom(user.expires_in, now) } : {}),
        scopes: userScopes,
      });
    }
    return {
      account: {
        id: body.team.id,
        ...(body.team.name ? { name: body.team.name } : {}),
        attributes: {
          teamId: body.team.id,
          installerUserId: user.id,
          ...(body.bot_user_id ? { botUserId: body.bot_user_id } : {}),
          ...(body.enterprise?.id ? { enterpriseId: body.enterprise.id } : {}),
        },
      },
      scopesGranted: [...bot.scopes, ...userScopes.map((scope) => `${USER_SCOPE_PREFIX}${scope}`)],
      credentials,
    };
  },

  async refresh({ client, credential }) {
    if (!credential.refreshToken) throw grantError('slack', 'invalid_refresh_token', 200);
    const parsed = refreshResponse.safeParse(
      await callAccess(client, { grant_type: 'refresh_token', refresh_token: credential.refreshToken }),
    );
    if (!parsed.success) throw new MalformedProviderResponseError('slack', 'refresh response');
    const body = parsed.data;
    return {
      kind: credential.kind,
      accessToken: body.access_token,
      ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}),
      ...(body.expires_in ? { expiresAt: expiresAtFrom(body.expires_in) } : {}),
      scopes: body.scope ? splitScopes(body.scope) : credential.scopes,
    };
  },

  async revoke({ client, credentials }) {
    // auth.revoke revokes the token it is called with: once for the bot token, once for the user token.
    for (const credential of credentials) {
      const response = await providerFetch('slack', `${client.hosts.slack}/api/auth.revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${credential.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      });
      const error = failure.safeParse(response.json);
      // Already revoked or expired is what we want anyway.
      if (error.success && !['token_revoked', 'invalid_auth', 'token_expired', 'account_inactive'].includes(error.data.error)) {
        throw grantError('slack', error.data.error, response.status);
      }
    }
  },
};
