import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { endpointListSchema, endpointsOf } from '../../shared/outgoing/endpoints';

/** GET /api/integrations/event-endpoints — the organisation's outgoing webhook endpoints (never their secrets). */
export const handler = apiHandler({
  permission: 'integrations:event-endpoints',
  summary: "The organisation's outgoing webhook endpoints",
  responses: { 200: endpointListSchema },
  handle: async ({ principal }) => success(await endpointsOf(principal.orgId)),
});
