/** What a provider's OAuth module does; one implementation per provider folder. */

/** Client credentials and endpoints in force: the real provider, or the local sandbox. */
export interface OAuthClient {
  providerId: string;
  clientId: string;
  clientSecret: string;
  /** Named base URLs (e.g. `slack`, `oauth2`, `graph`); paths after them are the provider's own. */
  hosts: Readonly<Record<string, string>>;
  sandbox: boolean;
}

/** One stored credential. Slack has two (bot and user), each with its own expiry and refresh token. */
export interface Credential {
  kind: string;
  accessToken: string;
  refreshToken?: string;
  /** ISO time; absent when the provider says the token does not expire. */
  expiresAt?: string;
  scopes: string[];
}

export interface ConnectedAccount {
  /** The external account an integration is unique by (Slack team, Google user, Microsoft tenant+user). */
  id: string;
  name?: string;
  /** Provider-side identifiers kept for routing and display (team id, tenant id, user id, email). */
  attributes: Record<string, string>;
}

export interface GrantResult {
  account: ConnectedAccount;
  scopesGranted: string[];
  credentials: Credential[];
}

export interface AuthorizeRequest {
  client: OAuthClient;
  redirectUri: string;
  state: string;
  scopes: string[];
  codeChallenge?: string;
}

export interface ProviderOAuth {
  /** Whether the provider takes PKCE (S256). */
  pkce: boolean;
  /**
   * A new consent by the same account joins the provider's one authorization
   * for this client (Google), so the tokens a reconnect supersedes must not be
   * revoked: that would revoke the new ones too.
   */
  reconnectJoinsGrant?: boolean;
  /** Real endpoints; the sandbox serves each host under `/sandbox/<provider>/<host>`. */
  hosts: Readonly<Record<string, string>>;
  /** Environment variables holding the client credentials. */
  credentialEnv: { clientId: string; clientSecret: string };
  authorizeUrl(request: AuthorizeRequest): string;
  exchangeCode(input: { client: OAuthClient; code: string; redirectUri: string; codeVerifier?: string }): Promise<GrantResult>;
  /** Returns the refreshed credential as the provider sent it; the caller merges it with what is stored. */
  refresh(input: { client: OAuthClient; credential: Credential }): Promise<Credential>;
  /** Revokes at the provider what can be revoked; a no-op where the provider has no revocation. */
  revoke(input: { client: OAuthClient; credentials: Credential[] }): Promise<void>;
}
