import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { queuedSyncSchema, requestManualSync } from '../../shared/domain/manual-sync';
import { requireVisibleIntegration } from '../../shared/domain/lifecycle';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** POST /api/integrations/{id}/sync — a manual sync, queued: 202 with its sync id (see sync-logs). */
export const handler = apiHandler({
  permission: 'integrations:sync',
  params: z.object({ id: integrationIdSchema }),
  responses: { 202: queuedSyncSchema },
  errors: [404, 409],
  handle: async ({ principal, params }) => {
    const integration = await requireVisibleIntegration(principal.orgId, params.id);
    return success({ ...(await requestManualSync(integration, principal.userId)), status: 'queued' }, 202);
  },
});
