import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/domain/errors';
import { orgIdSchema, principalFromEvent } from '../../shared/http/principal';
import { can, permissions, roles, type Permission, type Role } from '../../shared/http/rbac';
import { httpApiEvent, type JwtClaims } from '../../infra/local/lambda-events';

/**
 * Who may do what: the role matrix of the README, cell by cell, and the
 * principal as it is read from the JWT authorizer's claims.
 */
describe('the role matrix', () => {
  it('knows exactly the four documented roles and nine permissions', () => {
    expect(roles).toEqual(['admin', 'hr', 'manager', 'employee']);
    expect(permissions).toEqual([
      'integrations:read',
      'integrations:connect',
      'integrations:disconnect',
      'integrations:sync',
      'integrations:configure',
      'integrations:export',
      'integrations:erase',
      'integrations:act',
      'integrations:event-endpoints',
    ]);
  });

  const expected: Record<Role, Permission[]> = {
    admin: [...permissions],
    // Outgoing webhook endpoints are admin only (shared/http/rbac.ts).
    hr: permissions.filter((permission) => permission !== 'integrations:event-endpoints'),
    manager: ['integrations:read'],
    employee: [],
  };

  it.each(roles.flatMap((role) => permissions.map((permission) => [role, permission] as const)))('%s / %s', (role, permission) => {
    expect(can(role, permission)).toBe(expected[role].includes(permission));
  });
});

function eventWith(claims: JwtClaims | undefined) {
  return httpApiEvent(
    { method: 'GET', rawPath: '/api/integrations', rawQueryString: '', headers: {}, body: Buffer.alloc(0), sourceIp: '203.0.113.9' },
    { routeKey: 'GET /api/integrations', ...(claims ? { claims } : {}) },
  );
}

function failureOf(claims: JwtClaims | undefined): AppError {
  try {
    principalFromEvent(eventWith(claims));
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('principalFromEvent accepted the claims');
}

const UNAUTHORIZED = { status: 401, code: 'unauthorized', message: 'The token is missing the sub, org_id or role claim, or one of them is invalid' };

describe('the principal', () => {
  it('is read from the claims, the organisation from org_id', () => {
    expect(principalFromEvent(eventWith({ sub: 'user-7', org_id: 'acme', role: 'hr', extra: 'ignored' }))).toEqual({ userId: 'user-7', orgId: 'acme', role: 'hr' });
  });

  it.each([
    ['no authorizer at all', undefined],
    ['no sub', { org_id: 'acme', role: 'admin' }],
    ['an empty sub', { sub: '', org_id: 'acme', role: 'admin' }],
    ['a 257-character sub', { sub: 'u'.repeat(257), org_id: 'acme', role: 'admin' }],
    ['no org_id', { sub: 'u', role: 'admin' }],
    ['no role', { sub: 'u', org_id: 'acme' }],
    ['an empty role', { sub: 'u', org_id: 'acme', role: '' }],
  ])('is a 401 with %s', (_label, claims) => {
    expect(failureOf(claims)).toMatchObject(UNAUTHORIZED);
  });

  it('is a 401 when the authorizer passes no claims object', () => {
    const event = eventWith(undefined);
    Object.assign(event.requestContext, { authorizer: { jwt: {} } });
    expect(() => principalFromEvent(event)).toThrow(UNAUTHORIZED.message);
    Object.assign(event.requestContext, { authorizer: {} });
    expect(() => principalFromEvent(event)).toThrow(UNAUTHORIZED.message);
  });

  it('accepts subs of 1, 2 and 256 characters', () => {
    for (const sub of ['u', 'uv', 'u'.repeat(256)]) expect(principalFromEvent(eventWith({ sub, org_id: 'acme', role: 'admin' })).userId).toBe(sub);
  });

  it('sends any non-empty role, even of two characters, on to the role check (403, not 401)', () => {
    expect(failureOf({ sub: 'u', org_id: 'acme', role: 'hx' })).toMatchObject({ status: 403 });
  });

  it('gives an unknown role 403, naming at most 32 characters of it', () => {
    expect(failureOf({ sub: 'u', org_id: 'acme', role: 'contractor' })).toMatchObject({
      status: 403,
      code: 'forbidden',
      message: "The role 'contractor' has no permissions here",
    });
    expect(failureOf({ sub: 'u', org_id: 'acme', role: `${'r'.repeat(32)}TAIL` }).message).toBe(`The role '${'r'.repeat(32)}' has no permissions here`);
  });

  it.each(roles)('accepts the role %s', (role) => {
    expect(principalFromEvent(eventWith({ sub: 'u', org_id: 'acme', role })).role).toBe(role);
  });
});

describe('organisation ids (they become part of DynamoDB keys)', () => {
  it.each(['a', 'AZaz09._:-', 'Z', 'z9', 'o'.repeat(128), 'tenant:acme.eu-1_x'])('accepts %s', (orgId) => {
    expect(orgIdSchema.safeParse(orgId).success).toBe(true);
    expect(principalFromEvent(eventWith({ sub: 'u', org_id: orgId, role: 'admin' })).orgId).toBe(orgId);
  });

  it.each(['', 'o'.repeat(129), 'acme#TOKENS', '#acme', 'acme#', 'ac me', 'acme/x', 'acme\n', '\nacme', 'é', 'acme*', '[acme]', '^', '$'])(
    'refuses %j',
    (orgId) => {
      expect(orgIdSchema.safeParse(orgId).success).toBe(false);
      expect(failureOf({ sub: 'u', org_id: orgId, role: 'admin' })).toMatchObject(UNAUTHORIZED);
    },
  );

  it('accepts every character of the allowed set, one at a time', () => {
    for (const char of 'ABCMXYZabcmxyz0123456789._:-') expect(orgIdSchema.safeParse(char).success, char).toBe(true);
  });
});
