import * as z from 'zod';
import { disconnectIntegration } from '../../shared/domain/disconnect';
import { integrationIdSchema } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** DELETE /api/integrations/{id} — revoke, drop tokens, keep history; safe to repeat. */
export const handler = apiHandler({
  permission: 'integrations:disconnect',
  params: z.object({ id: integrationIdSchema }),
  responses: { 200: z.null() },
  errors: [404, 409],
  handle: async ({ principal, params }) => {
    await disconnectIntegration(principal, params.id);
    return success(null);
  },
});
