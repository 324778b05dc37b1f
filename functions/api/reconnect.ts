import * as z from 'zod';
import { authorizationStartSchema, startReconnection } from '../../shared/domain/connect';
import { integrationIdSchema } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** POST /api/integrations/{id}/reconnect — OAuth again for the same provider; the id survives. */
export const handler = apiHandler({
  permission: 'integrations:connect',
  params: z.object({ id: integrationIdSchema }),
  body: z.object({ redirectTo: z.string().max(2048).optional() }),
  responses: { 200: authorizationStartSchema },
  errors: [404],
  handle: async ({ principal, params, body }) => success(await startReconnection(principal, params.id, body.redirectTo)),
});
