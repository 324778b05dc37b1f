import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { eraseIntegration, erasureReceiptSchema } from '../../shared/domain/erasure';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** DELETE /api/integrations/{id}/data — erasure: disconnect if needed, hide now, purge after 30 days; answers what and when. */
export const handler = apiHandler({
  permission: 'integrations:erase',
  params: z.object({ id: integrationIdSchema }),
  responses: { 202: erasureReceiptSchema },
  errors: [404, 409],
  handle: async ({ principal, params }) => success(await eraseIntegration(principal, params.id), 202),
});
