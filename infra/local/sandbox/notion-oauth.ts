import * as z from 'zod';
import { checkCode, handleAuthorize, parseEmailAccount, type AuthorizeSpec } from './authorize';
import { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import { renderErrorPage } from './consent';
import { clientCredentials, htmlResponse, jsonResponse, paramsRecord, parseBody, type SandboxRequest, type SandboxResponse } from './http';
import { randomChars, randomId, stableUuid } from './ids';
import { notionUserId, notionWorkspaceId, notionWorkspaceName, type NotionData } from './notion-data';
import type { GrantRecord, SandboxStore } from './state';

/**
 * Notion's OAuth server (a public integration): `/v1/oauth/authorize` with
 * `owner=user` and no scopes (the user picks pages), `/v1/oauth/token` with
 * HTTP Basic client authentication and a JSON body, `/v1/oauth/revoke` and
 * `/v1/oauth/introspect` (Basic, `{token}`). Access tokens carry no expiry;
 * refresh tokens per the data's `refreshTokens` mode. Every call needs a
 * `Notion-Version` header, checked by the caller (notion.ts).
 */
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const newAccessToken = (): string => `ntn_${randomChars(46, ALNUM)}`;
const newRefreshToken = (): string => `nrt_${randomChars(46, ALNUM)}`;

export const notionError = (status: number, code: string, message: string, headers: Record<string, string> = {}): SandboxResponse =>
  jsonResponse(status, { object: 'error', status, code, message, request_id: randomId() }, headers);

const oauthError = (status: number, error: string, description: string): SandboxResponse => jsonResponse(status, { error, error_description: description, request_id: randomId() });

const tokenBody = z.object({
  grant_type: z.string().optional(),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  refresh_token: z.string().optional(),
});

export function createNotionOAuth(store: SandboxStore, data: NotionData) {
  const client = SANDBOX_CLIENTS.notion;

  const spec: AuthorizeSpec = {
    provider: 'notion',
    providerName: 'Notion',
    scopeSeparator: ' ',
    userScopes: false,
    requireResponseType: true,
    scopesOptional: true,
    accountLabel: 'Notion account (email); its domain names the workspace',
    defaultAccount: () => SANDBOX_DEFAULT_ACCOUNTS.notion,
    parseAccount: (raw) => parseEmailAccount(raw, 'Enter an email address, e.g. admin@sandbox-notion.test.'),
    problemMode: 'page',
    invalidClient: (clientId) => ({ error: 'invalid_client', description: `Missing or invalid client_id: ${clientId ?? '(none)'}` }),
    invalidRedirect: (uri) => ({ error: 'invalid_request', description: `Invalid redirect_uri: ${uri ?? '(none)'}` }),
    problem: (kind, detail) => ({ error: 'invalid_request', description: detail || `Invalid ${kind}` }),
    offline: () => true,
    newCode: () => stableUuid(`notion-code:${randomId()}`),
    denyParams: () => ({ error: 'access_denied' }),
  };

  function authorize(request: SandboxRequest): SandboxResponse {
    const owner = paramsRecord(request.query).owner;
    if (request.method === 'GET' && owner !== 'user') {
      return htmlResponse(400, renderErrorPage({ providerName: 'Notion', title: 'invalid_request', message: 'owner must be "user" for a public integration.' }));
    }
    return handleAuthorize(store, spec, request);
  }

  function issue(grant: GrantRecord): SandboxResponse {
    const access = newAccessToken();
    store.issueToken(grant, 'access', access, undefined);
    let refresh: string | null = null;
    if (data.state.refreshTokens === 'rotating') {
      refresh = newRefreshToken();
      store.issueToken(grant, 'refresh', refresh, undefined);
    }
    return jsonResponse(200, {
      access_token: access,
      token_type: 'bearer',
      refresh_token: refresh,
      bot_id: stableUuid(`notion-bot:${grant.clientId}:${notionWorkspaceId(grant.account)}`),
      workspace_name: notionWorkspaceName(grant.account),
      workspace_icon: null,
      workspace_id: notionWorkspaceId(grant.account),
      owner: { type: 'user', user: { object: 'user', id: notionUserId(grant.account), type: 'person', person: { email: grant.account }, name: grant.account.split('@')[0], avatar_url: null } },
      duplicated_template_id: null,
      request_id: randomId(),
    });
  }

  /** Basic authentication and a JSON object body, or the answer refusing them. */
  function read(request: SandboxRequest): { body: Record<string, unknown> } | SandboxResponse {
    const credentials = clientCredentials(request.headers, {});
    if (credentials.via !== 'basic') return oauthError(401, 'invalid_client', 'Client authentication must use HTTP Basic.');
    if (credentials.clientId !== client.clientId || credentials.clientSecret !== client.clientSecret) return oauthError(401, 'invalid_client', 'Invalid client credentials.');
    const body = parseBody(request);
    const parsed = z.record(z.string(), z.unknown()).safeParse(body.kind === 'json' ? body.value : undefined);
    if (!parsed.success) return notionError(400, 'invalid_json', 'Error parsing JSON body.');
    return { body: parsed.data };
  }

  function token(request: SandboxRequest): SandboxResponse {
    const input = read(request);
    if ('status' in input) return input;
    const params = tokenBody.parse(input.body);
    if (params.grant_type === 'authorization_code') {
      const check = checkCode(store, 'notion', client.clientId, { code: params.code, redirectUri: params.redirect_uri });
      if (!check.ok) return oauthError(400, check.reason === 'missing_code' ? 'invalid_request' : 'invalid_grant', check.reason === 'redirect_mismatch' ? 'Invalid redirect_uri.' : 'Invalid code.');
      store.markCodeUsed(check.key);
      return issue(store.createGrant({ provider: 'notion', clientId: client.clientId, account: check.code.account, kind: 'oauth', scopes: [], offline: true }));
    }
    if (params.grant_type === 'refresh_token') {
      const found = params.refresh_token ? store.lookupToken('notion', params.refresh_token) : { status: 'unknown' as const };
      if (found.status !== 'active' || found.token.kind !== 'refresh') return oauthError(400, 'invalid_grant', 'Invalid refresh token.');
      // Rotation: the presented refresh token is spent; the grant lives on with the new one.
      store.revokeToken(found.key);
      return issue(found.grant);
    }
    return oauthError(400, 'unsupported_grant_type', 'Unsupported grant_type.');
  }

  function revoke(request: SandboxRequest): SandboxResponse {
    const input = read(request);
    if ('status' in input) return input;
    const raw = typeof input.body.token === 'string' ? input.body.token : undefined;
    if (!raw) return notionError(400, 'validation_error', 'body failed validation: body.token should be defined.');
    const found = store.lookupToken('notion', raw);
    if (found.status !== 'unknown') store.revokeGrant(found.grant.id);
    return jsonResponse(200, { request_id: randomId() });
  }

  function introspect(request: SandboxRequest): SandboxResponse {
    const input = read(request);
    if ('status' in input) return input;
    const raw = typeof input.body.token === 'string' ? input.body.token : '';
    const found = store.lookupToken('notion', raw);
    if (found.status !== 'active') return jsonResponse(200, { active: false, request_id: randomId() });
    return jsonResponse(200, { active: true, scope: 'read_content insert_content update_content', iat: Math.floor(found.token.issuedAt / 1000), request_id: randomId() });
  }

  return { authorize, token, revoke, introspect };
}
