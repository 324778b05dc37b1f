import * as z from 'zod';
import { authorizationStartSchema, startConnection } from '../../shared/domain/connect';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** POST /api/integrations/connect — starts OAuth: `{url, state}` to send the browser to. */
export const handler = apiHandler({
  permission: 'integrations:connect',
  body: z.object({
    providerId: z.string().min(1).max(64),
    scopes: z.array(z.string().min(1).max(256)).min(1).max(64).optional(),
    redirectTo: z.string().max(2048).optional(),
  }),
  responses: { 200: authorizationStartSchema },
  handle: async ({ principal, body }) =>
    success(
      await startConnection({
        caller: principal,
        providerId: body.providerId,
        ...(body.scopes ? { scopes: body.scopes } : {}),
        ...(body.redirectTo ? { redirectTo: body.redirectTo } : {}),
      }),
    ),
});
