import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { registerEndpoint, registerEndpointSchema, registeredEndpointSchema } from '../../shared/outgoing/endpoints';

/** POST /api/integrations/event-endpoints — registers an outgoing webhook endpoint; the answer shows its signing secret, once. */
export const handler = apiHandler({
  permission: 'integrations:event-endpoints',
  summary: 'Register an outgoing webhook endpoint (the signing secret is in this answer only)',
  body: registerEndpointSchema,
  responses: { 201: registeredEndpointSchema },
  errors: [409],
  handle: async ({ principal, body }) => success(await registerEndpoint(principal.orgId, body), 201),
});
