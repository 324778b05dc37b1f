import { SignJWT, jwtVerify } from 'jose';

/**
 * Local stand-in for the API Gateway JWT authorizer: HS256 tokens signed with
 * LOCAL_JWT_SECRET. Like the authorizer, it checks signature, algorithm,
 * issuer, audience and expiry, and hands the claims on; the handlers check
 * that `sub`, `org_id` and `role` are there.
 */
export const LOCAL_ISSUER = 'urn:hr-integrations:local';
export const LOCAL_AUDIENCE = 'hr-integrations';

const keyOf = (secret: string) => new TextEncoder().encode(secret);

export interface MintOptions {
  orgId: string;
  role: string;
  sub: string;
  ttlSeconds: number;
}

export async function mintLocalToken(secret: string, options: MintOptions): Promise<string> {
  return new SignJWT({ org_id: options.orgId, role: options.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds}s`)
    .sign(keyOf(secret));
}

/** The verified claims, or undefined for a missing, malformed, forged, expired or `alg: none` token. */
export async function verifyLocalToken(secret: string, authorization: string | undefined) {
  const match = /^Bearer\s+([A-Za-z0-9._-]+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  try {
    const { payload } = await jwtVerify(match[1], keyOf(secret), {
      algorithms: ['HS256'],
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      requiredClaims: ['exp'],
    });
    return payload;
  } catch {
    return undefined;
  }
}
