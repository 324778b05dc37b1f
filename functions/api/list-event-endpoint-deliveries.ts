import * as z from 'zod';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/http/params';
import { attemptPageSchema, deliveriesOf, endpointIdSchema } from '../../shared/outgoing/endpoints';

/** GET /api/integrations/event-endpoints/{endpointId}/deliveries?cursor=&limit= — every attempt, newest first. */
export const handler = apiHandler({
  permission: 'integrations:event-endpoints',
  summary: "An outgoing webhook endpoint's delivery attempts, newest first",
  params: z.object({ endpointId: endpointIdSchema }),
  query: z.object({ cursor: cursorParam, limit: z.coerce.number().int().min(1).max(100).default(50) }),
  responses: { 200: attemptPageSchema },
  errors: [404],
  handle: async ({ principal, params, query }) => success(await deliveriesOf(principal.orgId, params.endpointId, query.cursor, query.limit)),
});
