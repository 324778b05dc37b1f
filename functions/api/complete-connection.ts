import * as z from 'zod';
import { completeConnection, completedConnectionSchema } from '../../shared/domain/completion';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { pendingGrantIdParam } from '../../shared/http/params';

/**
 * POST /api/integrations/connect/complete `{pending}` — the user who started
 * the flow, in the same organisation, turns the pending grant into an
 * integration: `{integrationId, providerId, status: connected|reconnected, redirectTo}`.
 * Anyone else gets a 404 and the grant is revoked.
 */
export const handler = apiHandler({
  permission: 'integrations:connect',
  body: z.object({ pending: pendingGrantIdParam }).strict(),
  responses: { 200: completedConnectionSchema },
  errors: [404, 409, 503],
  handle: async ({ principal, body }) => success(await completeConnection(principal, body.pending)),
});
