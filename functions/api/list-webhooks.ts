import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { webhookStatus, webhookStatusSchema } from '../../shared/domain/webhook-status';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** GET /api/integrations/{id}/webhooks — the integration's push channels and the URL the provider calls. */
export const handler = apiHandler({
  permission: 'integrations:read',
  summary: "The integration's push channels (status, expiry, next renewal, last delivery, failures) and its webhook URL",
  params: z.object({ id: integrationIdSchema }),
  responses: { 200: webhookStatusSchema },
  errors: [404],
  handle: async ({ principal, params }) => success(await webhookStatus(principal.orgId, params.id)),
});
