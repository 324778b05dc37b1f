import * as z from 'zod';
import { SANDBOX_CLIENTS } from './clients';
import { renderConsentPage, renderErrorPage, type ScopeGroup } from './consent';
import { htmlResponse, paramsRecord, parseBody, redirectResponse, withQuery, isValidRedirectUri, type SandboxRequest, type SandboxResponse } from './http';
import { isValidChallenge, pkceMatches, type PkceMethod } from './ids';
import type { CodeRecord, ProviderId, SandboxStore } from './state';

/**
 * The authorization-code half every provider shares: the consent page, the
 * allow/deny decision, one-time codes bound to client, redirect URI, scopes,
 * PKCE challenge and account; and the checks at the token endpoint.
 * Each provider describes its own parameters and error style in an
 * `AuthorizeSpec`.
 */

export const CODE_TTL_SECONDS = 600;

const authorizeParamsSchema = z.object({
  client_id: z.string().optional(),
  redirect_uri: z.string().optional(),
  response_type: z.string().optional(),
  scope: z.string().optional(),
  user_scope: z.string().optional(),
  state: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  access_type: z.string().optional(),
  login_hint: z.string().optional(),
  team: z.string().optional(),
  nonce: z.string().optional(),
  include_granted_scopes: z.string().optional(),
  decision: z.string().optional(),
  account: z.string().optional(),
});
export type AuthorizeParams = z.infer<typeof authorizeParamsSchema>;

export interface AuthorizeProblem {
  error: string;
  description: string;
}

export interface PendingConsent {
  params: AuthorizeParams;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  userScopes: string[];
  pkce: CodeRecord['pkce'];
}

export interface AuthorizeSpec {
  provider: ProviderId;
  providerName: string;
  scopeSeparator: ',' | ' ';
  /** Slack's separate `user_scope`. */
  userScopes: boolean;
  requireResponseType: boolean;
  /** Notion: no scopes at all (the user picks pages on the consent screen). */
  scopesOptional?: boolean;
  accountLabel: string;
  defaultAccount(params: AuthorizeParams): string;
  parseAccount(raw: string): { account: string } | { problem: string };
  /** Microsoft: the account must belong to the tenant of the URL. */
  accountProblem?(account: string): string | undefined;
  /** Problems found once client and redirect URI are known good: an error page, or a redirect with `error` (Microsoft). */
  problemMode: 'page' | 'redirect';
  invalidClient(clientId: string | undefined): AuthorizeProblem;
  invalidRedirect(redirectUri: string | undefined): AuthorizeProblem;
  problem(kind: 'response_type' | 'scope' | 'pkce', detail: string): AuthorizeProblem;
  /** Extra parameters of an error redirect (Microsoft's `error_description`). */
  redirectErrorParams?(problem: AuthorizeProblem): Record<string, string>;
  offline(params: AuthorizeParams, scopes: string[]): boolean;
  /** Scopes actually granted (Google `include_granted_scopes`). */
  grantedScopes?(requested: string[], account: string, clientId: string, params: AuthorizeParams): string[];
  newCode(): string;
  successParams?(code: CodeRecord): Record<string, string>;
  denyParams(): Record<string, string>;
  tenant?: string;
}

