import * as z from 'zod';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { endpointIdSchema, removeEndpoint } from '../../shared/outgoing/endpoints';

/** DELETE /api/integrations/event-endpoints/{endpointId} — nothing more is sent to it. */
export const handler = apiHandler({
  permission: 'integrations:event-endpoints',
  summary: 'Delete an outgoing webhook endpoint',
  params: z.object({ endpointId: endpointIdSchema }),
  responses: { 200: z.null() },
  errors: [404],
  handle: async ({ principal, params }) => {
    await removeEndpoint(principal.orgId, params.endpointId);
    return success(null);
  },
});
