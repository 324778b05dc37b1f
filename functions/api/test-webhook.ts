import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { sendTestDelivery, webhookTestResultSchema } from '../../shared/domain/webhook-status';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** POST /api/integrations/{id}/webhooks/test — a signed test delivery through the provider's real webhook URL. */
export const handler = apiHandler({
  permission: 'integrations:sync',
  summary: 'Sends a self-signed test delivery through the real webhook and answers what the webhook did with it',
  params: z.object({ id: integrationIdSchema }),
  responses: { 200: webhookTestResultSchema },
  errors: [404, 409],
  handle: async ({ principal, params }) => success(await sendTestDelivery(principal.orgId, params.id)),
});
