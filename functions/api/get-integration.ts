import * as z from 'zod';
import { notFound } from '../../shared/domain/errors';
import { integrationIdSchema, toIntegrationView } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { providerName } from '../../shared/providers/registry';
import { getIntegration } from '../../shared/store/integrations';

/** GET /api/integrations/{id} — one integration of the caller's organisation; any other is a 404. */
export const handler = apiHandler({
  permission: 'integrations:read',
  params: z.object({ id: integrationIdSchema }),
  handle: async ({ principal, params }) => {
    const record = await getIntegration(principal.orgId, params.id);
    // An erased integration is gone for the API, as an unknown one is.
    if (!record || record.status === 'erased') throw notFound('Integration');
    return success(toIntegrationView(record, providerName(record.providerId)));
  },
});
