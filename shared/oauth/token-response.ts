import * as z from 'zod';
import { MalformedProviderResponseError, grantError } from './errors';
import { expiresAtFrom, formBody, providerFetch } from './http';
import type { Credential, OAuthClient } from './types';

/** The RFC 6749 token response and error shapes Google and Microsoft share. */
export const oauthTokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.coerce.number().int().positive().optional(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
  id_token: z.string().optional(),
});

export const oauthErrorResponse = z.object({ error: z.string().min(1), error_description: z.string().optional() });

/** Claims of an id_token received directly from the token endpoint over TLS (OIDC Core 3.1.3.7: no signature check needed). */
export function idTokenClaims(idToken: string | undefined): Record<string, unknown> {
  const payload = idToken?.split('.')[1];
  if (!payload) return {};
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export const splitSpaceScopes = (scope: string | undefined): string[] => (scope ?? '').split(' ').filter(Boolean);

export type OAuthTokenResponse = z.infer<typeof oauthTokenResponse>;

/** An RFC 6749 token endpoint call (client secret in the form): a non-200 is a grant error with the provider's code. */
export async function tokenEndpointCall(
  providerId: string,
  url: string,
  client: OAuthClient,
  fields: Record<string, string | undefined>,
): Promise<OAuthTokenResponse> {
  const response = await providerFetch(providerId, url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody({ ...fields, client_id: client.clientId, client_secret: client.clientSecret }),
  });
  if (response.status !== 200) {
    const error = oauthErrorResponse.safeParse(response.json);
    throw grantError(providerId, error.success ? error.data.error : `http_${response.status}`, response.status);
  }
  const parsed = oauthTokenResponse.safeParse(response.json);
  if (!parsed.success) throw new MalformedProviderResponseError(providerId, 'token response');
  return parsed.data;
}

/** The credential a token response carries; without `expires_in` an hour is assumed rather than "never". */
export function credentialFrom(kind: string, token: OAuthTokenResponse, fallbackScopes: string[]): Credential {
  return {
    kind,
    accessToken: token.access_token,
    ...(token.refresh_token ? { refreshToken: token.refresh_token } : {}),
    expiresAt: expiresAtFrom(token.expires_in ?? 3600),
    scopes: token.scope ? splitSpaceScopes(token.scope) : fallbackScopes,
  };
}
