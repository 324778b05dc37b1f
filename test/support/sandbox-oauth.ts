import { expect } from 'vitest';
import * as z from 'zod';
import { SANDBOX_CLIENTS } from '../../infra/local/sandbox';

/**
 * The sandbox providers' OAuth flow over real HTTP, as the integration tests
 * run it: authorize → POST the consent form with `decision=allow` → exchange
 * the code at the token endpoint. Plus the small fetch helpers those tests
 * share (form and JSON posts, the `/_control` API, JSON bodies).
 */

export type SandboxProvider = 'slack' | 'google' | 'microsoft';

/** Parameters to add, replace, or (with `undefined`) leave out. */
export type ParamOverrides = Record<string, string | undefined>;

// RFC 7636 Appendix B.
export const PKCE_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
export const PKCE_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

export const SANDBOX_REDIRECT = 'https://app.test/integrations/callback';

export const AUTHORIZE_PATH: Record<SandboxProvider, string> = {
  slack: '/slack/slack/oauth/v2/authorize',
  google: '/google/accounts/o/oauth2/v2/auth',
  microsoft: '/microsoft/login/common/oauth2/v2.0/authorize',
};
export const TOKEN_PATH: Record<SandboxProvider, string> = {
  slack: '/slack/slack/api/oauth.v2.access',
  google: '/google/oauth2/token',
  microsoft: '/microsoft/login/common/oauth2/v2.0/token',
};

export const jsonObject = z.record(z.string(), z.unknown());
export type Json = z.infer<typeof jsonObject>;
export const str = (value: unknown): string => z.string().parse(value);

export async function json(response: Response): Promise<Json> {
  return jsonObject.parse(await response.json());
}

/** Polls `predicate` every 5 ms until it holds, or throws after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function defined(params: ParamOverrides): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

export interface SandboxOAuthOptions {
  /** The sandbox server's URL, read at every call (tests may point it elsewhere for a while). */
  base: () => string;
  /** `redirect_uri` of authorize and exchange; SANDBOX_REDIRECT unless given. */
  redirectUri?: string;
  /** The default `scope` of each provider's authorize request. */
  scopes?: Partial<Record<SandboxProvider, string>>;
  /** The default `state`; 'state-123' unless given. */
  state?: string;
  /** Send the PKCE challenge and verifier (default true). */
  pkce?: boolean;
  /** More authorize parameters per provider (e.g. Google's `access_type`). */
  extraAuthorizeParams?: Partial<Record<SandboxProvider, Record<string, string>>>;
}

export interface SandboxOAuth {
  authorizeParams(provider: SandboxProvider, overrides?: ParamOverrides): Record<string, string>;
  exchangeParams(provider: SandboxProvider, code: string, overrides?: ParamOverrides): Record<string, string>;
  /** A form POST (redirects not followed). */
  post(path: string, params: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  /** A JSON POST (redirects not followed). */
  postJson(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Submits the consent form (as a browser would); expects a 302 and returns its target. */
  decide(provider: SandboxProvider, params: Record<string, string>, decision: 'allow' | 'deny', account?: string): Promise<URL>;
  /** Allows on the consent form; checks the state that comes back and returns the code. */
  authorize(provider: SandboxProvider, overrides?: ParamOverrides, account?: string): Promise<string>;
  /** The code for tokens at the token endpoint. */
  exchange(provider: SandboxProvider, code: string, overrides?: ParamOverrides): Promise<Response>;
  /** authorize + exchange; expects a 200 and returns the token response. */
  connect(provider: SandboxProvider, overrides?: ParamOverrides, account?: string): Promise<Json>;
  /** A call to the sandbox's `/_control` API. */
  control(method: string, path: string, body?: unknown): Promise<Response>;
}

export function sandboxOAuth(options: SandboxOAuthOptions): SandboxOAuth {
  const redirectUri = options.redirectUri ?? SANDBOX_REDIRECT;
  const defaultState = options.state ?? 'state-123';
  const pkce = options.pkce ?? true;

  const authorizeParams = (provider: SandboxProvider, overrides: ParamOverrides = {}): Record<string, string> =>
    defined({
      client_id: SANDBOX_CLIENTS[provider].clientId,
      redirect_uri: redirectUri,
      scope: options.scopes?.[provider],
      state: defaultState,
      ...(pkce ? { code_challenge: PKCE_CHALLENGE, code_challenge_method: 'S256' } : {}),
      ...(provider === 'slack' ? {} : { response_type: 'code' }),
      ...options.extraAuthorizeParams?.[provider],
      ...overrides,
    });

  const exchangeParams = (provider: SandboxProvider, code: string, overrides: ParamOverrides = {}): Record<string, string> =>
    defined({
      ...(provider === 'slack' ? {} : { grant_type: 'authorization_code' }),
      code,
      redirect_uri: redirectUri,
      ...(pkce ? { code_verifier: PKCE_VERIFIER } : {}),
      client_id: SANDBOX_CLIENTS[provider].clientId,
      client_secret: SANDBOX_CLIENTS[provider].clientSecret,
      ...overrides,
    });

  const post = (path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${options.base()}${path}`, { method: 'POST', body: new URLSearchParams(params), headers, redirect: 'manual' });

  const postJson = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${options.base()}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
      redirect: 'manual',
    });

  const decide = async (provider: SandboxProvider, params: Record<string, string>, decision: 'allow' | 'deny', account?: string): Promise<URL> => {
    const response = await post(AUTHORIZE_PATH[provider], { ...params, decision, ...(account ? { account } : {}) });
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location') ?? '');
  };

  const authorize = async (provider: SandboxProvider, overrides: ParamOverrides = {}, account?: string): Promise<string> => {
    const location = await decide(provider, authorizeParams(provider, overrides), 'allow', account);
    expect(location.searchParams.get('state')).toBe(overrides.state ?? defaultState);
    const code = location.searchParams.get('code');
    expect(code).toBeTruthy();
    return code ?? '';
  };

  const exchange = (provider: SandboxProvider, code: string, overrides: ParamOverrides = {}): Promise<Response> =>
    post(TOKEN_PATH[provider], exchangeParams(provider, code, overrides));

  const connect = async (provider: SandboxProvider, overrides: ParamOverrides = {}, account?: string): Promise<Json> => {
    const response = await exchange(provider, await authorize(provider, overrides, account));
    expect(response.status).toBe(200);
    return json(response);
  };

  const control = (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${options.base()}/_control${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });

  return { authorizeParams, exchangeParams, post, postJson, decide, authorize, exchange, connect, control };
}