/** The account typed on a consent page, as an email-like address (Google email, Microsoft UPN). */
export function parseEmailAccount(raw: string, problem: string): { account: string } | { problem: string } {
  const address = raw.toLowerCase();
  return /^[^\s@<>()",;:]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(address) ? { account: address } : { problem };
}

export function splitScopes(value: string | undefined, separator: ',' | ' '): string[] {
  if (!value) return [];
  const parts = separator === ',' ? value.split(',') : value.split(/\s+/);
  return [...new Set(parts.map((part) => part.trim()).filter((part) => part !== ''))];
}

function errorPage(spec: AuthorizeSpec, problem: AuthorizeProblem): SandboxResponse {
  return htmlResponse(400, renderErrorPage({ providerName: spec.providerName, title: problem.error, message: problem.description }));
}

function lastSegment(path: string): string {
  return path.split('/').filter((part) => part !== '').pop() ?? '';
}

export function handleAuthorize(store: SandboxStore, spec: AuthorizeSpec, request: SandboxRequest): SandboxResponse {
  const raw: Record<string, string> = { ...paramsRecord(request.query) };
  if (request.method === 'POST') {
    const body = parseBody(request);
    if (body.kind === 'form') Object.assign(raw, body.params);
  }
  const params = authorizeParamsSchema.parse(raw);

  const client = SANDBOX_CLIENTS[spec.provider];
  if (params.client_id !== client.clientId) return errorPage(spec, spec.invalidClient(params.client_id));
  if (!isValidRedirectUri(params.redirect_uri)) return errorPage(spec, spec.invalidRedirect(params.redirect_uri));
  const redirectUri = params.redirect_uri;

  const fail = (problem: AuthorizeProblem): SandboxResponse =>
    spec.problemMode === 'redirect'
      ? redirectResponse(withQuery(redirectUri, { error: problem.error, ...spec.redirectErrorParams?.(problem), state: params.state }))
      : errorPage(spec, problem);

  if (spec.requireResponseType && params.response_type !== 'code') {
    return fail(spec.problem('response_type', params.response_type ?? ''));
  }
  const scopes = splitScopes(params.scope, spec.scopeSeparator);
  const userScopes = spec.userScopes ? splitScopes(params.user_scope, spec.scopeSeparator) : [];
  if (scopes.length === 0 && userScopes.length === 0 && !spec.scopesOptional) return fail(spec.problem('scope', ''));

  let pkce: CodeRecord['pkce'];
  if (params.code_challenge !== undefined) {
    const method = params.code_challenge_method ?? 'plain';
    if (method !== 'S256' && method !== 'plain') return fail(spec.problem('pkce', `Unsupported code_challenge_method: ${method}`));
    if (!isValidChallenge(params.code_challenge, method)) return fail(spec.problem('pkce', 'Invalid code_challenge'));
    pkce = { challenge: params.code_challenge, method: method satisfies PkceMethod };
  }

  const consent: PendingConsent = { params, clientId: client.clientId, redirectUri, scopes, userScopes, pkce };
  const page = (status: number, account: string, error?: string): SandboxResponse =>
    htmlResponse(status, consentPage(spec, consent, raw, lastSegment(request.path), account, error));

  if (request.method !== 'POST' || params.decision === undefined) return page(200, spec.defaultAccount(params));
  if (params.decision === 'deny') {
    return redirectResponse(withQuery(redirectUri, { ...spec.denyParams(), state: params.state }));
  }
  if (params.decision !== 'allow') return page(400, params.account ?? spec.defaultAccount(params), 'Choose Allow or Deny.');

  const parsedAccount = spec.parseAccount((params.account ?? spec.defaultAccount(params)).trim());
  if ('problem' in parsedAccount) return page(400, params.account ?? '', parsedAccount.problem);
  const account = parsedAccount.account;
  const accountProblem = spec.accountProblem?.(account);
  if (accountProblem) return page(400, account, accountProblem);

  const granted = spec.grantedScopes?.(scopes, account, client.clientId, params) ?? scopes;
  const rawCode = spec.newCode();
  const code: Omit<CodeRecord, 'issuedAt' | 'expiresAt'> = {
    provider: spec.provider,
    clientId: client.clientId,
    redirectUri,
    scopes: granted,
    userScopes,
    ...(pkce ? { pkce } : {}),
    account,
    ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
    offline: spec.offline(params, granted),
    ...(params.nonce !== undefined ? { nonce: params.nonce } : {}),
  };
  store.saveCode(rawCode, code, CODE_TTL_SECONDS);
  const saved: CodeRecord = { ...code, issuedAt: store.now(), expiresAt: store.now() + CODE_TTL_SECONDS * 1000 };
  return redirectResponse(withQuery(redirectUri, { code: rawCode, state: params.state, ...spec.successParams?.(saved) }));
}

function consentPage(
  spec: AuthorizeSpec,
  consent: PendingConsent,
  raw: Record<string, string>,
  action: string,
  account: string,
  error: string | undefined,
): string {
  const groups: ScopeGroup[] = spec.userScopes
    ? [
        { title: 'Bot permissions (scope)', scopes: consent.scopes },
        { title: 'User permissions (user_scope)', scopes: consent.userScopes },
      ]
    : [{ title: 'Requested permissions (scope)', scopes: consent.scopes }];
  return renderConsentPage({
    providerName: spec.providerName,
    action,
    hidden: raw,
    scopeGroups: groups,
    clientId: consent.clientId,
    redirectUri: consent.redirectUri,
    accountLabel: spec.accountLabel,
    account,
    ...(error !== undefined ? { error } : {}),
  });
}

// --- token endpoint: redeeming a code ---

export type CodeCheck =
  | { ok: true; key: string; code: CodeRecord }
  | {
      ok: false;
      reason: 'missing_code' | 'invalid_code' | 'redirect_mismatch' | 'missing_verifier' | 'bad_verifier';
      /** For `invalid_code`: unknown (or another client's), already used, or expired. */
      detail?: 'unknown' | 'used' | 'expired';
    };

/**
 * Checks a code redemption. The code is not consumed here: the caller marks it
 * used once the exchange succeeds (a failed attempt leaves it redeemable until
 * it expires).
 */
export function checkCode(
  store: SandboxStore,
  provider: ProviderId,
  clientId: string,
  input: { code?: string | undefined; redirectUri?: string | undefined; codeVerifier?: string | undefined },
): CodeCheck {
  if (!input.code) return { ok: false, reason: 'missing_code' };
  const found = store.findCode(provider, input.code);
  if (found.status !== 'ok') return { ok: false, reason: 'invalid_code', detail: found.status };
  if (found.code.clientId !== clientId) return { ok: false, reason: 'invalid_code', detail: 'unknown' };
  if (input.redirectUri !== found.code.redirectUri) return { ok: false, reason: 'redirect_mismatch' };
  const pkce = found.code.pkce;
  if (pkce) {
    if (!input.codeVerifier) return { ok: false, reason: 'missing_verifier' };
    if (!pkceMatches(input.codeVerifier, pkce.challenge, pkce.method)) return { ok: false, reason: 'bad_verifier' };
  }
  return { ok: true, key: found.key, code: found.code };
}
