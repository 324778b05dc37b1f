import * as z from 'zod';
import { checkCode, handleAuthorize, parseEmailAccount, type AuthorizeSpec } from './authorize';
import { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import { clientCredentials, jsonResponse, parseBody, type SandboxRequest, type SandboxResponse } from './http';
import { randomDigits, randomHex, stableDigits } from './ids';
import type { GrantRecord, SandboxStore } from './state';

/**
 * Asana's OAuth server: `/-/oauth_authorize` (PKCE S256, space-separated
 * `<resource>:<action>` scopes), `/-/oauth_token` with the client id and
 * secret in the form body (not Basic), access tokens for an hour, refresh
 * tokens that are never rotated (a refresh answer has none), and
 * `/-/oauth_revoke`, which takes only a refresh token (a bearer token is a
 * 400) and answers 200 whether it found the token or not; `/-/token_info`
 * tells a token's type and scopes.
 */
export const ASANA_ACCESS_TTL_SECONDS = 3_600;

/** Asana user gids are long decimal strings; the sandbox derives a stable one from the account. */
export const asanaUserGid = (account: string): string => `12${stableDigits(`asana-user:${account}`, 14)}`;
export const asanaUserName = (account: string): string =>
  (account.split('@')[0] ?? account)
    .split(/[._+-]+/)
    .filter((word) => word !== '')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');

/** Asana tokens look like `2/<user gid>/<digits>:<32 hex>`. */
const newToken = (grant: GrantRecord): string => `2/${asanaUserGid(grant.account)}/${randomDigits(16)}:${randomHex(16)}`;

const tokenForm = z.object({
  grant_type: z.string().optional(),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  refresh_token: z.string().optional(),
  token: z.string().optional(),
});

const oauthError = (status: number, error: string, description: string): SandboxResponse => jsonResponse(status, { error, error_description: description });

export function createAsanaOAuth(store: SandboxStore) {
  const client = SANDBOX_CLIENTS.asana;

  const spec: AuthorizeSpec = {
    provider: 'asana',
    providerName: 'Asana',
    scopeSeparator: ' ',
    userScopes: false,
    requireResponseType: true,
    accountLabel: 'Asana account (email) to authorize as',
    defaultAccount: () => SANDBOX_DEFAULT_ACCOUNTS.asana,
    parseAccount: (raw) => parseEmailAccount(raw, 'Enter an email address, e.g. admin@sandbox-asana.test.'),
    problemMode: 'redirect',
    invalidClient: (clientId) => ({ error: 'invalid_client', description: `The client_id ${clientId ?? '(none)'} is not a registered app.` }),
    invalidRedirect: (uri) => ({ error: 'invalid_request', description: `The redirect_uri ${uri ?? '(none)'} does not match the app's redirect URL.` }),
    problem: (kind, detail) => ({
      error: kind === 'scope' ? 'invalid_scope' : kind === 'response_type' ? 'unsupported_response_type' : 'invalid_request',
      description: detail || `The request is missing its ${kind === 'scope' ? 'scope' : kind}.`,
    }),
    redirectErrorParams: (problem) => ({ error_description: problem.description }),
    offline: () => true,
    newCode: () => randomDigits(9),
    denyParams: () => ({ error: 'access_denied', error_description: 'The user denied the request.' }),
  };

  function issue(grant: GrantRecord, withRefresh: boolean): SandboxResponse {
    const access = newToken(grant);
    store.issueToken(grant, 'access', access, ASANA_ACCESS_TTL_SECONDS);
    const body: Record<string, unknown> = {
      access_token: access,
      expires_in: ASANA_ACCESS_TTL_SECONDS,
      token_type: 'bearer',
      data: { id: Number(asanaUserGid(grant.account)), gid: asanaUserGid(grant.account), name: asanaUserName(grant.account), email: grant.account },
    };
    if (withRefresh) {
      const refresh = newToken(grant);
      store.issueToken(grant, 'refresh', refresh, undefined);
      body.refresh_token = refresh;
    }
    return jsonResponse(200, body);
  }

  /** `client_id` and `client_secret` must come in the form body. */
  function clientProblem(request: SandboxRequest, form: Record<string, string>): SandboxResponse | undefined {
    const credentials = clientCredentials({}, form);
    if (clientCredentials(request.headers, {}).via === 'basic' && credentials.via === 'none') {
      return oauthError(400, 'invalid_request', 'client_id and client_secret must be sent in the request body.');
    }
    if (credentials.clientId !== client.clientId || credentials.clientSecret !== client.clientSecret) {
      return oauthError(401, 'invalid_client', 'The client_id or client_secret is invalid.');
    }
    return undefined;
  }

  function formOf(request: SandboxRequest): Record<string, string> | undefined {
    const body = parseBody(request);
    return body.kind === 'form' ? body.params : body.kind === 'empty' ? {} : undefined;
  }

  function token(request: SandboxRequest): SandboxResponse {
    const form = formOf(request);
    if (!form) return oauthError(400, 'invalid_request', 'The request body must be application/x-www-form-urlencoded.');
    const problem = clientProblem(request, form);
    if (problem) return problem;
    const params = tokenForm.parse(form);
    if (params.grant_type === 'authorization_code') {
      const check = checkCode(store, 'asana', client.clientId, { code: params.code, redirectUri: params.redirect_uri, codeVerifier: params.code_verifier });
      if (!check.ok) {
        const description = {
          missing_code: 'The code parameter is missing.',
          invalid_code: 'The code is invalid, expired or already used.',
          redirect_mismatch: 'The redirect_uri does not match the one the code was issued for.',
          missing_verifier: 'The code_verifier is missing.',
          bad_verifier: 'The code_verifier does not match the code_challenge.',
        }[check.reason];
        return oauthError(400, check.reason === 'missing_code' ? 'invalid_request' : 'invalid_grant', description);
      }
      store.markCodeUsed(check.key);
      const grant = store.createGrant({ provider: 'asana', clientId: client.clientId, account: check.code.account, kind: 'oauth', scopes: check.code.scopes, offline: true });
      return issue(grant, true);
    }
    if (params.grant_type === 'refresh_token') {
      const found = params.refresh_token ? store.lookupToken('asana', params.refresh_token) : { status: 'unknown' as const };
      if (found.status !== 'active' || found.token.kind !== 'refresh') return oauthError(400, 'invalid_grant', 'The refresh token is invalid or has been revoked.');
      // Not rotated: the answer carries no refresh token; the one presented stays valid.
      return issue(found.grant, false);
    }
    return oauthError(400, 'unsupported_grant_type', `grant_type ${params.grant_type ?? '(none)'} is not supported.`);
  }

  function revoke(request: SandboxRequest): SandboxResponse {
    const form = formOf(request);
    if (!form) return oauthError(400, 'invalid_request', 'The request body must be application/x-www-form-urlencoded.');
    const problem = clientProblem(request, form);
    if (problem) return problem;
    const raw = tokenForm.parse(form).token;
    if (!raw) return oauthError(400, 'invalid_request', 'The token parameter is missing.');
    const found = store.lookupToken('asana', raw);
    if (found.status !== 'unknown' && found.token.kind === 'access') return oauthError(400, 'invalid_request', 'Only refresh tokens can be revoked.');
    // "deauthorized or not found": 200 either way.
    if (found.status !== 'unknown') store.revokeGrant(found.grant.id);
    return jsonResponse(200, {});
  }

  /** `/-/token_info`: what a token is and the scopes it carries. */
  function tokenInfo(request: SandboxRequest): SandboxResponse {
    const form = formOf(request);
    const raw = form ? tokenForm.parse(form).token : undefined;
    const found = raw ? store.lookupToken('asana', raw) : { status: 'unknown' as const };
    if (found.status !== 'active') return jsonResponse(200, { active: false });
    const exp = found.token.expiresAt === undefined ? undefined : Math.floor(found.token.expiresAt / 1000);
    return jsonResponse(200, {
      active: true,
      token_type: found.token.kind === 'access' ? 'bearer' : 'refresh',
      scope: found.grant.scopes.join(' '),
      ...(exp !== undefined ? { exp, expires_in: Math.max(0, exp - Math.floor(store.now() / 1000)) } : {}),
    });
  }

  return {
    authorize: (request: SandboxRequest) => handleAuthorize(store, spec, request),
    token,
    revoke,
    tokenInfo,
  };
}
