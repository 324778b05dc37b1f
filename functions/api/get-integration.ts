import * as z from 'zod';
import { integrationIdSchema, integrationViewSchema, toIntegrationView } from '../../shared/domain/integration';
import { requireVisibleIntegration } from '../../shared/domain/lifecycle';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { providerName } from '../../shared/providers/registry';

/** GET /api/integrations/{id} — one integration of the caller's organisation; any other is a 404. */
export const handler = apiHandler({
  permission: 'integrations:read',
  params: z.object({ id: integrationIdSchema }),
  responses: { 200: integrationViewSchema },
  errors: [404],
  handle: async ({ principal, params }) => {
    const record = await requireVisibleIntegration(principal.orgId, params.id);
    return success(toIntegrationView(record, providerName(record.providerId)));
  },
});
