import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { forbidden, unauthorized } from '../domain/errors';
import { roles, type Role } from './rbac';

/**
 * The caller, from the claims the API Gateway JWT authorizer (or the local
 * runtime standing in for it) verified. The organisation comes only from here,
 * never from a body or a query.
 */
export interface Principal {
  userId: string;
  orgId: string;
  role: Role;
}

/** Org ids become part of DynamoDB keys, so `#` and other separators are refused. */
export const orgIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);

const claimsSchema = z.object({
  sub: z.string().min(1).max(256),
  org_id: orgIdSchema,
  role: z.string().min(1),
});

const isRole = (role: string): role is Role => (roles as readonly string[]).includes(role);

interface JwtAuthorizerContext {
  jwt?: { claims?: Record<string, unknown> };
}

export function principalFromEvent(event: APIGatewayProxyEventV2): Principal {
  const authorizer = (event.requestContext as { authorizer?: JwtAuthorizerContext }).authorizer;
  const parsed = claimsSchema.safeParse(authorizer?.jwt?.claims);
  if (!parsed.success) {
    throw unauthorized('The token is missing the sub, org_id or role claim, or one of them is invalid');
  }
  const { sub, org_id: orgId, role } = parsed.data;
  // An authenticated caller with a role we do not know has no permissions: 403, not 401.
  if (!isRole(role)) throw forbidden(`The role '${role.slice(0, 32)}' has no permissions here`);
  return { userId: sub, orgId, role };
}
