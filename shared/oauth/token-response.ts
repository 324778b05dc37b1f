import * as z from 'zod';

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
